#include "harness/message_names.h"

#include <array>
#include <variant>

#include "protocols/paxos/paxos_messages.h"
#include "protocols/raft/raft_messages.h"
#include "protocols/zab/zab_messages.h"
#include "service/client_wire.h"

namespace lockstep::harness {

namespace {

// Names by variant alternative, in the order of each protocol's message variant.
constexpr std::array<std::string_view, std::variant_size_v<raft::RaftMessage>> kRaftNames = {
    "RequestVote",   "RequestVoteResponse", "AppendEntries",
    "AppendEntriesResponse", "Heartbeat", "HeartbeatResponse",
    "InstallSnapshot", "InstallSnapshotResponse", "TimeoutNow"};
constexpr std::array<std::string_view, std::variant_size_v<paxos::PaxosMessage>> kPaxosNames = {
    "Prepare", "Promise", "Nack", "Accept", "Accepted", "Heartbeat", "Snapshot", "TimeoutNow"};
constexpr std::array<std::string_view, std::variant_size_v<zab::ZabMessage>> kZabNames = {
    "Notification", "FollowerInfo", "NewEpoch", "AckEpoch", "Diff",   "Trunc", "Snap",
    "NewLeader",    "UpToDate",     "Proposal", "Ack",      "Commit", "Ping",  "PingAck"};

std::string peer_name(std::string_view protocol, ByteView bytes) {
  if (protocol == "raft") {
    const auto m = raft::decode_message(bytes);
    if (!m) return "message";
    if (const auto* vote = std::get_if<raft::VoteRequest>(&*m); vote != nullptr && vote->prevote) {
      return "PreVote";
    }
    if (const auto* vote = std::get_if<raft::VoteResponse>(&*m); vote != nullptr && vote->prevote) {
      return "PreVoteResponse";
    }
    return std::string(kRaftNames[m->index()]);
  }
  if (protocol == "paxos") {
    const auto m = paxos::decode_message(bytes);
    return m ? std::string(kPaxosNames[m->index()]) : "message";
  }
  if (protocol == "zab") {
    const auto m = zab::decode_message(bytes);
    return m ? std::string(kZabNames[m->index()]) : "message";
  }
  return "message";
}

}  // namespace

std::string describe_message(std::string_view protocol, ByteView payload) {
  const auto envelope = service::envelope_of(payload);
  if (!envelope) return "message";
  switch (*envelope) {
    case service::Envelope::peer:
      return peer_name(protocol, service::peer_payload(payload));
    case service::Envelope::request:
      return "request";
    case service::Envelope::reply: {
      const auto reply = service::decode_reply(payload);
      if (!reply) return "reply";
      if (reply->status == service::ReplyStatus::ok) return "reply";
      return "reply " + std::string(service::to_string(reply->status));
    }
    case service::Envelope::notify:
      return "notify";
  }
  return "message";
}

}  // namespace lockstep::harness
