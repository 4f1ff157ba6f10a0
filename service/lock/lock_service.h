// The lock service behind the host's StateMachine interface: decodes each committed command
// (lock_codec.h), applies it to a LockStateMachine, and encodes the caller's result. Bytes that do
// not decode are answered bad_request and change nothing.
//
// StateMachine::apply returns only the caller's result, so the rest of an apply's outcome — the
// notifications for other sessions (granted waiters, watch events, expired sessions) and the
// leader's timers — is kept here until the next apply; the server takes it with last_effects().
#pragma once

#include <vector>

#include "service/lock/lock_state_machine.h"
#include "service/replica_host.h"

namespace lockstep::service::lock {

struct ApplyEffects {
  std::vector<Notification> notifications;
  std::vector<LeaderTimer> timers;
  friend bool operator==(const ApplyEffects&, const ApplyEffects&) = default;
};

class LockService final : public StateMachine {
 public:
  explicit LockService(LockConfig config = {});

  // LoggedCommand::payload is an encoded RequestPayload; client and request name the caller.
  Bytes apply(std::uint64_t index, const LoggedCommand& command) override;
  // `query` is an encoded read command (Get, List, Observe, CheckSequencer); the answer is an
  // encoded Result (bad_request for anything else).
  Bytes query(ByteView query) const override;
  Bytes snapshot() const override;
  // Snapshots come from our own state machines through the protocol, checksummed on disk: one
  // that does not restore is a bug, and asserts.
  void restore(ByteView snapshot) override;

  // What the latest apply produced besides its result; empty after a malformed command.
  const ApplyEffects& last_effects() const { return effects_; }
  const LockStateMachine& machine() const { return machine_; }

 private:
  LockStateMachine machine_;
  ApplyEffects effects_;
};

}  // namespace lockstep::service::lock
