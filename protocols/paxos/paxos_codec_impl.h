// Internals of the Paxos codec shared by paxos_codec.cc and the entry-range encoders in
// paxos_messages.h. Not part of the module's interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "core/bytes.h"
#include "core/codec.h"
#include "protocols/paxos/paxos_types.h"

namespace lockstep::paxos::codec {

// Kind tags. Records use a disjoint range so that a record never decodes as a message.
enum class Tag : std::uint8_t {
  prepare = 0x01,
  promise = 0x02,
  nack = 0x03,
  accept = 0x04,
  accepted = 0x05,
  heartbeat = 0x06,
  snapshot = 0x07,
  timeout_now = 0x08,
  promise_record = 0x41,
  accept_record = 0x42,
  chosen_record = 0x43,
  snapshot_record = 0x44,
  proposer_record = 0x45,
};

// The shared little-endian Writer (core/codec.h) plus the Paxos framing: a version and kind
// header, ballots and values.
class Writer : public lockstep::Writer {
 public:
  using lockstep::Writer::Writer;

  void header(Tag tag);
  void ballot(Ballot b) {
    u64(b.round);
    u32(b.node.value);
  }
  void value(ValueKind kind, ByteView data) {
    u8(static_cast<std::uint8_t>(kind));
    bytes(data);
  }
};

}  // namespace lockstep::paxos::codec

namespace lockstep::paxos {

template <typename EntryIt>
void encode_accept_to(Bytes& out, Ballot ballot, Slot first, Slot commit, std::uint64_t round,
                      EntryIt begin, EntryIt end) {
  codec::Writer w(out);
  w.header(codec::Tag::accept);
  w.ballot(ballot);
  w.u64(first.value);
  w.u64(commit.value);
  w.u64(round);
  w.u32(static_cast<std::uint32_t>(std::distance(begin, end)));
  for (EntryIt it = begin; it != end; ++it) w.value(it->kind, it->data);
}

template <typename EntryIt>
void encode_accept_record_to(Bytes& out, Ballot ballot, Slot first, EntryIt begin, EntryIt end) {
  codec::Writer w(out);
  w.header(codec::Tag::accept_record);
  w.ballot(ballot);
  w.u64(first.value);
  w.u32(static_cast<std::uint32_t>(std::distance(begin, end)));
  for (EntryIt it = begin; it != end; ++it) w.value(it->kind, it->data);
}

}  // namespace lockstep::paxos
