// What travels between clients and servers, and how a server tells peer traffic from client
// traffic. Every message a ReplicaHost sends or receives starts with an Envelope byte:
//
//   peer    [1][protocol message bytes]                     replica to replica
//   request [2][client u64][request u64][op u8][payload]    client to server
//   reply   [3][client u64][request u64][status u8][hint u32+1][index u64][payload]
//                                                           server to client
//   notify  [4][payload]                                    server to client, unasked (the
//                                                           service's notifications)
//
// A client names each request by (client, request); a retry reuses both, so a server can tell a
// retry from a new request (at-most-once). A reply repeats both, so one client node can run
// several clients (sessions) without mistaking one's reply for another's. Client 0 is the
// server's own (kHostClient): a request that claims it is rejected.
#pragma once

#include <cstdint>
#include <optional>

#include "core/bytes.h"
#include "core/types.h"

namespace lockstep::service {

enum class Envelope : std::uint8_t { peer = 1, request = 2, reply = 3, notify = 4 };

// The client id of commands a server's service proposes itself (the lock service's leader
// commands). No client may use it, so those commands never collide with a client's in a host's
// table of pending requests.
inline constexpr std::uint64_t kHostClient = 0;

enum class ClientOp : std::uint8_t {
  write = 1,  // goes through the log; the reply carries the state machine's result
  read = 2,   // linearizable: served after a read barrier
  // Served at once from whatever state the receiving server has applied, leader or not: may be
  // stale, never waits for the protocol (the client asked for it).
  stale_read = 3,
};

enum class ReplyStatus : std::uint8_t {
  ok = 0,
  not_leader = 1,  // try `leader_hint` if present
  busy = 2,        // flow control: retry later
  rejected = 3,    // malformed or unsupported request
};

std::string_view to_string(ReplyStatus status);

struct ClientRequest {
  std::uint64_t client = 0;
  std::uint64_t request = 0;
  ClientOp op = ClientOp::write;
  Bytes payload;
};

struct ClientReply {
  std::uint64_t client = 0;
  std::uint64_t request = 0;
  ReplyStatus status = ReplyStatus::ok;
  std::optional<NodeId> leader_hint;
  std::uint64_t index = 0;  // log index the write was committed at, or the read's apply index
  Bytes payload;
};

// A command as the log carries it: who asked, and what. The payload is viewed, not owned: a
// decoded command points into the log entry it came from (every replica applies every command, so
// a copy per apply showed in profiles), and one being encoded into the bytes it was built from.
struct LoggedCommand {
  std::uint64_t client = 0;
  std::uint64_t request = 0;
  ByteView payload;
};

Bytes encode_peer(ByteView protocol_message);
// Appends the peer envelope and `protocol_message` to `out` (a reused buffer).
void append_peer_envelope(Bytes& out, ByteView protocol_message);
Bytes encode(const ClientRequest& request);
// Appends the encoded request to `out` (a reused buffer).
void encode_to(Bytes& out, const ClientRequest& request);
Bytes encode(const ClientReply& reply);
// Appends the encoded reply to `out` (a reused buffer).
void encode_to(Bytes& out, const ClientReply& reply);
Bytes encode(const LoggedCommand& command);
// Appends the encoded command to `out` (a reused buffer).
void encode_to(Bytes& out, const LoggedCommand& command);
Bytes encode_notify(ByteView body);

std::optional<Envelope> envelope_of(ByteView message);
// The protocol bytes of a peer message (everything after the envelope byte).
ByteView peer_payload(ByteView message);
std::optional<ClientRequest> decode_request(ByteView message);
std::optional<ClientReply> decode_reply(ByteView message);
// The same into `out`, reusing its payload buffer; false (and `out` unspecified) when `message`
// is not a well-formed reply.
bool decode_reply_into(ByteView message, ClientReply& out);
// The payload is a view into `command`.
std::optional<LoggedCommand> decode_logged(ByteView command);
// The body of a notify message, nullopt for anything else.
std::optional<ByteView> notify_body(ByteView message);

}  // namespace lockstep::service
