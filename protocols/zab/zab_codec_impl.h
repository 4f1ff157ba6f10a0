// Internals of the Zab codec shared by zab_codec.cc (messages) and zab_records.cc (records): the
// kind tags and the Zab framing over core/codec.h's Writer and Reader. Not part of the module's
// interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "core/codec.h"
#include "protocols/codec_support.h"
#include "protocols/zab/zab_messages.h"

namespace lockstep::zab::codec {

enum class Tag : std::uint8_t {
  notification = 0x01,
  follower_info = 0x02,
  new_epoch = 0x03,
  ack_epoch = 0x04,
  diff = 0x05,
  trunc = 0x06,
  snap = 0x07,
  new_leader = 0x08,
  up_to_date = 0x09,
  proposal = 0x0a,
  ack = 0x0b,
  commit = 0x0c,
  ping = 0x0d,
  ping_ack = 0x0e,
  epoch_record = 0x41,
  txns_record = 0x42,
  snapshot_record = 0x43,
};

class Writer : public lockstep::Writer {
 public:
  using lockstep::Writer::Writer;

  // Out of line (zab_codec.cc): inlined into an encode() of a fresh buffer, GCC 12 at -O3 warns
  // falsely (-Warray-bounds) about the appends that follow.
  void header(Tag tag);
  void zxid(Zxid z) {
    u64(z.epoch.value);
    u64(z.counter);
  }
  void txn(const Txn& t) {
    zxid(t.zxid);
    bytes(t.data);
  }
  void txns(History::const_iterator first, History::const_iterator last) {
    u32(static_cast<std::uint32_t>(last - first));
    for (auto it = first; it != last; ++it) txn(*it);
  }
};

// The shared protocol Reader (protocols/codec_support.h) plus the Zab vocabulary: epochs,
// counters and positions, transactions and runs.
class Reader : public protocol_codec::Reader<kMaxWireValue> {
 public:
  using protocol_codec::Reader<kMaxWireValue>::Reader;

  Epoch epoch() { return Epoch{bounded()}; }
  Position position() { return Position{bounded()}; }
  Zxid zxid() {
    Zxid z;
    z.epoch = epoch();
    z.counter = bounded();
    return z;
  }
  ServerState state() {
    const std::uint8_t s = u8();
    if (s > static_cast<std::uint8_t>(ServerState::leading)) fail();
    return static_cast<ServerState>(s);
  }
  // Transactions strictly increasing in zxid, each above `floor`.
  std::vector<Txn> txns(Zxid floor) {
    const std::uint32_t n = count(20);
    std::vector<Txn> out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n && ok(); ++i) {
      Txn t;
      t.zxid = zxid();
      t.data = owned_bytes();
      if (!(floor < t.zxid)) fail();
      floor = t.zxid;
      out.push_back(std::move(t));
    }
    return out;
  }
  // Runs ascending in position and zxid, each well formed.
  std::vector<EpochRun> runs() {
    const std::uint32_t n = count(32);
    if (n > kSummaryRunsMax) fail();
    std::vector<EpochRun> out;
    out.reserve(ok() ? n : 0);
    for (std::uint32_t i = 0; i < n && ok(); ++i) {
      EpochRun r;
      r.epoch = epoch();
      r.first_counter = bounded();
      r.last_counter = bounded();
      r.first = position();
      if (r.last_counter < r.first_counter || r.first.value == 0) fail();
      if (!out.empty() && (out.back().last() >= r.first ||
                           Zxid{out.back().epoch, out.back().last_counter} >=
                               Zxid{r.epoch, r.first_counter})) {
        fail();
      }
      out.push_back(r);
    }
    return out;
  }
};

using protocol_codec::finish;

inline bool same_txns(const std::vector<Txn>& a, const std::vector<Txn>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].zxid != b[i].zxid || a[i].data != b[i].data) return false;
  }
  return true;
}

}  // namespace lockstep::zab::codec
