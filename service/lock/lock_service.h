// The lock service behind the host's StateMachine interface: decodes each committed command
// (lock_codec.h), applies it to a LockStateMachine, and encodes the caller's result. Bytes that do
// not decode are answered bad_request and change nothing.
//
// StateMachine::apply returns only the caller's result, so the rest of each apply's outcome — the
// notifications for sessions (granted waiters, watch events, expired sessions) and the leader's
// timers — is kept here, tagged with its log index, until the server takes it. The host applies
// a batch of commands per step, so the server takes after each step and gets them all in commit
// order. Until then at most kEffectsKeptMax applies' effects are kept (a limit on everything);
// older ones are dropped and counted in effects_dropped(), which a correct server keeps at 0.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "service/lock/lock_state_machine.h"
#include "service/replica_host.h"

namespace lockstep::service::lock {

// What applying the command at `index` produced besides its result.
struct AppliedEffects {
  std::uint64_t index = 0;
  std::vector<Notification> notifications;
  std::vector<LeaderTimer> timers;
  friend bool operator==(const AppliedEffects&, const AppliedEffects&) = default;
};

inline constexpr std::size_t kEffectsKeptMax = 4096;

// One apply, as an observer sees it (for checkers: nothing here is replicated state).
struct AppliedCommand {
  std::uint64_t index = 0;
  const Caller& caller;
  const Command& command;
  const ApplyOutcome& outcome;
  Revision revision_before;  // the events this apply made are those after it in history()
  Revision revision_after;   // equal to revision_before when the apply changed nothing visible
  bool from_record = false;  // a retry answered from the at-most-once record, not run again
};
using ApplyObserver = std::function<void(const AppliedCommand&)>;

class LockService final : public StateMachine {
 public:
  explicit LockService(LockConfig config = {});

  // LoggedCommand::payload is an encoded RequestPayload; client and request name the caller.
  void apply(std::uint64_t index, const LoggedCommand& command, Bytes& result) override;
  // The same, returning the result (tests).
  Bytes apply(std::uint64_t index, const LoggedCommand& command) {
    Bytes result;
    apply(index, command, result);
    return result;
  }
  // `query` is an encoded read command (Get, List, Observe, CheckSequencer); the answer is an
  // encoded Result (bad_request for anything else).
  Bytes query(ByteView query) const override;
  Bytes snapshot() const override;
  // Snapshots come from our own state machines through the protocol, checksummed on disk: one
  // that does not restore is a bug, and asserts. Effects not taken yet are dropped with the state
  // they came from (a replica installs snapshots as a follower, which delivers nothing).
  void restore(ByteView snapshot) override;

  // The effects of every apply since the last call, oldest first; applies that produced none are
  // left out.
  std::vector<AppliedEffects> take_effects() {
    std::vector<AppliedEffects> out;
    take_effects(out);
    return out;
  }
  // The same, swapped into `out` (what it held is dropped): a caller that passes the same vector
  // every time, as the server does after every apply, reuses the two buffers' capacity instead of
  // allocating a vector and moving the effects into it.
  void take_effects(std::vector<AppliedEffects>& out) {
    out.clear();
    out.swap(effects_);
  }
  // Applies whose effects were dropped because nobody took them in time.
  std::uint64_t effects_dropped() const { return effects_dropped_; }
  const LockStateMachine& machine() const { return machine_; }
  // Whether applies produce notifications (LockStateMachine::set_notifications_wanted): the
  // server turns them on while it leads, the only time it delivers them.
  void set_notifications_wanted(bool wanted) { machine_.set_notifications_wanted(wanted); }
  // Called after every apply of a command that decoded.
  void set_apply_observer(ApplyObserver observer) { observer_ = std::move(observer); }

 private:
  LockStateMachine machine_;
  ApplyObserver observer_;
  // A vector, taken whole by swapping: dropping the oldest when full shifts them all, but only a
  // server that stopped taking its effects gets there.
  std::vector<AppliedEffects> effects_;
  std::uint64_t effects_dropped_ = 0;
};

}  // namespace lockstep::service::lock
