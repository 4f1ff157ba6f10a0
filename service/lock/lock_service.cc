#include "service/lock/lock_service.h"

#include "core/assert.h"
#include "service/lock/lock_codec.h"

namespace lockstep::service::lock {

LockService::LockService(LockConfig config) : machine_(std::move(config)) {}

void LockService::apply(std::uint64_t index, const LoggedCommand& command, Bytes& result) {
  const auto payload = decode_request_payload(command.payload);
  if (!payload) {
    encode_to(result, Result{Code::bad_request, machine_.revision(), {}});
    return;
  }
  const Caller caller{SessionId{command.client}, command.request, payload->acked_through};
  const Revision before = machine_.revision();
  ApplyOutcome outcome = machine_.apply(index, caller, payload->command);
  if (observer_) {
    observer_(AppliedCommand{index, caller, payload->command, outcome, before,
                             machine_.revision(), machine_.last_answered_from_record()});
  }
  if (!outcome.notifications.empty() || !outcome.timers.empty()) {
    if (effects_.size() == kEffectsKeptMax) {
      effects_.erase(effects_.begin());
      ++effects_dropped_;
    }
    effects_.push_back(
        AppliedEffects{index, std::move(outcome.notifications), std::move(outcome.timers)});
  }
  encode_to(result, outcome.result);
}

Bytes LockService::query(ByteView query) const {
  const auto command = decode_command(query);
  if (!command) return encode(Result{Code::bad_request, machine_.revision(), {}});
  return encode(machine_.query(*command));
}

Bytes LockService::snapshot() const { return machine_.snapshot(); }

void LockService::restore(ByteView snapshot) {
  LS_ASSERT_MSG(machine_.restore(snapshot),
                "a lock-service snapshot did not restore: it was not written by snapshot(), or "
                "with a different LockConfig::cell");
  effects_.clear();
}

}  // namespace lockstep::service::lock
