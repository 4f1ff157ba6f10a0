// The lock service's codec: every value round-trips (rapidcheck); bytes from outside never crash
// a decoder, and what does decode is canonical; malformed commands are answered bad_request.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "service/lock/lock_codec.h"
#include "service/lock/lock_service.h"
#include "tests/service/lock/lock_generators.h"
#include "tests/service/lock/lock_test_support.h"

namespace lockstep::service::lock::testing {
namespace codec_test {
namespace {

RC_GTEST_PROP(LockCodec, CommandsRoundTrip, ()) {
  const RequestPayload payload{*rc::gen::arbitrary<std::uint64_t>(), *gen_command()};
  RC_ASSERT(decode_request_payload(encode(payload)) == payload);
  RC_ASSERT(decode_command(encode_command(payload.command)) == payload.command);
}

RC_GTEST_PROP(LockCodec, ResultsRoundTrip, ()) {
  const Result result = *gen_result();
  RC_ASSERT(decode_result(encode(result)) == result);
}

RC_GTEST_PROP(LockCodec, NotificationsAndSequencersRoundTrip, ()) {
  const Notification n = *gen_notification();
  RC_ASSERT(decode_notification(encode(n)) == n);
  const Sequencer s = *gen_sequencer();
  RC_ASSERT(decode_sequencer(encode(s)) == s);
}

RC_GTEST_PROP(LockCodec, APeekedHeaderAgreesWithTheDecodedNotification, ()) {
  const Notification n = *gen_notification();
  const Bytes bytes = encode(n);
  const auto header = peek_notification(bytes);
  RC_ASSERT(header.has_value());
  RC_ASSERT(header->target == n.target);
  RC_ASSERT(static_cast<std::size_t>(header->kind) == n.body.index());
  std::uint64_t id = 0;
  if (const auto* c = std::get_if<Completion>(&n.body)) id = c->request;
  if (const auto* f = std::get_if<WatchFired>(&n.body)) id = f->watch_id;
  RC_ASSERT(header->id == id);
  // Too short to hold the header, or an unknown body: nothing to route by.
  RC_ASSERT(!peek_notification(ByteView(bytes).first(8)));
  Bytes unknown = bytes;
  unknown[8] = std::byte{3};
  RC_ASSERT(!peek_notification(unknown));
}

// Whatever decodes re-encodes to the same bytes: no two encodings of one value, so replicas that
// compare commands or snapshots by bytes agree.
template <typename Decode, typename Encode>
void check_canonical(const Bytes& bytes, Decode decode, Encode encode_back) {
  if (auto value = decode(bytes)) RC_ASSERT(encode_back(*value) == bytes);
}

RC_GTEST_PROP(LockCodec, ArbitraryBytesNeverCrashAndDecodeOnlyCanonically, ()) {
  const Bytes bytes = *gen_bytes();
  check_canonical(bytes, decode_request_payload, [](const auto& v) { return encode(v); });
  check_canonical(bytes, decode_command, [](const auto& v) { return encode_command(v); });
  check_canonical(bytes, decode_result, [](const auto& v) { return encode(v); });
  check_canonical(bytes, decode_notification, [](const auto& v) { return encode(v); });
  check_canonical(bytes, decode_sequencer, [](const auto& v) { return encode(v); });
  LockStateMachine sm(test_config());
  RC_ASSERT(!sm.restore(bytes));
}

RC_GTEST_PROP(LockCodec, TruncatedOrExtendedEncodingsAreRejected, ()) {
  const Bytes whole = encode(RequestPayload{0, *gen_command()});
  const std::size_t cut = *rc::gen::inRange<std::size_t>(0, whole.size());
  RC_ASSERT(!decode_request_payload(ByteView(whole).first(cut)));
  Bytes longer = whole;
  longer.push_back(std::byte{0});
  RC_ASSERT(!decode_request_payload(longer));
}

TEST(LockCodec, OutOfRangeTagsAndFlagsAreRejected) {
  auto with_byte = [](Bytes bytes, std::size_t at, std::uint8_t value) {
    bytes.at(at) = static_cast<std::byte>(value);
    return bytes;
  };
  const Bytes acquire = encode_command(Acquire{"/ls/local/a", LockMode::shared, true});
  ASSERT_TRUE(decode_command(acquire));
  const std::size_t mode_at = 1 + 4 + 11;                            // tag, path length, path
  EXPECT_FALSE(decode_command(with_byte(acquire, 0, 200)));          // unknown command
  EXPECT_FALSE(decode_command(with_byte(acquire, mode_at, 2)));      // unknown mode
  EXPECT_FALSE(decode_command(with_byte(acquire, mode_at + 1, 2)));  // a boolean of 2
  const Bytes del = encode_command(Delete{"/ls/local/a", std::nullopt});
  // An absent expected version with a value behind it would be a second encoding of Delete.
  EXPECT_FALSE(decode_command(with_byte(del, del.size() - 1, 1)));
  const Bytes result = encode(Result{Code::no_node, Revision{3}, {}});
  EXPECT_FALSE(decode_result(with_byte(result, 0, kCodeMax + 1)));
  EXPECT_FALSE(decode_result(with_byte(result, result.size() - 1, 200)));  // unknown value
}

TEST(LockCodec, ServiceAnswersMalformedCommandsBadRequestAndChangesNothing) {
  LockService service(test_config());
  const Bytes before = service.snapshot();
  for (const Bytes& junk : {Bytes{}, to_bytes("x"), Bytes(9, std::byte{0xff}),
                            encode_command(KeepAlive{})}) {  // the last lacks acked_through
    const auto result = decode_result(
        service.apply(service.machine().applied_index() + 1, LoggedCommand{1, 1, junk}));
    ASSERT_TRUE(result);
    EXPECT_EQ(result->code, Code::bad_request);
  }
  EXPECT_TRUE(service.take_effects().empty());
  EXPECT_EQ(service.snapshot(), before);
  const auto queried = decode_result(service.query(to_bytes("not a command")));
  ASSERT_TRUE(queried);
  EXPECT_EQ(queried->code, Code::bad_request);
}

// Commands that decode but mean nothing sensible (any path, any session, any number) are answered
// with a result code, never an assertion, and leave the state consistent.
RC_GTEST_PROP(LockCodec, ArbitraryDecodableCommandsAreAnsweredNotAsserted, ()) {
  LockStateMachine sm(test_config());
  const auto commands = *rc::gen::container<std::vector<Command>>(gen_command());
  std::uint64_t index = 0;
  for (const Command& c : commands) {
    const SessionId session =
        *rc::gen::oneOf(rc::gen::just(SessionId{0}), rc::gen::just(SessionId{1}), gen_session());
    sm.apply(++index, Caller{session, *rc::gen::inRange<std::uint64_t>(0, 4), 0}, c);
    RC_ASSERT(sm.invariant_violations().empty());
  }
}

}  // namespace
}  // namespace codec_test
}  // namespace lockstep::service::lock::testing
