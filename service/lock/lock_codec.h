// The lock service's binary encoding (little-endian, core/codec.h), for commands in the log,
// queries, results, notifications, and the pieces a snapshot is made of.
//
//   request payload  [acked_through u64][command]       LoggedCommand::payload of a client
//   leader payload   [0 u64][command]                   the same shape, acked_through unused
//   query            [command]                          a read command only
//   command          [tag u8][fields]                   tag = index in the Command variant
//   result           [code u8][revision u64][value tag u8][fields]
//   notification     [target u64][body tag u8][fields]
//
// Variant tags are positions in their std::variant: new alternatives go at the end. Decoding
// never trusts its input: unknown tags, out-of-range enums, short or trailing bytes give nullopt,
// which the state machine answers as bad_request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/bytes.h"
#include "core/codec.h"
#include "service/lock/lock_commands.h"

namespace lockstep::service::lock {

// What a client puts in LoggedCommand::payload: the command, and the highest request number
// below which it has every result (so the state machine may forget them; 0 when none).
struct RequestPayload {
  std::uint64_t acked_through = 0;
  Command command;
  friend bool operator==(const RequestPayload&, const RequestPayload&) = default;
};

Bytes encode(const RequestPayload& payload);
std::optional<RequestPayload> decode_request_payload(ByteView bytes);

Bytes encode_command(const Command& command);
std::optional<Command> decode_command(ByteView bytes);

Bytes encode(const Result& result);
void encode_to(Bytes& out, const Result& result);  // appends to a reused buffer
std::optional<Result> decode_result(ByteView bytes);

Bytes encode(const Notification& notification);
void encode_to(Bytes& out, const Notification& notification);  // appends to a reused buffer
std::optional<Notification> decode_notification(ByteView bytes);

// What a notification is about, read from the head of its encoding without decoding the rest: a
// client routes every notification it receives (often several times, while it waits for
// something else) and decodes only the one it takes. The body is checked by that decode.
enum class NotificationKind : std::uint8_t {  // the index of the body in Notification::body
  completion = 0,
  watch_fired = 1,
  session_ended = 2,
};
struct NotificationHeader {
  SessionId target;
  NotificationKind kind = NotificationKind::completion;
  std::uint64_t id = 0;  // Completion: the request; WatchFired: the watch id; SessionEnded: 0
};
std::optional<NotificationHeader> peek_notification(ByteView bytes);

// A sequencer as a client hands it to a protected resource.
Bytes encode(const Sequencer& sequencer);
std::optional<Sequencer> decode_sequencer(ByteView bytes);

// A Reader that also fails on values out of range (variant tags, enums, booleans), so a decoder
// reads every field and then checks ok() or done() once. Lists are read item by item while ok():
// every item takes at least one byte, so a corrupt count cannot drive a long loop.
class FieldReader {
 public:
  explicit FieldReader(ByteView in) : r_(in) {}

  std::uint8_t u8() { return r_.u8(); }
  std::uint32_t u32() { return r_.u32(); }
  std::uint64_t u64() { return r_.u64(); }
  bool boolean() { return r_.boolean(); }
  std::string str() { return r_.str(); }
  Bytes bytes() {
    const ByteView b = r_.bytes();
    return Bytes(b.begin(), b.end());
  }
  // A u8 that must be at most `max`.
  std::uint8_t tag(std::uint8_t max) {
    const std::uint8_t v = r_.u8();
    if (v > max) failed_ = true;
    return v;
  }
  template <typename E>
  E enumeration(std::uint8_t max) {
    return static_cast<E>(tag(max));
  }
  void fail() { failed_ = true; }

  bool ok() const { return r_.ok() && !failed_; }
  bool done() const { return r_.done() && !failed_; }

 private:
  Reader r_;
  bool failed_ = false;
};

void write(Writer& w, const Stat& stat);
void write(Writer& w, const Sequencer& sequencer);
void write(Writer& w, const Event& event);
void write(Writer& w, const Result& result);
void write(Writer& w, const Command& command);
Stat read_stat(FieldReader& r);
Sequencer read_sequencer(FieldReader& r);
Event read_event(FieldReader& r);
Result read_result(FieldReader& r);
Command read_command(FieldReader& r);

}  // namespace lockstep::service::lock
