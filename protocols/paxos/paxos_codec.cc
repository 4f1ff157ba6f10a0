// Binary codec for Multi-Paxos messages and records (format in paxos_messages.h).
#include <type_traits>

#include "protocols/codec_support.h"
#include "protocols/paxos/paxos_messages.h"

namespace lockstep::paxos {

namespace codec {

void Writer::header(Tag tag) {
  u8(kFormatVersion);
  u8(static_cast<std::uint8_t>(tag));
}

namespace {

// Bytes the smallest value takes (kind + length), and the smallest promised entry.
constexpr std::size_t kMinValueBytes = 1 + 4;
constexpr std::size_t kMinPromisedEntryBytes = 8 + 12 + kMinValueBytes;

// The shared protocol Reader (protocols/codec_support.h) plus the Paxos vocabulary: rounds and
// slots, values whose kind and data agree.
class Reader : public protocol_codec::Reader<kMaxWireValue> {
 public:
  using protocol_codec::Reader<kMaxWireValue>::Reader;

  Slot slot() { return Slot{bounded()}; }
  // Slot 0 is the empty prefix: never a slot that holds a value.
  Slot positive_slot() {
    const Slot s = slot();
    if (s.value == 0) fail();
    return s;
  }
  Ballot ballot() {
    Ballot b;
    b.round = bounded();
    b.node = NodeId{u32()};
    return b;
  }
  Ballot positive_ballot() {
    const Ballot b = ballot();
    if (b.is_zero()) fail();
    return b;
  }
  Value value() {
    Value v;
    const std::uint8_t kind = u8();
    if (kind != static_cast<std::uint8_t>(ValueKind::command) &&
        kind != static_cast<std::uint8_t>(ValueKind::noop)) {
      fail();
    }
    v.kind = static_cast<ValueKind>(kind);
    v.data = owned_bytes();
    if (v.kind == ValueKind::noop && !v.data.empty()) fail();
    return v;
  }
  // `first` + count must stay below kMaxWireValue.
  std::vector<Value> values(Slot first) {
    const std::uint32_t n = count(kMinValueBytes);
    if (first.value + n >= kMaxWireValue) fail();
    std::vector<Value> out;
    if (!ok()) return out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n && ok(); ++i) out.push_back(value());
    return out;
  }
  // Strictly ascending slots, each at least `first`, each with a real ballot.
  std::vector<PromisedEntry> promised_entries(Slot first) {
    const std::uint32_t n = count(kMinPromisedEntryBytes);
    std::vector<PromisedEntry> out;
    if (!ok()) return out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n && ok(); ++i) {
      PromisedEntry e;
      e.slot = positive_slot();
      e.ballot = positive_ballot();
      e.value = value();
      if (e.slot < first || (!out.empty() && !(out.back().slot < e.slot))) fail();
      out.push_back(std::move(e));
    }
    return out;
  }
};

using protocol_codec::finish;
using protocol_codec::write_optional_node;

void write_values(Writer& w, const std::vector<Value>& values) {
  w.u32(static_cast<std::uint32_t>(values.size()));
  for (const Value& v : values) w.value(v.kind, v.data);
}

}  // namespace
}  // namespace codec

using codec::Tag;

Bytes encode(const PaxosMessage& message) {
  Bytes out;
  encode_to(out, message);
  return out;
}

void encode_to(Bytes& out, const PaxosMessage& message) {
  codec::Writer w(out);
  std::visit(
      [&w](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Prepare>) {
          w.header(Tag::prepare);
          w.ballot(m.ballot);
          w.u64(m.first.value);
          w.boolean(m.transfer);
        } else if constexpr (std::is_same_v<M, Promise>) {
          w.header(Tag::promise);
          w.ballot(m.ballot);
          w.u64(m.first.value);
          w.u64(m.commit.value);
          w.u64(m.snapshot.value);
          w.u32(static_cast<std::uint32_t>(m.entries.size()));
          for (const PromisedEntry& e : m.entries) {
            w.u64(e.slot.value);
            w.ballot(e.ballot);
            w.value(e.value.kind, e.value.data);
          }
        } else if constexpr (std::is_same_v<M, Nack>) {
          w.header(Tag::nack);
          w.ballot(m.ballot);
          w.ballot(m.promised);
          codec::write_optional_node(w, m.leader);
          w.boolean(m.lease_refused);
        } else if constexpr (std::is_same_v<M, Accept>) {
          w.header(Tag::accept);
          w.ballot(m.ballot);
          w.u64(m.first.value);
          w.u64(m.commit.value);
          w.u64(m.round);
          codec::write_values(w, m.values);
        } else if constexpr (std::is_same_v<M, Accepted>) {
          w.header(Tag::accepted);
          w.ballot(m.ballot);
          w.u64(m.first.value);
          w.boolean(m.accepted);
          w.u64(m.match.value);
          w.u64(m.commit.value);
          w.u64(m.round);
        } else if constexpr (std::is_same_v<M, Heartbeat>) {
          w.header(Tag::heartbeat);
          w.ballot(m.ballot);
          w.u64(m.commit.value);
          w.u64(m.round);
        } else if constexpr (std::is_same_v<M, SnapshotMessage>) {
          w.header(Tag::snapshot);
          w.ballot(m.ballot);
          w.u64(m.index.value);
          w.bytes(m.data);
          w.u64(m.round);
          w.boolean(m.from_leader);
        } else {
          static_assert(std::is_same_v<M, TimeoutNow>);
          w.header(Tag::timeout_now);
          w.ballot(m.ballot);
        }
      },
      message);
}

std::optional<PaxosMessage> decode_message(ByteView bytes) {
  codec::Reader r(bytes);
  const auto tag = protocol_codec::read_header<Tag>(r, kFormatVersion);
  if (!tag) return std::nullopt;
  switch (*tag) {
    case Tag::prepare: {
      Prepare m;
      m.ballot = r.positive_ballot();
      m.first = r.positive_slot();
      m.transfer = r.boolean();
      return codec::finish<PaxosMessage>(r, m);
    }
    case Tag::promise: {
      Promise m;
      m.ballot = r.positive_ballot();
      m.first = r.positive_slot();
      m.commit = r.slot();
      m.snapshot = r.slot();
      if (m.snapshot > m.commit) return std::nullopt;  // a snapshot holds only chosen slots
      m.entries = r.promised_entries(m.first);
      return codec::finish<PaxosMessage>(r, std::move(m));
    }
    case Tag::nack: {
      Nack m;
      m.ballot = r.positive_ballot();
      m.promised = r.ballot();
      m.leader = r.optional_node();
      m.lease_refused = r.boolean();
      return codec::finish<PaxosMessage>(r, m);
    }
    case Tag::accept: {
      Accept m;
      m.ballot = r.positive_ballot();
      m.first = r.positive_slot();
      m.commit = r.slot();
      m.round = r.u64();
      m.values = r.values(m.first);
      return codec::finish<PaxosMessage>(r, std::move(m));
    }
    case Tag::accepted: {
      Accepted m;
      m.ballot = r.positive_ballot();
      m.first = r.slot();
      m.accepted = r.boolean();
      m.match = r.slot();
      m.commit = r.slot();
      m.round = r.u64();
      if (m.commit > m.match) return std::nullopt;  // what is chosen at the acceptor counts
      return codec::finish<PaxosMessage>(r, m);
    }
    case Tag::heartbeat: {
      Heartbeat m;
      m.ballot = r.positive_ballot();
      m.commit = r.slot();
      m.round = r.u64();
      return codec::finish<PaxosMessage>(r, m);
    }
    case Tag::snapshot: {
      SnapshotMessage m;
      m.ballot = r.ballot();
      m.index = r.positive_slot();
      m.data = r.owned_bytes();
      m.round = r.u64();
      m.from_leader = r.boolean();
      if (m.from_leader && m.ballot.is_zero()) return std::nullopt;
      return codec::finish<PaxosMessage>(r, std::move(m));
    }
    case Tag::timeout_now: {
      TimeoutNow m;
      m.ballot = r.positive_ballot();
      return codec::finish<PaxosMessage>(r, m);
    }
    default:
      return std::nullopt;
  }
}

Bytes encode(const PaxosRecord& record) {
  Bytes out;
  encode_to(out, record);
  return out;
}

void encode_to(Bytes& out, const PaxosRecord& record) {
  codec::Writer w(out);
  std::visit(
      [&w](const auto& rec) {
        using R = std::decay_t<decltype(rec)>;
        if constexpr (std::is_same_v<R, PromiseRecord>) {
          w.header(Tag::promise_record);
          w.ballot(rec.promised);
        } else if constexpr (std::is_same_v<R, ProposerRecord>) {
          w.header(Tag::proposer_record);
          w.u64(rec.round);
        } else if constexpr (std::is_same_v<R, AcceptRecord>) {
          w.header(Tag::accept_record);
          w.ballot(rec.ballot);
          w.u64(rec.first.value);
          codec::write_values(w, rec.values);
        } else if constexpr (std::is_same_v<R, ChosenRecord>) {
          w.header(Tag::chosen_record);
          w.u64(rec.through.value);
        } else {
          static_assert(std::is_same_v<R, SnapshotRecord>);
          w.header(Tag::snapshot_record);
          w.u64(rec.index.value);
          w.bytes(rec.data);
        }
      },
      record);
}

std::optional<PaxosRecord> decode_record(ByteView bytes) {
  codec::Reader r(bytes);
  const auto tag = protocol_codec::read_header<Tag>(r, kFormatVersion);
  if (!tag) return std::nullopt;
  switch (*tag) {
    case Tag::promise_record: {
      PromiseRecord rec;
      rec.promised = r.ballot();
      return codec::finish<PaxosRecord>(r, rec);
    }
    case Tag::proposer_record: {
      ProposerRecord rec;
      rec.round = r.bounded();
      return codec::finish<PaxosRecord>(r, rec);
    }
    case Tag::accept_record: {
      AcceptRecord rec;
      rec.ballot = r.positive_ballot();
      rec.first = r.positive_slot();
      rec.values = r.values(rec.first);
      return codec::finish<PaxosRecord>(r, std::move(rec));
    }
    case Tag::chosen_record: {
      ChosenRecord rec;
      rec.through = r.slot();
      return codec::finish<PaxosRecord>(r, rec);
    }
    case Tag::snapshot_record: {
      SnapshotRecord rec;
      rec.index = r.positive_slot();
      rec.data = r.owned_bytes();
      return codec::finish<PaxosRecord>(r, std::move(rec));
    }
    default:
      return std::nullopt;
  }
}

}  // namespace lockstep::paxos
