#include "service/client_wire.h"

#include "core/assert.h"
#include "core/codec.h"

namespace lockstep::service {

std::string_view to_string(ReplyStatus status) {
  switch (status) {
    case ReplyStatus::ok: return "ok";
    case ReplyStatus::not_leader: return "not_leader";
    case ReplyStatus::busy: return "busy";
    case ReplyStatus::rejected: return "rejected";
  }
  return "?";
}

Bytes encode_peer(ByteView protocol_message) {
  Bytes out;
  out.reserve(protocol_message.size() + 1);
  append_peer_envelope(out, protocol_message);
  return out;
}

void append_peer_envelope(Bytes& out, ByteView protocol_message) {
  Writer w(out);
  w.u8(static_cast<std::uint8_t>(Envelope::peer)).rest(protocol_message);
}

Bytes encode(const ClientRequest& r) {
  Bytes out;
  out.reserve(r.payload.size() + 22);
  encode_to(out, r);
  return out;
}

void encode_to(Bytes& out, const ClientRequest& r) {
  LS_ASSERT_LE(r.payload.size(), std::size_t{0xffffffff});
  Writer w(out);
  w.fields(static_cast<std::uint8_t>(Envelope::request), r.client, r.request,
           static_cast<std::uint8_t>(r.op), static_cast<std::uint32_t>(r.payload.size()))
      .rest(r.payload);
}

Bytes encode(const ClientReply& r) {
  Bytes out;
  out.reserve(r.payload.size() + 34);
  encode_to(out, r);
  return out;
}

void encode_to(Bytes& out, const ClientReply& r) {
  LS_ASSERT_LE(r.payload.size(), std::size_t{0xffffffff});
  Writer w(out);
  w.fields(static_cast<std::uint8_t>(Envelope::reply), r.client, r.request,
           static_cast<std::uint8_t>(r.status),
           static_cast<std::uint32_t>(r.leader_hint ? r.leader_hint->value + 1 : 0), r.index,
           static_cast<std::uint32_t>(r.payload.size()))
      .rest(r.payload);
}

Bytes encode(const LoggedCommand& c) {
  Bytes out;
  out.reserve(c.payload.size() + 20);
  encode_to(out, c);
  return out;
}

void encode_to(Bytes& out, const LoggedCommand& c) {
  LS_ASSERT_LE(c.payload.size(), std::size_t{0xffffffff});
  Writer w(out);
  w.fields(c.client, c.request, static_cast<std::uint32_t>(c.payload.size())).rest(c.payload);
}

std::optional<Envelope> envelope_of(ByteView message) {
  if (message.empty()) return std::nullopt;
  const auto tag = static_cast<std::uint8_t>(message[0]);
  if (tag < 1 || tag > 4) return std::nullopt;
  return static_cast<Envelope>(tag);
}

ByteView peer_payload(ByteView message) { return message.subspan(1); }

Bytes encode_notify(ByteView body) {
  Writer w(body.size() + 1);
  w.u8(static_cast<std::uint8_t>(Envelope::notify)).rest(body);
  return w.take();
}

std::optional<ByteView> notify_body(ByteView message) {
  if (message.empty() || static_cast<std::uint8_t>(message[0]) !=
                             static_cast<std::uint8_t>(Envelope::notify)) {
    return std::nullopt;
  }
  return message.subspan(1);
}

std::optional<ClientRequest> decode_request(ByteView message) {
  Reader r(message);
  if (r.u8() != static_cast<std::uint8_t>(Envelope::request)) return std::nullopt;
  ClientRequest out;
  out.client = r.u64();
  out.request = r.u64();
  const std::uint8_t op = r.u8();
  const ByteView payload = r.bytes();
  if (!r.done() || op < 1 || op > 3) return std::nullopt;
  out.op = static_cast<ClientOp>(op);
  out.payload.assign(payload.begin(), payload.end());
  return out;
}

std::optional<ClientReply> decode_reply(ByteView message) {
  ClientReply out;
  if (!decode_reply_into(message, out)) return std::nullopt;
  return out;
}

bool decode_reply_into(ByteView message, ClientReply& out) {
  Reader r(message);
  if (r.u8() != static_cast<std::uint8_t>(Envelope::reply)) return false;
  out.client = r.u64();
  out.request = r.u64();
  const std::uint8_t status = r.u8();
  const std::uint32_t hint = r.u32();
  out.index = r.u64();
  const ByteView payload = r.bytes();
  if (!r.done() || status > 3) return false;
  out.status = static_cast<ReplyStatus>(status);
  out.leader_hint.reset();
  if (hint != 0) out.leader_hint = NodeId{hint - 1};
  out.payload.assign(payload.begin(), payload.end());
  return true;
}

std::optional<LoggedCommand> decode_logged(ByteView command) {
  Reader r(command);
  LoggedCommand out;
  out.client = r.u64();
  out.request = r.u64();
  out.payload = r.bytes();
  if (!r.done()) return std::nullopt;
  return out;
}

}  // namespace lockstep::service
