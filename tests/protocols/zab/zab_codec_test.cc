// The Zab wire and record codec: round trips (rapidcheck), and that no byte string from a peer or
// a disk can crash the decoder or be taken for something it is not.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include "protocols/zab/zab_messages.h"

namespace lockstep::zab {
namespace zab_codec_test {
namespace {

constexpr std::uint64_t kSmall = std::uint64_t{1} << 40;  // room to count upwards from

rc::Gen<Epoch> gen_epoch() {
  return rc::gen::map(rc::gen::inRange<std::uint64_t>(0, kMaxWireValue),
                      [](std::uint64_t v) { return Epoch{v}; });
}
rc::Gen<Zxid> gen_zxid(std::uint64_t max = kMaxWireValue) {
  return rc::gen::apply([](std::uint64_t e, std::uint64_t c) { return Zxid{Epoch{e}, c}; },
                        rc::gen::inRange<std::uint64_t>(0, max),
                        rc::gen::inRange<std::uint64_t>(0, max));
}
rc::Gen<Bytes> gen_bytes() {
  return rc::gen::map(rc::gen::arbitrary<std::vector<std::uint8_t>>(),
                      [](const std::vector<std::uint8_t>& v) {
                        Bytes b;
                        for (auto x : v) b.push_back(static_cast<std::byte>(x));
                        return b;
                      });
}
// Transactions strictly increasing in zxid above `floor`: each either the next counter of the
// same epoch (or a few ahead) or the start of a later epoch.
std::vector<Txn> txns_above(Zxid floor, const std::vector<std::tuple<bool, std::uint8_t, Bytes>>& steps) {
  std::vector<Txn> out;
  Zxid z = floor;
  for (const auto& [new_epoch, step, data] : steps) {
    if (new_epoch) {
      z = Zxid{z.epoch.next(), step};
    } else {
      z.counter += 1 + step % 3;
    }
    out.push_back(Txn{z, data, 0});
  }
  return out;
}
rc::Gen<std::vector<std::tuple<bool, std::uint8_t, Bytes>>> gen_steps() {
  return rc::gen::container<std::vector<std::tuple<bool, std::uint8_t, Bytes>>>(
      rc::gen::tuple(rc::gen::arbitrary<bool>(), rc::gen::arbitrary<std::uint8_t>(), gen_bytes()));
}
// A summary as a replica would send it: a snapshot, then a history above it.
rc::Gen<HistorySummary> gen_summary() {
  return rc::gen::apply(
      [](std::uint64_t snap_pos, Zxid snap_zxid, std::vector<std::tuple<bool, std::uint8_t, Bytes>> steps) {
        History h;
        h.restore(Position{snap_pos}, snap_zxid, 0, {});
        for (Txn& t : txns_above(snap_zxid, steps)) h.append(t.zxid, std::move(t.data));
        HistorySummary s;
        s.last_position = h.last_position();
        s.last_zxid = h.last_zxid();
        s.snapshot_position = h.snapshot_position();
        s.snapshot_zxid = h.snapshot_zxid();
        const std::size_t keep = std::min(h.runs().size(), kSummaryRunsMax);
        s.runs_truncated = keep < h.runs().size();
        s.runs.assign(h.runs().end() - static_cast<std::ptrdiff_t>(keep), h.runs().end());
        return s;
      },
      rc::gen::inRange<std::uint64_t>(0, kSmall), gen_zxid(kSmall), gen_steps());
}

rc::Gen<ZabMessage> gen_message() {
  using rc::gen::arbitrary;
  const auto u64 = arbitrary<std::uint64_t>;
  auto as_message = [](auto gen) {
    return rc::gen::map(gen, [](auto m) { return ZabMessage{std::move(m)}; });
  };
  return rc::gen::oneOf(
      as_message(rc::gen::apply(
          [](int state, std::uint32_t leader, Zxid z, Epoch e, std::uint64_t round) {
            return Notification{static_cast<ServerState>(state), Vote{NodeId{leader}, z, e}, round};
          },
          rc::gen::inRange(0, 3), arbitrary<std::uint32_t>(), gen_zxid(), gen_epoch(),
          rc::gen::inRange<std::uint64_t>(0, kMaxWireValue))),
      as_message(rc::gen::apply([](std::uint64_t s, Epoch e, Zxid z) { return FollowerInfo{s, e, z}; },
                                u64(), gen_epoch(), gen_zxid())),
      as_message(rc::gen::apply([](std::uint64_t s, std::uint64_t q, std::uint64_t e) {
                                  return NewEpoch{s, q, Epoch{e}};
                                },
                                u64(), u64(), rc::gen::inRange<std::uint64_t>(1, kMaxWireValue))),
      as_message(rc::gen::apply([](std::uint64_t s, Epoch e, HistorySummary h) {
                                  return AckEpoch{s, e, std::move(h)};
                                },
                                u64(), gen_epoch(), gen_summary())),
      as_message(rc::gen::apply(
          [](std::uint64_t s, std::uint64_t q, Zxid prev, std::vector<std::tuple<bool, std::uint8_t, Bytes>> steps) {
            return Diff{s, q, prev, txns_above(prev, steps)};
          },
          u64(), u64(), gen_zxid(kSmall), gen_steps())),
      as_message(rc::gen::apply([](std::uint64_t s, std::uint64_t q, Zxid z) { return Trunc{s, q, z}; },
                                u64(), u64(), gen_zxid())),
      as_message(rc::gen::apply(
          [](std::uint64_t s, std::uint64_t q, std::uint64_t p, Zxid z, std::uint64_t d, Bytes data) {
            return Snap{s, q, Position{p}, z, d, std::move(data)};
          },
          u64(), u64(), rc::gen::inRange<std::uint64_t>(0, kMaxWireValue), gen_zxid(), u64(),
          gen_bytes())),
      as_message(rc::gen::apply(
          [](std::uint64_t s, std::uint64_t q, Epoch e, Zxid z) { return NewLeader{s, q, e, z}; },
          u64(), u64(), gen_epoch(), gen_zxid())),
      as_message(rc::gen::apply([](std::uint64_t s, std::uint64_t q, Zxid z) { return UpToDate{s, q, z}; },
                                u64(), u64(), gen_zxid())),
      as_message(rc::gen::apply(
          [](std::uint64_t s, std::uint64_t q, std::uint64_t e, std::uint64_t c, Bytes d) {
            return Proposal{s, q, Zxid{Epoch{e}, c}, std::move(d)};
          },
          u64(), u64(), rc::gen::inRange<std::uint64_t>(1, kMaxWireValue),
          rc::gen::inRange<std::uint64_t>(1, kMaxWireValue), gen_bytes())),
      as_message(rc::gen::apply([](std::uint64_t s, Zxid z) { return Ack{s, z}; }, u64(), gen_zxid())),
      as_message(rc::gen::apply([](std::uint64_t s, std::uint64_t q, Zxid z) { return Commit{s, q, z}; },
                                u64(), u64(), gen_zxid())),
      as_message(rc::gen::apply([](std::uint64_t s, std::uint64_t q, std::uint64_t r) { return Ping{s, q, r}; },
                                u64(), u64(), u64())),
      as_message(rc::gen::apply(
          [](std::uint64_t s, std::uint64_t r, bool synced, Zxid z) { return PingAck{s, r, synced, z}; },
          u64(), u64(), arbitrary<bool>(), gen_zxid())));
}

rc::Gen<ZabRecord> gen_record() {
  auto as_record = [](auto gen) {
    return rc::gen::map(gen, [](auto r) { return ZabRecord{std::move(r)}; });
  };
  return rc::gen::oneOf(
      as_record(rc::gen::apply(
          [](std::uint64_t current, std::uint64_t extra, rc::Maybe<std::uint32_t> from) {
            return EpochRecord{Epoch{current + extra}, from ? std::optional<NodeId>(NodeId{*from}) : std::nullopt,
                               Epoch{current}};
          },
          rc::gen::inRange<std::uint64_t>(0, kSmall), rc::gen::inRange<std::uint64_t>(0, kSmall),
          rc::gen::maybe(rc::gen::arbitrary<std::uint32_t>()))),
      as_record(rc::gen::apply(
          [](std::uint64_t first, std::vector<std::tuple<bool, std::uint8_t, Bytes>> steps) {
            return TxnsRecord{Position{first}, txns_above(Zxid{}, steps)};
          },
          rc::gen::inRange<std::uint64_t>(1, kMaxWireValue), gen_steps())),
      as_record(rc::gen::apply(
          [](std::uint64_t p, Zxid z, std::uint64_t d, Bytes data) {
            return SnapshotRecord{Position{p}, z, d, std::move(data)};
          },
          rc::gen::inRange<std::uint64_t>(0, kMaxWireValue), gen_zxid(),
          rc::gen::arbitrary<std::uint64_t>(), gen_bytes())));
}

RC_GTEST_PROP(ZabCodec, MessagesRoundTrip, ()) {
  const ZabMessage m = *gen_message();
  const auto back = decode_message(encode(m));
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == m);
}

RC_GTEST_PROP(ZabCodec, RecordsRoundTrip, ()) {
  const ZabRecord r = *gen_record();
  const auto back = decode_record(encode(r));
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == r);
}

RC_GTEST_PROP(ZabCodec, EveryProperPrefixIsRejected, ()) {
  const Bytes m = encode(*gen_message());
  RC_ASSERT(!decode_message(ByteView(m).first(*rc::gen::inRange<std::size_t>(0, m.size()))));
  const Bytes r = encode(*gen_record());
  RC_ASSERT(!decode_record(ByteView(r).first(*rc::gen::inRange<std::size_t>(0, r.size()))));
}

RC_GTEST_PROP(ZabCodec, TrailingBytesAreRejected, ()) {
  Bytes bytes = encode(*gen_message());
  bytes.push_back(std::byte{0});
  RC_ASSERT(!decode_message(bytes).has_value());
}

// Garbage either fails to decode or decodes to something that encodes back to the same bytes.
RC_GTEST_PROP(ZabCodec, GarbageDecodesCanonicallyOrNotAtAll, ()) {
  Bytes bytes = *gen_bytes();
  if (bytes.size() >= 2 && *rc::gen::arbitrary<bool>()) {
    bytes[0] = std::byte{kFormatVersion};
    bytes[1] = static_cast<std::byte>(*rc::gen::inRange(1, 15));
  }
  if (const auto m = decode_message(bytes)) RC_ASSERT(encode(*m) == bytes);
  if (const auto r = decode_record(bytes)) RC_ASSERT(encode(*r) == bytes);
}

RC_GTEST_PROP(ZabCodec, FlippedByteNeverCrashes, ()) {
  Bytes bytes = encode(*gen_message());
  const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
  bytes[at] ^= static_cast<std::byte>(*rc::gen::inRange(1, 256));
  if (const auto m = decode_message(bytes)) RC_ASSERT(encode(*m) == bytes);
}

TEST(ZabCodec, RejectsWrongVersionUnknownTagBadStateAndBadBoolean) {
  const Bytes bytes = encode(ZabMessage{PingAck{1, 2, true, Zxid{Epoch{3}, 4}}});
  ASSERT_TRUE(decode_message(bytes));
  Bytes wrong_version = bytes;
  wrong_version[0] = std::byte{kFormatVersion + 1};
  EXPECT_FALSE(decode_message(wrong_version));
  Bytes unknown_tag = bytes;
  unknown_tag[1] = std::byte{0x7f};
  EXPECT_FALSE(decode_message(unknown_tag));
  Bytes bad_bool = bytes;
  bad_bool[2 + 16] = std::byte{2};
  EXPECT_FALSE(decode_message(bad_bool));
  Bytes bad_state = encode(ZabMessage{Notification{}});
  bad_state[2] = std::byte{3};
  EXPECT_FALSE(decode_message(bad_state));
  EXPECT_FALSE(decode_message({}));
}

TEST(ZabCodec, RejectsValuesBeyondTheWireBound) {
  EXPECT_TRUE(decode_message(encode(ZabMessage{Ack{1, Zxid{Epoch{kMaxWireValue - 1}, 0}}})));
  EXPECT_FALSE(decode_message(encode(ZabMessage{Ack{1, Zxid{Epoch{kMaxWireValue}, 0}}})));
  EXPECT_FALSE(decode_message(encode(ZabMessage{Ack{1, Zxid{Epoch{0}, kMaxWireValue}}})));
}

// A DIFF's transactions must climb above its prev_zxid, one after another; a proposal carries a
// real zxid; NEWEPOCH never proposes epoch 0.
TEST(ZabCodec, RejectsImpossibleTransactionsAndEpochs) {
  const Txn a{Zxid{Epoch{1}, 2}, to_bytes("a"), 0};
  const Txn b{Zxid{Epoch{1}, 3}, to_bytes("b"), 0};
  EXPECT_TRUE(decode_message(encode(ZabMessage{Diff{1, 1, Zxid{Epoch{1}, 1}, {a, b}}})));
  EXPECT_FALSE(decode_message(encode(ZabMessage{Diff{1, 1, Zxid{Epoch{1}, 1}, {b, a}}})));
  EXPECT_FALSE(decode_message(encode(ZabMessage{Diff{1, 1, Zxid{Epoch{1}, 2}, {a}}})));
  EXPECT_FALSE(decode_message(encode(ZabMessage{Proposal{1, 1, Zxid{Epoch{0}, 1}, {}}})));
  EXPECT_FALSE(decode_message(encode(ZabMessage{Proposal{1, 1, Zxid{Epoch{1}, 0}, {}}})));
  EXPECT_FALSE(decode_message(encode(ZabMessage{NewEpoch{1, 1, Epoch{0}}})));
  EXPECT_FALSE(decode_record(encode(ZabRecord{TxnsRecord{Position{0}, {}}})));
  EXPECT_FALSE(decode_record(encode(ZabRecord{EpochRecord{Epoch{1}, std::nullopt, Epoch{2}}})));
}

// A summary must describe a history: runs above the snapshot, ending where it says it ends.
TEST(ZabCodec, RejectsASummaryThatDescribesNoHistory) {
  HistorySummary s;
  s.last_position = Position{3};
  s.last_zxid = Zxid{Epoch{1}, 3};
  s.runs = {EpochRun{Epoch{1}, 1, 3, Position{1}}};
  EXPECT_TRUE(decode_message(encode(ZabMessage{AckEpoch{1, Epoch{1}, s}})));
  HistorySummary wrong_end = s;
  wrong_end.last_position = Position{4};
  EXPECT_FALSE(decode_message(encode(ZabMessage{AckEpoch{1, Epoch{1}, wrong_end}})));
  HistorySummary overlapping = s;
  overlapping.runs.push_back(EpochRun{Epoch{2}, 1, 1, Position{3}});
  overlapping.last_zxid = Zxid{Epoch{2}, 1};
  EXPECT_FALSE(decode_message(encode(ZabMessage{AckEpoch{1, Epoch{1}, overlapping}})));
  HistorySummary too_many = s;
  too_many.runs.assign(kSummaryRunsMax + 1, EpochRun{});
  EXPECT_FALSE(decode_message(encode(ZabMessage{AckEpoch{1, Epoch{1}, too_many}})));
}

TEST(ZabCodec, ForgedCountsAreRejectedWithoutAllocating) {
  Bytes bytes = encode(ZabMessage{Diff{1, 1, Zxid{}, {}}});
  std::fill(bytes.end() - 4, bytes.end(), std::byte{0xff});  // four billion transactions
  EXPECT_FALSE(decode_message(bytes));
}

TEST(ZabCodec, RecordsAndMessagesNeverDecodeAsEachOther) {
  EXPECT_FALSE(decode_message(encode(ZabRecord{EpochRecord{Epoch{1}, NodeId{2}, Epoch{1}}})));
  EXPECT_FALSE(decode_record(encode(ZabMessage{Ack{1, Zxid{}}})));
}

TEST(ZabCodec, LayoutIsLittleEndianWithVersionThenTag) {
  const Bytes bytes = encode(ZabMessage{Ack{0x0102, Zxid{Epoch{3}, 4}}});
  Bytes expected{std::byte{kFormatVersion}, std::byte{0x0b}, std::byte{0x02}, std::byte{0x01}};
  expected.resize(2 + 8, std::byte{0});
  expected.push_back(std::byte{3});
  expected.resize(2 + 16, std::byte{0});
  expected.push_back(std::byte{4});
  expected.resize(2 + 24, std::byte{0});
  EXPECT_EQ(bytes, expected);
}

}  // namespace
}  // namespace zab_codec_test
}  // namespace lockstep::zab
