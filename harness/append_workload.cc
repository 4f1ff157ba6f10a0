#include "harness/append_workload.h"

#include "core/assert.h"
#include "service/append_log.h"
#include "service/client_wire.h"

namespace lockstep::harness {

sim::FiberBody append_client(AppendClientSettings s, std::function<Nanos()> true_now,
                             AppendHistory* history) {
  return [s, true_now = std::move(true_now), history](sim::FiberContext& f) {
    const std::uint64_t client = f.self().value;
    std::uint32_t target = static_cast<std::uint32_t>(f.env().random() % s.servers);
    if (true_now() < s.start) f.sleep(s.start - true_now());
    // Reused from request to request, so that the steady state allocates nothing for them.
    service::ClientRequest next{client, 0, service::ClientOp::write, to_bytes("append")};
    Bytes message;
    service::ClientReply seen;   // what the filter decoded last
    service::ClientReply reply;  // the reply taken
    for (std::uint64_t request = 1; true_now() < s.stop; ++request) {
      const std::size_t slot = history->calls.size();
      history->calls.push_back(AppendCall{client, request, true_now(), std::nullopt,
                                          CallOutcome::unknown, 0, 0});
      next.request = request;
      message.clear();
      service::encode_to(message, next);
      const auto is_reply = [request, &seen](NodeId, ByteView payload) {
        return service::decode_reply_into(payload, seen) && seen.request == request;
      };
      // Retry until acknowledged; a request still unacknowledged when the run ends is unknown.
      for (;;) {
        ++history->calls[slot].attempts;
        // What this call would not take now, it never will (requests only move on): late and
        // duplicated replies to earlier requests go, instead of being decoded again by every
        // later call until the mailbox overflows.
        f.discard([&is_reply](NodeId from, ByteView payload) { return !is_reply(from, payload); });
        const auto received =
            f.call(NodeId{target}, message, s.request_timeout, is_reply);
        if (!received) {
          target = (target + 1) % s.servers;
          continue;
        }
        const bool decoded = service::decode_reply_into(received->payload, reply);
        LS_ASSERT(decoded);  // the filter took only well-formed replies
        if (reply.status == service::ReplyStatus::ok) {
          AppendCall& call = history->calls[slot];
          call.returned = true_now();
          call.outcome = CallOutcome::ok;
          call.index = service::AppendLog::decode_result(reply.payload).value_or(0);
          break;
        }
        if (reply.status == service::ReplyStatus::not_leader && reply.leader_hint &&
            reply.leader_hint->value < s.servers) {
          target = reply.leader_hint->value;
        } else {
          target = (target + 1) % s.servers;
        }
        f.sleep(s.retry_backoff);
      }
      f.sleep(s.workload.interval);
    }
  };
}

}  // namespace lockstep::harness
