#include "harness/append_workload.h"

#include "service/append_log.h"
#include "service/client_wire.h"

namespace lockstep::harness {

sim::FiberBody append_client(AppendClientSettings s, std::function<Nanos()> true_now,
                             AppendHistory* history) {
  return [s, true_now = std::move(true_now), history](sim::FiberContext& f) {
    const std::uint64_t client = f.self().value;
    std::uint32_t target = static_cast<std::uint32_t>(f.env().random() % s.servers);
    if (true_now() < s.start) f.sleep(s.start - true_now());
    for (std::uint64_t request = 1; true_now() < s.stop; ++request) {
      const std::size_t slot = history->calls.size();
      history->calls.push_back(AppendCall{client, request, true_now(), std::nullopt,
                                          CallOutcome::unknown, 0, 0});
      const Bytes message = service::encode(service::ClientRequest{
          client, request, service::ClientOp::write, to_bytes("append")});
      const auto is_reply = [request](NodeId, ByteView payload) {
        const auto reply = service::decode_reply(payload);
        return reply && reply->request == request;
      };
      // Retry until acknowledged; a request still unacknowledged when the run ends is unknown.
      for (;;) {
        ++history->calls[slot].attempts;
        const auto received =
            f.call(NodeId{target}, message, s.request_timeout, is_reply);
        if (!received) {
          target = (target + 1) % s.servers;
          continue;
        }
        const auto reply = service::decode_reply(received->payload);
        if (reply->status == service::ReplyStatus::ok) {
          AppendCall& call = history->calls[slot];
          call.returned = true_now();
          call.outcome = CallOutcome::ok;
          call.index = service::AppendLog::decode_result(reply->payload).value_or(0);
          break;
        }
        if (reply->status == service::ReplyStatus::not_leader && reply->leader_hint &&
            reply->leader_hint->value < s.servers) {
          target = reply->leader_hint->value;
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
