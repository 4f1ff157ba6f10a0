// The verdicts of a lock-service run, computed from its LockHistory (harness/lock_history.h).
// Each says in its detail what it checked; a failure names the records that broke the rule.
//
//  mutual_exclusion  For each lock, in the order the protected resource received its requests:
//                    no WRITE was accepted under a generation older than one the resource had
//                    already received for that lock (read or write). Such a write comes from a
//                    holder whose epoch had ended: two holders' writes interleaved.
//                    And by ground truth, the service's own grants in true time (an exclusive
//                    grant lasts from the apply that made it to the apply that ended it): no
//                    exclusive grant of a lock began while another was in force. (A stale write
//                    that lands before the new holder's first request is not a violation: the
//                    resource serializes it before the new holder's work, which is all fencing
//                    promises (Chubby §2.4). How often clients *believed* they held a lock at once
//                    is the counter overlapping_holders.)
//  fencing           For each lock, the generations of the writes the resource accepted never
//                    decrease, and every accepted write's sequencer is a grant the service made (a
//                    lock_acquired event with that lock and generation) to the session that wrote.
//  session_safety    The service never cut a lease short: every expiry came at least TTL after
//                    the session's last successful KeepAlive (or opening) was applied, and at
//                    least TTL + grace after a BeginLeadership applied since; a lock whose holder
//                    expired was not granted again within lock_delay; and the expiry deleted the
//                    session's ephemeral nodes; and once a session expired or was closed, none
//                    of its later commands was applied ok unless answered from the at-most-once
//                    record. Times are true times of the first apply; each bound allows for the
//                    clocks' drift.
//  at_most_once      No (session, request) ran twice in the log: every apply of a request after
//                    its first was answered from the at-most-once record.
//  watch_delivery    Every event a watcher took is the next event matching its watch in commit
//                    order: none missing, none twice, none out of order (a resync event, which
//                    says "events were dropped, re-read", resets the expectation).
//  lock_handoff      Grants from a lock's wait queue follow the queue (FIFO); a waiter is woken
//                    only by the end of its own wait (its grant, its withdrawal, or its node's
//                    deletion), at most once, so each handoff wakes at most one client; and the
//                    handoff times — a holder's release call to the next waiter's acquire
//                    returning — stay within checks.handoff_p50_max (median) and handoff_max.
//  durability        Every acknowledged write is in the log at the index it was acknowledged at;
//                    servers that applied the same prefix hold byte-identical state.
//  liveness          Calls that do not wait by design, pending at the final heal, finished within
//                    liveness_bound (clients that crashed are left out).
//  linearizability   harness/lock_linearizability.h: the calls on locks and nodes have a
//                    linearization, per lock (lock model) and per node (namespace model).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/lock_history.h"
#include "harness/run.h"

namespace lockstep::harness {

struct LockCheck {
  Verdict verdict = Verdict::pass;
  std::string detail;
};

// What the checks need to know besides the history.
struct LockCheckContext {
  ServiceSettings service;
  service::ResourceMode resource_mode = service::ResourceMode::fencing;
  std::optional<Nanos> handoff_p50_max;
  std::optional<Nanos> handoff_max;
  // Clock rates differ from true time by at most this (servers' and clients').
  double drift_ppm_max = 0.0;
};

LockCheck check_mutual_exclusion(const LockHistory& h);
LockCheck check_fencing(const LockHistory& h);
LockCheck check_session_safety(const LockHistory& h, const LockCheckContext& c);
LockCheck check_at_most_once(const LockHistory& h);
LockCheck check_watch_delivery(const LockHistory& h);
LockCheck check_lock_handoff(const LockHistory& h, const LockCheckContext& c);

struct ServerState {
  std::uint32_t server = 0;
  std::uint64_t applied_index = 0;
  Bytes snapshot;
};
LockCheck check_lock_durability(const LockHistory& h, const std::vector<ServerState>& servers);
LockCheck check_lock_liveness(const LockHistory& h, Nanos healed_at, Nanos bound);

std::map<Counter, std::uint64_t> count(const LockHistory& h, const ServiceSettings& service);

}  // namespace lockstep::harness
