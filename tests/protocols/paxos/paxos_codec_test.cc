// The Paxos wire and record codec: round trips (rapidcheck), and that no byte string from a peer
// or a disk can crash the decoder or decode as something it is not.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "protocols/paxos/paxos_messages.h"

namespace lockstep::paxos {
namespace paxos_codec_test {
namespace {

rc::Gen<std::uint64_t> gen_wire() { return rc::gen::inRange<std::uint64_t>(0, kMaxWireValue); }
rc::Gen<Slot> gen_slot() {
  return rc::gen::map(rc::gen::inRange<std::uint64_t>(1, kMaxWireValue / 2),
                      [](std::uint64_t v) { return Slot{v}; });
}
rc::Gen<Ballot> gen_ballot() {
  return rc::gen::apply(
      [](std::uint64_t round, std::uint32_t node) { return Ballot{round, NodeId{node}}; },
      rc::gen::inRange<std::uint64_t>(1, kMaxWireValue), rc::gen::arbitrary<std::uint32_t>());
}
rc::Gen<Bytes> gen_bytes() {
  return rc::gen::map(rc::gen::arbitrary<std::vector<std::uint8_t>>(),
                      [](const std::vector<std::uint8_t>& v) {
                        Bytes b;
                        for (auto x : v) b.push_back(static_cast<std::byte>(x));
                        return b;
                      });
}
rc::Gen<Value> gen_value() {
  return rc::gen::apply(
      [](bool noop, Bytes data) {
        return noop ? Value{ValueKind::noop, {}} : Value{ValueKind::command, std::move(data)};
      },
      rc::gen::arbitrary<bool>(), gen_bytes());
}
rc::Gen<std::optional<NodeId>> gen_optional_node() {
  return rc::gen::map(rc::gen::maybe(rc::gen::arbitrary<std::uint32_t>()),
                      [](const rc::Maybe<std::uint32_t>& m) {
                        return m ? std::optional<NodeId>(NodeId{*m}) : std::nullopt;
                      });
}
// Promise entries: ascending slots from `first`.
rc::Gen<Promise> gen_promise() {
  return rc::gen::apply(
      [](Ballot b, Slot first, std::uint64_t commit, std::uint64_t snap,
         std::vector<std::pair<std::uint8_t, Value>> items) {
        Promise p{b, first, Slot{std::max(commit, snap)}, Slot{std::min(commit, snap)}, {}};
        Slot s = first;
        for (auto& [gap, v] : items) {
          s = s + gap;
          p.entries.push_back(PromisedEntry{s, b, std::move(v)});
          s = s.next();
        }
        return p;
      },
      gen_ballot(), gen_slot(), gen_wire(), gen_wire(),
      rc::gen::container<std::vector<std::pair<std::uint8_t, Value>>>(
          rc::gen::pair(rc::gen::arbitrary<std::uint8_t>(), gen_value())));
}

rc::Gen<PaxosMessage> gen_message() {
  using rc::gen::arbitrary;
  auto as_message = [](auto gen) {
    return rc::gen::map(gen, [](auto m) { return PaxosMessage{std::move(m)}; });
  };
  return rc::gen::oneOf(
      as_message(rc::gen::apply([](Ballot b, Slot s, bool t) { return Prepare{b, s, t}; },
                                gen_ballot(), gen_slot(), arbitrary<bool>())),
      as_message(gen_promise()),
      as_message(rc::gen::apply(
          [](Ballot b, Ballot p, std::optional<NodeId> l, bool lease) {
            return Nack{b, p, l, lease};
          },
          gen_ballot(), gen_ballot(), gen_optional_node(), arbitrary<bool>())),
      as_message(rc::gen::apply(
          [](Ballot b, Slot first, std::uint64_t commit, std::uint64_t round,
             std::vector<Value> values) {
            return Accept{b, first, Slot{commit}, round, std::move(values)};
          },
          gen_ballot(), gen_slot(), gen_wire(), arbitrary<std::uint64_t>(),
          rc::gen::container<std::vector<Value>>(gen_value()))),
      as_message(rc::gen::apply(
          [](Ballot b, std::uint64_t first, bool ok, std::uint64_t x, std::uint64_t y,
             std::uint64_t round) {
            return Accepted{b, Slot{first}, ok, Slot{std::max(x, y)}, Slot{std::min(x, y)}, round};
          },
          gen_ballot(), gen_wire(), arbitrary<bool>(), gen_wire(), gen_wire(),
          arbitrary<std::uint64_t>())),
      as_message(rc::gen::apply(
          [](Ballot b, std::uint64_t commit, std::uint64_t round) {
            return Heartbeat{b, Slot{commit}, round};
          },
          gen_ballot(), gen_wire(), arbitrary<std::uint64_t>())),
      as_message(rc::gen::apply(
          [](Ballot b, Slot index, Bytes data, std::uint64_t round) {
            return SnapshotMessage{b, index, std::move(data), round, true};
          },
          gen_ballot(), gen_slot(), gen_bytes(), arbitrary<std::uint64_t>())),
      as_message(rc::gen::map(gen_ballot(), [](Ballot b) { return TimeoutNow{b}; })));
}

rc::Gen<PaxosRecord> gen_record() {
  auto as_record = [](auto gen) {
    return rc::gen::map(gen, [](auto r) { return PaxosRecord{std::move(r)}; });
  };
  return rc::gen::oneOf(
      as_record(rc::gen::map(gen_ballot(), [](Ballot b) { return PromiseRecord{b}; })),
      as_record(rc::gen::map(gen_wire(), [](std::uint64_t r) { return ProposerRecord{r}; })),
      as_record(rc::gen::apply(
          [](Ballot b, Slot first, std::vector<Value> values) {
            return AcceptRecord{b, first, std::move(values)};
          },
          gen_ballot(), gen_slot(), rc::gen::container<std::vector<Value>>(gen_value()))),
      as_record(rc::gen::map(gen_wire(), [](std::uint64_t s) { return ChosenRecord{Slot{s}}; })),
      as_record(rc::gen::apply([](Slot i, Bytes d) { return SnapshotRecord{i, std::move(d)}; },
                               gen_slot(), gen_bytes())));
}

RC_GTEST_PROP(PaxosCodec, MessagesRoundTrip, ()) {
  const PaxosMessage m = *gen_message();
  const auto back = decode_message(encode(m));
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == m);
}

RC_GTEST_PROP(PaxosCodec, RecordsRoundTrip, ()) {
  const PaxosRecord r = *gen_record();
  const auto back = decode_record(encode(r));
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == r);
}

// Every proper prefix of an encoding is malformed (truncation is always detected), and so is the
// encoding with a byte appended.
RC_GTEST_PROP(PaxosCodec, TruncatedOrExtendedMessagesAreRejected, ()) {
  const Bytes bytes = encode(*gen_message());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    RC_ASSERT(!decode_message(ByteView(bytes.data(), n)).has_value());
  }
  Bytes longer = bytes;
  longer.push_back(std::byte{0});
  RC_ASSERT(!decode_message(longer).has_value());
}

RC_GTEST_PROP(PaxosCodec, TruncatedRecordsAreRejected, ()) {
  const Bytes bytes = encode(*gen_record());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    RC_ASSERT(!decode_record(ByteView(bytes.data(), n)).has_value());
  }
}

// Arbitrary bytes and single bit flips of valid encodings never crash the decoder, and whatever
// decodes re-encodes to the same bytes (no two encodings of one value).
RC_GTEST_PROP(PaxosCodec, GarbageNeverCrashes, ()) {
  Bytes bytes = *rc::gen::oneOf(gen_bytes(), rc::gen::map(gen_message(), [](const PaxosMessage& m) {
                                  return encode(m);
                                }));
  if (!bytes.empty()) {
    const auto at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    bytes[at] ^= static_cast<std::byte>(1u << *rc::gen::inRange(0, 8));
  }
  if (const auto m = decode_message(bytes)) RC_ASSERT(encode(*m) == bytes);
  if (const auto r = decode_record(bytes)) RC_ASSERT(encode(*r) == bytes);
}

Bytes with_byte(Bytes b, std::size_t at, std::uint8_t v) {
  b.at(at) = std::byte{v};
  return b;
}

TEST(PaxosCodec, RejectsWhatNoCorrectPeerSends) {
  const Ballot b{3, NodeId{0}};
  const Bytes prepare = encode(PaxosMessage{Prepare{b, Slot{1}, false}});
  EXPECT_FALSE(decode_message(with_byte(prepare, 0, 1)));  // Raft's format version
  EXPECT_FALSE(decode_message(with_byte(prepare, 1, 0x41)));  // a record tag
  EXPECT_FALSE(decode_message(encode(PaxosMessage{Prepare{b, Slot{0}, false}})));  // slot 0
  EXPECT_FALSE(decode_message(encode(PaxosMessage{Prepare{Ballot{}, Slot{1}, false}})));
  EXPECT_FALSE(decode_message(with_byte(prepare, prepare.size() - 1, 2)));  // boolean 2
  // A no-op that carries data.
  EXPECT_FALSE(decode_message(
      encode(PaxosMessage{Accept{b, Slot{1}, Slot{0}, 0, {Value{ValueKind::noop, to_bytes("x")}}}})));
  // An unknown value kind (0 is an empty slot, never sent).
  const Bytes accept =
      encode(PaxosMessage{Accept{b, Slot{1}, Slot{0}, 0, {Value{ValueKind::command, {}}}}});
  EXPECT_FALSE(decode_message(with_byte(accept, accept.size() - 5, 0)));
  EXPECT_FALSE(decode_message(with_byte(accept, accept.size() - 5, 3)));
  // Promise entries out of order, or below the prepare's first slot.
  const Value v{ValueKind::command, to_bytes("v")};
  EXPECT_FALSE(decode_message(encode(PaxosMessage{
      Promise{b, Slot{1}, Slot{0}, Slot{0}, {{Slot{2}, b, v}, {Slot{2}, b, v}}}})));
  EXPECT_FALSE(decode_message(
      encode(PaxosMessage{Promise{b, Slot{5}, Slot{0}, Slot{0}, {{Slot{4}, b, v}}}})));
  // A snapshot above the commit; an answer whose commit is above its match.
  EXPECT_FALSE(decode_message(encode(PaxosMessage{Promise{b, Slot{1}, Slot{1}, Slot{2}, {}}})));
  EXPECT_FALSE(decode_message(encode(PaxosMessage{Accepted{b, Slot{1}, true, Slot{1}, Slot{2}, 0}})));
  // A round at 2^62.
  EXPECT_FALSE(
      decode_message(encode(PaxosMessage{Prepare{Ballot{kMaxWireValue, NodeId{0}}, Slot{1}, false}})));
  // A count far larger than the bytes that follow.
  Bytes huge = accept;
  huge[huge.size() - 6] = std::byte{0xff};  // the high byte of the u32 value count
  EXPECT_FALSE(decode_message(huge));
}

TEST(PaxosCodec, MessagesAndRecordsNeverDecodeAsEachOther) {
  const Bytes record = encode(PaxosRecord{PromiseRecord{Ballot{3, NodeId{0}}}});
  EXPECT_FALSE(decode_message(record));
  const Bytes message = encode(PaxosMessage{TimeoutNow{Ballot{3, NodeId{0}}}});
  EXPECT_FALSE(decode_record(message));
}

}  // namespace
}  // namespace paxos_codec_test
}  // namespace lockstep::paxos
