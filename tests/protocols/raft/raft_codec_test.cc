// The Raft wire and record codec: round trips (rapidcheck), and that no byte string from a peer or
// a disk can crash the decoder.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "protocols/raft/raft_messages.h"

namespace lockstep::raft {
namespace raft_codec_test {
namespace {

rc::Gen<Term> gen_term() {
  return rc::gen::map(rc::gen::inRange<std::uint64_t>(0, kMaxWireValue),
                      [](std::uint64_t v) { return Term{v}; });
}
rc::Gen<LogIndex> gen_index() {
  return rc::gen::map(rc::gen::inRange<std::uint64_t>(0, kMaxWireValue),
                      [](std::uint64_t v) { return LogIndex{v}; });
}
rc::Gen<std::vector<NodeId>> gen_members() {
  return rc::gen::map(rc::gen::container<std::set<std::uint32_t>>(rc::gen::arbitrary<std::uint32_t>()),
                      [](const std::set<std::uint32_t>& ids) {
                        std::vector<NodeId> out;
                        for (auto id : ids) out.push_back(NodeId{id});
                        return out;
                      });
}
rc::Gen<Bytes> gen_bytes() {
  return rc::gen::map(rc::gen::arbitrary<std::vector<std::uint8_t>>(),
                      [](const std::vector<std::uint8_t>& v) {
                        Bytes b;
                        for (auto x : v) b.push_back(static_cast<std::byte>(x));
                        return b;
                      });
}
rc::Gen<Entry> gen_entry() {
  return rc::gen::apply(
      [](Term t, int kind, Bytes data, std::vector<NodeId> members) {
        Entry e;
        e.term = t;
        e.kind = static_cast<EntryKind>(kind);
        e.data = e.kind == EntryKind::config ? encode_members(members) : std::move(data);
        return e;
      },
      gen_term(), rc::gen::inRange(1, 4), gen_bytes(), gen_members());
}
rc::Gen<std::optional<NodeId>> gen_optional_node() {
  return rc::gen::map(rc::gen::maybe(rc::gen::arbitrary<std::uint32_t>()),
                      [](const rc::Maybe<std::uint32_t>& m) {
                        return m ? std::optional<NodeId>(NodeId{*m}) : std::nullopt;
                      });
}

rc::Gen<RaftMessage> gen_message() {
  using rc::gen::arbitrary;
  auto as_message = [](auto gen) {
    return rc::gen::map(gen, [](auto m) { return RaftMessage{std::move(m)}; });
  };
  return rc::gen::oneOf(
      as_message(rc::gen::apply(
          [](Term t, LogIndex i, Term lt, bool p, bool tr) { return VoteRequest{t, i, lt, p, tr}; },
          gen_term(), gen_index(), gen_term(), arbitrary<bool>(), arbitrary<bool>())),
      as_message(rc::gen::apply([](Term t, bool g, bool p) { return VoteResponse{t, g, p}; },
                                gen_term(), arbitrary<bool>(), arbitrary<bool>())),
      as_message(rc::gen::apply(
          [](Term t, LogIndex p, Term pt, LogIndex c, std::uint64_t r, std::vector<Entry> es) {
            return AppendRequest{t, p, pt, c, r, std::move(es)};
          },
          gen_term(), gen_index(), gen_term(), gen_index(), arbitrary<std::uint64_t>(),
          rc::gen::container<std::vector<Entry>>(gen_entry()))),
      as_message(rc::gen::apply(
          [](Term t, bool s, LogIndex m, LogIndex rj, LogIndex hi, Term ht, std::uint64_t r) {
            return AppendResponse{t, s, m, rj, hi, ht, r};
          },
          gen_term(), arbitrary<bool>(), gen_index(), gen_index(), gen_index(), gen_term(),
          arbitrary<std::uint64_t>())),
      as_message(rc::gen::apply([](Term t, LogIndex c, std::uint64_t r) { return Heartbeat{t, c, r}; },
                                gen_term(), gen_index(), arbitrary<std::uint64_t>())),
      as_message(rc::gen::apply([](Term t, std::uint64_t r) { return HeartbeatResponse{t, r}; },
                                gen_term(), arbitrary<std::uint64_t>())),
      as_message(rc::gen::apply(
          [](Term t, LogIndex i, Term lt, std::uint64_t d, std::vector<NodeId> m, Bytes data,
             std::uint64_t r) { return SnapshotRequest{t, i, lt, d, std::move(m), std::move(data), r}; },
          gen_term(), gen_index(), gen_term(), arbitrary<std::uint64_t>(), gen_members(),
          gen_bytes(), arbitrary<std::uint64_t>())),
      as_message(rc::gen::apply([](Term t, LogIndex m, std::uint64_t r) { return SnapshotResponse{t, m, r}; },
                                gen_term(), gen_index(), arbitrary<std::uint64_t>())),
      as_message(rc::gen::map(gen_term(), [](Term t) { return TimeoutNow{t}; })));
}

rc::Gen<RaftRecord> gen_record() {
  auto as_record = [](auto gen) {
    return rc::gen::map(gen, [](auto r) { return RaftRecord{std::move(r)}; });
  };
  return rc::gen::oneOf(
      as_record(rc::gen::apply([](Term t, std::optional<NodeId> v) { return HardStateRecord{t, v}; },
                               gen_term(), gen_optional_node())),
      as_record(rc::gen::apply(
          [](std::uint64_t first, std::vector<Entry> es) {
            return EntriesRecord{LogIndex{first}, std::move(es)};
          },
          rc::gen::inRange<std::uint64_t>(1, kMaxWireValue),
          rc::gen::container<std::vector<Entry>>(gen_entry()))),
      as_record(rc::gen::apply(
          [](LogIndex i, Term t, std::uint64_t d, std::vector<NodeId> m, Bytes data) {
            return SnapshotRecord{i, t, d, std::move(m), std::move(data)};
          },
          gen_index(), gen_term(), rc::gen::arbitrary<std::uint64_t>(), gen_members(),
          gen_bytes())));
}

RC_GTEST_PROP(RaftCodec, MessagesRoundTrip, ()) {
  const RaftMessage m = *gen_message();
  const auto back = decode_message(encode(m));
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == m);
}

RC_GTEST_PROP(RaftCodec, RecordsRoundTrip, ()) {
  const RaftRecord r = *gen_record();
  const auto back = decode_record(encode(r));
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == r);
}

// Recovery decodes every record of the log into one RaftRecord, whose entries' buffers are
// reused: whatever an earlier record left there must not show through.
RC_GTEST_PROP(RaftCodec, RecordsDecodedIntoOneVariantMatchFreshDecodes, ()) {
  const auto records = *rc::gen::container<std::vector<RaftRecord>>(gen_record());
  RaftRecord reused;
  for (const RaftRecord& r : records) {
    RC_ASSERT(decode_record_into(encode(r), reused));
    RC_ASSERT(reused == r);
  }
}

RC_GTEST_PROP(RaftCodec, EveryProperPrefixOfAMessageIsRejected, ()) {
  const Bytes bytes = encode(*gen_message());
  const std::size_t cut = *rc::gen::inRange<std::size_t>(0, bytes.size());
  RC_ASSERT(!decode_message(ByteView(bytes).first(cut)).has_value());
}

RC_GTEST_PROP(RaftCodec, EveryProperPrefixOfARecordIsRejected, ()) {
  const Bytes bytes = encode(*gen_record());
  const std::size_t cut = *rc::gen::inRange<std::size_t>(0, bytes.size());
  RC_ASSERT(!decode_record(ByteView(bytes).first(cut)).has_value());
}

RC_GTEST_PROP(RaftCodec, TrailingBytesAreRejected, ()) {
  Bytes bytes = encode(*gen_message());
  bytes.push_back(std::byte{0});
  RC_ASSERT(!decode_message(bytes).has_value());
}

// Garbage either fails to decode or decodes to something that encodes back to the same bytes:
// the encoding is canonical, so nothing is silently reinterpreted.
RC_GTEST_PROP(RaftCodec, GarbageDecodesCanonicallyOrNotAtAll, ()) {
  Bytes bytes = *gen_bytes();
  if (bytes.size() >= 2 && *rc::gen::arbitrary<bool>()) {
    bytes[0] = std::byte{kFormatVersion};  // get past the version byte more often
    bytes[1] = static_cast<std::byte>(*rc::gen::inRange(1, 10));
  }
  if (const auto m = decode_message(bytes)) RC_ASSERT(encode(*m) == bytes);
  if (const auto r = decode_record(bytes)) RC_ASSERT(encode(*r) == bytes);
}

RC_GTEST_PROP(RaftCodec, FlippedByteNeverCrashes, ()) {
  Bytes bytes = encode(*gen_message());
  const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
  bytes[at] ^= static_cast<std::byte>(*rc::gen::inRange(1, 256));
  if (const auto m = decode_message(bytes)) RC_ASSERT(encode(*m) == bytes);
}

TEST(RaftCodec, RejectsWrongVersionUnknownTagAndBadBoolean) {
  Bytes bytes = encode(RaftMessage{VoteResponse{Term{3}, true, false}});
  ASSERT_TRUE(decode_message(bytes));
  Bytes wrong_version = bytes;
  wrong_version[0] = std::byte{kFormatVersion + 1};
  EXPECT_FALSE(decode_message(wrong_version));
  Bytes unknown_tag = bytes;
  unknown_tag[1] = std::byte{0x7f};
  EXPECT_FALSE(decode_message(unknown_tag));
  Bytes bad_bool = bytes;
  bad_bool[2 + 8] = std::byte{2};
  EXPECT_FALSE(decode_message(bad_bool));
  EXPECT_FALSE(decode_message({}));
}

TEST(RaftCodec, RejectsTermsAndIndexesBeyondTheWireBound) {
  Bytes bytes = encode(RaftMessage{TimeoutNow{Term{kMaxWireValue - 1}}});
  EXPECT_TRUE(decode_message(bytes));
  bytes = encode(RaftMessage{TimeoutNow{Term{kMaxWireValue}}});
  EXPECT_FALSE(decode_message(bytes));
}

TEST(RaftCodec, ForgedEntryCountIsRejectedWithoutAllocating) {
  Bytes bytes = encode(RaftMessage{AppendRequest{Term{1}, LogIndex{0}, Term{0}, LogIndex{0}, 0, {}}});
  // The entry count is the last field: claim four billion entries in an otherwise empty message.
  std::fill(bytes.end() - 4, bytes.end(), std::byte{0xff});
  EXPECT_FALSE(decode_message(bytes));
}

TEST(RaftCodec, ConfigEntryMustHoldASortedMemberList) {
  Entry bad{Term{1}, EntryKind::config, to_bytes("not a member list")};
  EXPECT_FALSE(decode_message(encode(RaftMessage{AppendRequest{Term{1}, {}, {}, {}, 0, {bad}}})));
  Entry unsorted{Term{1}, EntryKind::config, {}};
  unsorted.data = encode_members({NodeId{2}, NodeId{1}});
  EXPECT_FALSE(decode_message(encode(RaftMessage{AppendRequest{Term{1}, {}, {}, {}, 0, {unsorted}}})));
  Entry good{Term{1}, EntryKind::config, encode_members({NodeId{1}, NodeId{2}})};
  EXPECT_TRUE(decode_message(encode(RaftMessage{AppendRequest{Term{1}, {}, {}, {}, 0, {good}}})));
}

TEST(RaftCodec, RecordsAndMessagesNeverDecodeAsEachOther) {
  const Bytes record = encode(RaftRecord{HardStateRecord{Term{1}, NodeId{2}}});
  EXPECT_FALSE(decode_message(record));
  const Bytes message = encode(RaftMessage{TimeoutNow{Term{1}}});
  EXPECT_FALSE(decode_record(message));
}

TEST(RaftCodec, EntriesRecordAtIndexZeroIsRejected) {
  EXPECT_FALSE(decode_record(encode(RaftRecord{EntriesRecord{LogIndex{0}, {}}})));
}

TEST(RaftCodec, LayoutIsLittleEndianWithVersionThenTag) {
  const Bytes bytes = encode(RaftMessage{TimeoutNow{Term{0x0102}}});
  const Bytes expected{std::byte{kFormatVersion}, std::byte{0x09}, std::byte{0x02}, std::byte{0x01},
                       std::byte{0},    std::byte{0},    std::byte{0},    std::byte{0},
                       std::byte{0},    std::byte{0}};
  EXPECT_EQ(bytes, expected);
}

}  // namespace
}  // namespace raft_codec_test
}  // namespace lockstep::raft
