// What a report needs to know about a run beyond its verdicts, collected while it runs when
// RunOptions::collect_timeline asks for it (and not at all otherwise): every client call, who
// believed it led and in which term, the fault windows, the commits over time, and the last
// message sends, deliveries and faults before the run ended or stopped at a violation.
//
// Collection reads the world through a sim::TraceTap and the run's step observer; it draws no
// random numbers and changes nothing, so the trace and its hash are the same with or without it.
// Everything is recorded in the order the simulator produced it, so the timeline is as
// deterministic as the run.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/types.h"
#include "protocols/consensus.h"
#include "sim/trace.h"

namespace lockstep::sim {
class World;
}

namespace lockstep::harness {

// How many message and fault events the violation window keeps (a ring: the last ones).
inline constexpr std::size_t kWindowEventsDefault = 48;
inline constexpr std::size_t kWindowEventsMax = 1000;

enum class CallResult : std::uint8_t { ok, failed, unknown };
std::string_view to_string(CallResult result);

// One client call, true time.
struct CallRecord {
  std::uint32_t client = 0;
  std::string op;  // "append", "acquire", "set", ...
  Nanos invoked;
  std::optional<Nanos> returned;
  CallResult result = CallResult::unknown;
  // Waits for other clients by design (acquire, campaign): its latency is not the service's.
  bool waits = false;
};

// A server's own view of its role from `from` until `until`: a span is cut wherever the role,
// the term or the leader it names changes, the server crashes or restarts, or the run ends.
struct RoleSpan {
  std::uint32_t node = 0;
  Nanos from;
  Nanos until;
  bool up = true;  // false: crashed for the whole span (role and leader then mean nothing)
  consensus::Role role = consensus::Role::follower;
  std::uint64_t term = 0;  // Raft's term, Paxos's ballot round, Zab's epoch
  std::optional<NodeId> leader;
};

enum class FaultKind : std::uint8_t {
  crash,      // a server was down
  pause,      // a server or client was frozen
  partition,  // the network was split (until the next heal or partition)
  clog,       // links held messages
  instant,    // something that happened at one moment: clock jump, drift, disk corruption,
              // network setting
};
std::string_view to_string(FaultKind kind);

struct FaultWindow {
  FaultKind kind = FaultKind::instant;
  Nanos from;
  Nanos until;  // == from for instant faults
  std::string label;  // "crash n2", "partition {2} | {0,1,3,4} (isolate leader)"
  // The servers it took away from the majority: the crashed or paused server, the servers a
  // partition cut off from every majority. Empty: none in particular (a clog, an instant fault,
  // a client's pause).
  std::vector<std::uint32_t> servers;
};

// The highest index any server had applied rose to `index` at `at`.
struct CommitPoint {
  Nanos at;
  std::uint64_t index = 0;
};

// A message send, delivery or drop, or a fault, in the window before the run ended.
struct WindowEvent {
  enum class Kind : std::uint8_t { send, deliver, drop, crash, restart, pause, resume, fault };
  Kind kind = Kind::send;
  Nanos at;
  std::uint32_t node = 0;  // sender for send and drop, receiver for deliver, the node of a fault
  std::uint32_t peer = 0;  // receiver for send and drop, sender for deliver
  std::string label;       // message type ("AppendEntries"), or the fault's description
  std::uint64_t message = 0;  // a hash of the payload, to pair a delivery with its send
};

struct RunTimeline {
  std::uint32_t servers = 0;
  std::vector<std::string> node_names;  // every node of the world, by id
  Nanos duration;  // the scenario's: clients run and faults fire in [0, duration)
  Nanos end;       // how far true time got
  std::vector<CallRecord> calls;  // in invocation order
  std::vector<RoleSpan> roles;    // by node, then time; each server's spans tile [0, end)
  std::vector<FaultWindow> faults;  // by start time
  std::vector<CommitPoint> commits;  // by time
  std::uint64_t committed = 0;       // the highest index applied by the end
  std::vector<WindowEvent> window;   // the last events, oldest first
  std::optional<Nanos> violation_at;  // when the run stopped at a broken invariant
};

// Collects a RunTimeline from the trace and the run's observer calls.
class TimelineRecorder final : public sim::TraceTap {
 public:
  TimelineRecorder(sim::World& world, std::uint32_t servers, std::string protocol,
                   std::size_t window_events = kWindowEventsDefault);

  void on_event(const sim::TraceEvent& event) override;
  // After a step on a server (or on every server after a scheduled action): its role as the
  // host reports it, whether it is up, and what it has applied.
  void observe_server(std::uint32_t server, bool up, const consensus::RoleChange& role,
                      std::uint64_t applied_index);
  // The run ends: closes every open span and window at `end`.
  RunTimeline finish(Nanos duration, Nanos end, std::vector<CallRecord> calls,
                     std::optional<Nanos> violation_at);

 private:
  void open_role(std::uint32_t server, bool up, const consensus::RoleChange& role);
  void open_window(FaultKind kind, std::string label, std::vector<std::uint32_t> servers);
  void close_windows(FaultKind kind, std::optional<std::uint32_t> server);
  void on_fault(std::string_view description);
  // Keeps the event in the window ring (overwriting the oldest once full). A message's payload
  // is copied into the slot's reused buffer and named only at finish(), so keeping it costs a
  // copy, not a decode.
  void push_window_event(const sim::TraceEvent& event, WindowEvent::Kind kind, std::uint32_t peer);
  // Servers that cannot exchange messages both ways with a majority of the servers.
  std::vector<std::uint32_t> cut_off_servers() const;

  sim::World& world_;
  std::uint32_t servers_;
  std::string protocol_;
  std::size_t window_max_;
  RunTimeline timeline_;
  // Per server: its open role span, as an index into timeline_.roles.
  std::vector<std::size_t> open_role_;
  // Open fault windows, as indexes into timeline_.faults (until is set when they close).
  std::vector<std::size_t> open_faults_;
  std::string partition_;  // the network's partition as last seen
  // The window ring: window_max_ slots, next_ the oldest once full.
  std::vector<WindowEvent> ring_;
  std::vector<Bytes> payloads_;  // beside ring_, slot for slot
  std::size_t next_ = 0;
};

}  // namespace lockstep::harness
