// What a lock-service run records for its checkers (harness/lock_checks.h), all in true time:
//
//  - the committed commands, as the first replica to apply each log index applied it (the
//    service's own account: who asked, what it answered, whether it ran or was answered from the
//    at-most-once record, which events it made);
//  - what the clients did: each call with its invocation and return, each request's attempts,
//    session events, wake-ups, the events watchers took, the locks and elections they believed
//    they held;
//  - every request the protected resource received, and what it did with it.
//
// Clients see only their own clocks; the recorder stamps true time from the simulator.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "checkers/history.h"
#include "core/types.h"
#include "service/lock/lock_client.h"
#include "service/lock/lock_service.h"
#include "service/protected_resource.h"

namespace lockstep::harness {

using service::lock::Command;
using service::lock::Event;
using service::lock::Revision;
using service::lock::SessionId;

// One committed command, as first applied.
struct AppliedRecord {
  std::uint64_t index = 0;
  Nanos at;  // true time of the first apply
  SessionId session;  // 0: a leader command; an open token for OpenSession
  std::uint64_t request = 0;
  Command command;
  service::lock::Code code = service::lock::Code::ok;
  bool from_record = false;
  SessionId opened;  // the session an OpenSession opened
  std::vector<Event> events;  // the events this apply made, in revision order
};

// A call as an operation of the lock service's models (checkers/lock_models.h), for the
// linearizability check (harness/lock_linearizability.h).
struct ModelCall {
  std::string f;     // "acquire", "release", "campaign", "resign", "create", "get", "set", "cas"
  std::string path;  // the lock or node: the operation's key
  std::vector<checkers::Value> args;  // acquire [mode session]; set [content]; cas [content version]
  // ok: the generation granted, the content read, the version written; failed: the error code.
  checkers::Value result;
  // ok: the service answered ok; failed: it answered an error, so the call did not take effect;
  // unknown: the client gave up (timeout, session lost), or the service no longer knew whether
  // an earlier attempt had taken effect (stale_request). A call that never returned (its client
  // crashed) is unknown too, whatever this says.
  checkers::Outcome outcome = checkers::Outcome::ok;
};

// A call a workload made on the client library.
struct LockCall {
  std::uint32_t client = 0;
  std::string op;  // "acquire", "set", ...
  Nanos invoked;
  std::optional<Nanos> returned;
  bool ok = false;
  // Blocks by design (acquire, campaign, next_event wait for something other than the service):
  // not judged by liveness.
  bool waits = false;
  // What it was to the models; none for calls they leave out (resource calls, sequential and
  // ephemeral creates, watches).
  std::optional<ModelCall> model;
};

// A span of time a client believed it held an exclusive lock or led an election.
struct Holding {
  std::uint32_t client = 0;
  std::string path;
  std::uint64_t generation = 0;
  Nanos from;
  std::optional<Nanos> until;
};

struct WatchRecord {
  std::uint32_t client = 0;
  SessionId session;
  std::uint64_t watch_id = 0;
  std::string path;
  bool recursive = false;
  std::uint32_t kinds = 0;
  Revision registered;       // events after this revision are due
  std::vector<Event> taken;  // in the order next_event handed them out
};

struct RequestRecord {
  std::optional<Nanos> first_sent;
  std::uint32_t attempts = 0;
  std::optional<std::uint64_t> acknowledged_index;  // a write answered ok at this index
  std::optional<Nanos> answered_at;
  service::lock::Code code = service::lock::Code::ok;
  bool keepalive = false;
};

struct ResourceRecord {
  Nanos at;
  std::uint32_t client = 0;  // client index
  service::ResourceAccess access;
};

struct LockHistory {
  std::vector<AppliedRecord> applied;  // in index order
  std::vector<LockCall> calls;
  std::vector<Holding> holdings;
  std::vector<WatchRecord> watches;
  std::vector<ResourceRecord> resource;
  std::map<std::pair<SessionId, std::uint64_t>, RequestRecord> requests;
  std::map<SessionId, std::uint32_t> client_of;  // session -> client index
  std::map<std::pair<SessionId, std::uint64_t>, std::uint32_t> wakeups;  // by queued request
  std::uint64_t jeopardies = 0;
  std::set<std::uint32_t> crashed_clients;  // whose fibers died with their node
};

// Turns a client library's observations into history, stamped with true time.
class LockRecorder final : public service::lock::LockClientObserver {
 public:
  LockRecorder(std::uint32_t client, std::function<Nanos()> true_now, LockHistory* history)
      : client_(client), true_now_(std::move(true_now)), history_(history) {}

  void opened(SessionId session) override;
  void sent(SessionId session, std::uint64_t request, const Command& command, bool first) override;
  void answered(SessionId session, std::uint64_t request, const Command& command,
                const service::lock::Result& result, std::uint64_t index) override;
  void woken(SessionId session, std::uint64_t request) override;
  void session_event(SessionId session, service::lock::SessionEvent event) override;
  void watch_event(SessionId session, std::uint64_t watch_id, const Event& event) override;

 private:
  std::uint32_t client_;
  std::function<Nanos()> true_now_;
  LockHistory* history_;
};

// Keeps the first apply of each log index, from every replica's LockService.
class AppliedRecorder {
 public:
  AppliedRecorder(std::function<Nanos()> true_now, LockHistory* history)
      : true_now_(std::move(true_now)), history_(history) {}
  // Observes `service` (each LockService a host makes, at every start).
  void attach(service::lock::LockService& service);

 private:
  void record(const service::lock::LockService& service,
              const service::lock::AppliedCommand& applied);

  std::function<Nanos()> true_now_;
  LockHistory* history_;
  std::uint64_t last_index_ = 0;
};

}  // namespace lockstep::harness
