#include "service/lock/lock_service.h"

#include "core/assert.h"
#include "service/lock/lock_codec.h"

namespace lockstep::service::lock {

LockService::LockService(LockConfig config) : machine_(std::move(config)) {}

Bytes LockService::apply(std::uint64_t index, const LoggedCommand& command) {
  effects_ = {};
  const auto payload = decode_request_payload(command.payload);
  if (!payload) return encode(Result{Code::bad_request, machine_.revision(), {}});
  const Caller caller{SessionId{command.client}, command.request, payload->acked_through};
  ApplyOutcome outcome = machine_.apply(index, caller, payload->command);
  effects_.notifications = std::move(outcome.notifications);
  effects_.timers = std::move(outcome.timers);
  return encode(outcome.result);
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
  effects_ = {};
}

}  // namespace lockstep::service::lock
