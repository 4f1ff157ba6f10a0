#include "harness/lock_history.h"

#include <algorithm>

namespace lockstep::harness {

using service::lock::Code;

void LockRecorder::opened(SessionId session) { history_->client_of[session] = client_; }

void LockRecorder::sent(SessionId session, std::uint64_t request, const Command& command,
                        bool first) {
  RequestRecord& r = history_->requests[{session, request}];
  if (first || !r.first_sent) r.first_sent = true_now_();
  ++r.attempts;
  r.keepalive = std::holds_alternative<service::lock::KeepAlive>(command);
}

void LockRecorder::answered(SessionId session, std::uint64_t request, const Command&,
                            const service::lock::Result& result, std::uint64_t index) {
  RequestRecord& r = history_->requests[{session, request}];
  r.answered_at = true_now_();
  r.code = result.code;
  if (index != 0) r.acknowledged_index = index;
}

void LockRecorder::woken(SessionId session, std::uint64_t request) {
  ++history_->wakeups[{session, request}];
}

void LockRecorder::session_event(SessionId, service::lock::SessionEvent event) {
  if (event == service::lock::SessionEvent::jeopardy) ++history_->jeopardies;
}

void LockRecorder::watch_event(SessionId session, std::uint64_t watch_id, const Event& event) {
  for (auto it = history_->watches.rbegin(); it != history_->watches.rend(); ++it) {
    if (it->session == session && it->watch_id == watch_id) {
      it->taken.push_back(event);
      return;
    }
  }
}

void AppliedRecorder::attach(service::lock::LockService& service) {
  service.set_apply_observer(
      [this, &service](const service::lock::AppliedCommand& a) { record(service, a); });
}

void AppliedRecorder::record(const service::lock::LockService& service,
                             const service::lock::AppliedCommand& a) {
  if (a.index <= last_index_) return;  // another replica applied it first
  last_index_ = a.index;
  AppliedRecord& r = history_->applied.emplace_back();  // built in place: one per command
  r.index = a.index;
  r.at = true_now_();
  r.session = a.caller.session;
  r.request = a.caller.request;
  r.command = a.command;
  r.code = a.outcome.result.code;
  r.from_record = a.from_record;
  if (const auto* info = std::get_if<service::lock::SessionInfo>(&a.outcome.result.value);
      info != nullptr && std::holds_alternative<service::lock::OpenSession>(a.command)) {
    r.opened = info->session;
  }
  if (a.revision_after != a.revision_before) {
    const auto& kept = service.machine().history();
    // The events this apply made are the newest ones kept, after revision_before.
    auto first = std::partition_point(kept.begin(), kept.end(), [&](const Event& e) {
      return e.revision <= a.revision_before;
    });
    r.events.assign(first, kept.end());
  }
}

}  // namespace lockstep::harness
