// A scenario: everything one run needs besides the binary — which protocols, the cluster, the
// simulated network, clocks and disks, the client workload, the faults (scripted and random),
// the properties to check and the verdict expected. Users write scenarios as JSON files; the
// fields, their defaults and an example are documented in scenarios/README.md, which this header
// must agree with.
//
// Loading is strict: an unknown field, a value of the wrong type or out of range, a node id the
// cluster does not have, all stop the load with ONE line naming the file, the JSON pointer, what
// was allowed and what was found:
//
//   scenarios/x.json: /faults/3/node: expected a node id in 0..4, got 7
//
// Node selectors such as "leader" are stored as written and resolved by the runner at the time
// the fault fires. A Scenario prints back to JSON (to_json) and loads back equal, so the fuzzer
// can write a shrunk failing run as a regression scenario.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/json_reader.h"
#include "core/types.h"
#include "service/protected_resource.h"
#include "sim/config.h"

namespace lockstep::harness {

// Limits on what a scenario may ask for (STYLE.md 7).
inline constexpr std::uint32_t kNodesMax = 9;
inline constexpr Nanos kDurationMax = seconds(3600);  // simulated time of one run
inline constexpr std::uint64_t kEventLimitMax = 10'000'000'000;
inline constexpr std::uint32_t kClientsMax = 100;  // over all client groups
inline constexpr std::size_t kFaultsMax = 10'000;
inline constexpr Nanos kLatencyMax = seconds(60);
inline constexpr std::uint64_t kInFlightMax = 100'000'000;  // messages in flight network-wide
inline constexpr double kDriftPpmMax = 100'000;             // a clock 10% fast or slow
inline constexpr std::size_t kNameLengthMax = 100;
inline constexpr std::size_t kDescriptionLengthMax = 10'000;
inline constexpr std::size_t kFileBytesMax = 16 << 20;
inline constexpr std::uint64_t kLeaderChangesMax = 1'000'000'000;  // bound in `expect`
inline constexpr std::uint32_t kLockNamesMax = 10'000;  // locks, elections, keys of a workload
inline constexpr std::uint64_t kEventHistoryMax = 1'000'000;

// Which nodes a fault applies to. Symbolic selectors are resolved by the runner when the fault
// fires, with the fault stream of the seed for the random choices. Servers are selected by id or
// by role; lock-service clients (crash, pause and clock faults only) by their index among all
// clients or by what they hold.
struct NodeSelector {
  enum class Kind : std::uint8_t {
    ids,       // the listed servers
    leader,    // the current leader, as the protocol reports it (none: the fault does nothing)
    follower,  // one server that is not the leader
    minority,  // (nodes - 1) / 2 servers
    majority,  // nodes / 2 + 1 servers
    random,    // one server
    all,       // every server
    // Clients (after `all`: the server selectors' table ends there).
    client,       // the listed clients, by index over all client groups (`ids` holds indexes)
    lock_holder,  // one client that holds an exclusive lock now (by its own account)
    elected,      // one client that leads an election now (by its own account)
  };
  Kind kind = Kind::ids;
  // Kind::ids: distinct server ids, each < nodes, one or more. Kind::client: client indexes.
  std::vector<NodeId> ids;
  bool names_clients() const { return kind >= Kind::client; }

  static NodeSelector of(std::initializer_list<std::uint32_t> ids);
  static NodeSelector symbolic(Kind kind) { return NodeSelector{kind, {}}; }
  friend bool operator==(const NodeSelector&, const NodeSelector&) = default;
};

// Partition shapes (Jepsen's names). A partition replaces any partition in force.
struct PartitionSymmetric {  // servers talk only within their group; unlisted servers form one more
  std::vector<std::vector<NodeId>> groups;
  friend bool operator==(const PartitionSymmetric&, const PartitionSymmetric&) = default;
};
struct PartitionOneWay {  // messages from `from` to `to` are dropped; the other direction flows
  NodeSelector from;
  NodeSelector to;
  friend bool operator==(const PartitionOneWay&, const PartitionOneWay&) = default;
};
struct PartitionBridge {  // two halves that cannot talk, and one server that talks to both
  std::optional<NodeSelector> node;  // the bridge (one server); nullopt: chosen by the seed
  friend bool operator==(const PartitionBridge&, const PartitionBridge&) = default;
};
struct PartitionMajoritiesRing {  // every server sees a majority, no two the same majority
  friend bool operator==(const PartitionMajoritiesRing&, const PartitionMajoritiesRing&) = default;
};
struct PartitionIsolate {  // `node` talks to no one
  NodeSelector node;
  friend bool operator==(const PartitionIsolate&, const PartitionIsolate&) = default;
};
// The one link between two servers is cut both ways; every other pair still talks. Each end is
// one server (an id, leader, follower or random). A random end (follower, random) is picked
// among the servers other than the other end; ends that resolve to the same server (`[1,
// "leader"]` while server 1 leads) make the fault do nothing, and the trace says so.
struct PartitionLink {
  NodeSelector a;  // JSON "between": [a, b]
  NodeSelector b;
  friend bool operator==(const PartitionLink&, const PartitionLink&) = default;
};
using PartitionShape = std::variant<PartitionSymmetric, PartitionOneWay, PartitionBridge,
                                    PartitionMajoritiesRing, PartitionIsolate, PartitionLink>;

// Network settings changed mid-run: only the fields present change, the others keep their value.
struct NetworkChange {
  std::optional<sim::LatencyDistribution> latency;
  std::optional<double> loss;
  std::optional<double> duplicate;
  std::optional<double> reorder;
  std::optional<Nanos> reorder_delay_max;
  std::optional<std::uint64_t> in_flight_max;

  void apply_to(sim::NetworkConfig& config) const;
  friend bool operator==(const NetworkChange&, const NetworkChange&) = default;
};

// The fault actions. JSON "action" is the snake_case name of the struct.
struct Partition {
  PartitionShape shape;
  friend bool operator==(const Partition&, const Partition&) = default;
};
struct Heal {  // removes every partition and clog
  friend bool operator==(const Heal&, const Heal&) = default;
};
struct Crash {  // the server stops; what it had not synced to disk is lost
  NodeSelector node;
  std::optional<Nanos> restart_after;  // JSON "for": restart it automatically after this long
  friend bool operator==(const Crash&, const Crash&) = default;
};
struct Restart {      // crashed servers recover from their disk
  NodeSelector node;  // ids or all (default)
  friend bool operator==(const Restart&, const Restart&) = default;
};
struct Pause {  // the server and its clock stop (a GC or VM freeze); true time goes on
  NodeSelector node;
  std::optional<Nanos> resume_after;  // JSON "for"
  friend bool operator==(const Pause&, const Pause&) = default;
};
struct Resume {
  NodeSelector node;  // ids or all (default)
  friend bool operator==(const Resume&, const Resume&) = default;
};
struct ClockJump {  // the server's wall clock jumps by `by` (negative: backwards)
  NodeSelector node;
  Nanos by;
  friend bool operator==(const ClockJump&, const ClockJump&) = default;
};
struct ClockDrift {  // the server's clock now runs `ppm` parts per million fast (negative: slow)
  NodeSelector node;
  double ppm = 0.0;
  friend bool operator==(const ClockDrift&, const ClockDrift&) = default;
};
struct Clog {  // messages from `from` to `to` are held, then delivered when the clog ends
  NodeSelector from;
  NodeSelector to;
  Nanos duration;  // JSON "for"
  friend bool operator==(const Clog&, const Clog&) = default;
};
struct SetNetwork {
  NetworkChange change;
  friend bool operator==(const SetNetwork&, const SetNetwork&) = default;
};
struct CorruptDisk {  // flips a bit in the server's stored data; recovery must detect it
  NodeSelector node;
  friend bool operator==(const CorruptDisk&, const CorruptDisk&) = default;
};
using FaultAction = std::variant<Partition, Heal, Crash, Restart, Pause, Resume, ClockJump,
                                 ClockDrift, Clog, SetNetwork, CorruptDisk>;

// "partition", "heal", ...: the JSON name of an action.
std::string_view fault_action_name(const FaultAction& action);

struct Fault {
  Nanos at;  // simulated time since the start of the run
  FaultAction action;
  friend bool operator==(const Fault&, const Fault&) = default;
};

// Client workloads: a kind with its own settings, plus settings common to every kind.
struct AppendWorkload {  // each client appends a command to the replicated log, one at a time
  Nanos interval = milliseconds(50);  // pause between a reply (or timeout) and the next request
  friend bool operator==(const AppendWorkload&, const AppendWorkload&) = default;
};
// Lock-service workloads (service/lock/): each client opens a session and runs straight-line
// code on the client library. Locks are the nodes /ls/<cell>/locks/lock<i>, elections
// /ls/<cell>/elections/election<i>, configuration keys /ls/<cell>/config/key<i>.
//
// Each round: acquire a random lock (exclusive), wait `hold`, read its counter from the protected
// resource, write it back plus one, release, wait `interval`. The counter's key on the resource
// is the lock's path and every resource call carries the lock's sequencer. The client trusts a
// granted lock until it releases it, as most applications do: fencing is what makes that safe.
struct LockCounterWorkload {
  std::uint32_t locks = 1;
  Nanos hold = milliseconds(10);
  Nanos interval = milliseconds(50);
  Nanos acquire_timeout = seconds(5);
  // Each client also keeps an ephemeral node /ls/<cell>/members/client<i> while its session lives.
  bool presence = false;
  // Client i always takes lock i mod `locks` instead of a random one: with at least as many locks
  // as clients, no two clients ever contend (the uncontended case of the lock benchmark).
  bool own_lock = false;
  // false: rounds only acquire, hold and release; the protected resource is not touched (pure
  // lock traffic, as the lock benchmark measures it).
  bool use_resource = true;
  friend bool operator==(const LockCounterWorkload&, const LockCounterWorkload&) = default;
};
// Candidates campaign on a random election; the elected one writes to the resource every
// `work_interval` with its fencing token for `term`, then resigns and campaigns again (term 0:
// it leads until its session ends).
struct ElectionWorkload {
  std::uint32_t elections = 1;
  Nanos term = seconds(1);
  Nanos work_interval = milliseconds(50);
  Nanos campaign_timeout = seconds(30);
  friend bool operator==(const ElectionWorkload&, const ElectionWorkload&) = default;
};
// Each operation on a random key: get, set, compare-and-set (get, then set at the version read)
// or a sequential create below the key, equally likely; then `interval`. With `watch`, every
// client also watches the whole cell (/ls/<cell>, recursively) and takes each event as it comes.
// How a config client reads: through the leader's read barrier, or from whichever server it
// talks to (Consistency::stale), which a deposed leader may answer from an old state.
enum class ReadConsistency : std::uint8_t { linearizable, stale };
struct ConfigWorkload {
  std::uint32_t keys = 4;
  Nanos interval = milliseconds(50);
  bool watch = true;
  ReadConsistency reads = ReadConsistency::linearizable;
  bool read_only = false;  // every operation is a get (the setup still creates the keys)
  friend bool operator==(const ConfigWorkload&, const ConfigWorkload&) = default;
};
// Each round is a lock-counter round or a config operation, equally likely (watching as config).
struct MixWorkload {
  std::uint32_t locks = 1;
  std::uint32_t keys = 4;
  Nanos hold = milliseconds(10);
  Nanos interval = milliseconds(50);
  Nanos acquire_timeout = seconds(5);
  friend bool operator==(const MixWorkload&, const MixWorkload&) = default;
};
using Workload =
    std::variant<AppendWorkload, LockCounterWorkload, ElectionWorkload, ConfigWorkload, MixWorkload>;
// Whether `w` runs on the lock service (everything but append).
inline bool is_lock_workload(const Workload& w) { return !std::holds_alternative<AppendWorkload>(w); }

struct ClientGroup {
  Workload workload;
  std::uint32_t count = 1;             // clients running this workload
  Nanos request_timeout = seconds(1);  // a request without reply by then has outcome unknown
  Nanos start = Nanos::zero();         // when the clients start
  std::optional<Nanos> stop;           // when they stop issuing requests; nullopt: the end
  friend bool operator==(const ClientGroup&, const ClientGroup&) = default;
};

// The workload of a scenario that names none: three append clients.
inline std::vector<ClientGroup> default_clients() {
  ClientGroup group;
  group.count = 3;
  return {group};
}

// Random faults drawn from the seed: one every `interval` on average (exponential gaps), each
// undone after a uniform [fault_duration_min, fault_duration_max].
enum class NemesisKind : std::uint8_t {
  partition,
  crash,
  pause,
  clock_jump,
  clock_drift,
  clog,
  corrupt_disk,
};
struct Nemesis {
  bool enabled = false;
  Nanos interval = seconds(1);
  Nanos fault_duration_min = milliseconds(500);
  Nanos fault_duration_max = seconds(5);
  std::vector<NemesisKind> kinds = {NemesisKind::partition,   NemesisKind::crash,
                                    NemesisKind::pause,       NemesisKind::clock_jump,
                                    NemesisKind::clock_drift, NemesisKind::clog};
  // Servers crashed or paused at the same time, at most; nullopt: a minority, (nodes - 1) / 2.
  std::optional<std::uint32_t> max_down;
  Nanos clock_jump_max = seconds(1);
  double clock_drift_ppm_max = 1000.0;
  Nanos start = Nanos::zero();
  std::optional<Nanos> stop;  // every fault still in force is undone here; nullopt: the end
  friend bool operator==(const Nemesis&, const Nemesis&) = default;
};

// The lock service's settings for lock workloads (LockConfig and the clients' session).
struct ServiceSettings {
  std::string cell = "local";
  Nanos session_ttl = seconds(2);    // the lease clients open their sessions with
  Nanos session_grace = seconds(5);  // after a failover (also the clients' jeopardy limit)
  Nanos lock_delay = seconds(1);
  std::uint64_t event_history_max = 1024;
  Nanos wait_resend = seconds(1);  // a queued acquire or campaign re-sends its request this often
  friend bool operator==(const ServiceSettings&, const ServiceSettings&) = default;
};

// The protected resource of lock workloads (service/protected_resource.h).
struct ResourceSettings {
  service::ResourceMode mode = service::ResourceMode::fencing;
  friend bool operator==(const ResourceSettings&, const ResourceSettings&) = default;
};

enum class Property : std::uint8_t {
  linearizability,
  mutual_exclusion,
  fencing,
  invariants,
  durability,
  liveness,
  session_safety,
  at_most_once,
  watch_delivery,
  lock_handoff,
};
inline constexpr std::string_view kPropertyNames[] = {
    "linearizability", "mutual_exclusion", "fencing",        "invariants",   "durability",
    "liveness",        "session_safety",   "at_most_once",   "watch_delivery", "lock_handoff",
};
std::string_view property_name(Property p);
// The property named `name` ("invariants"); nullopt for any other text.
std::optional<Property> property_from_name(std::string_view name);

// Every property, in kPropertyNames order. (Out of line: GCC 12 warns falsely about the
// initializer list when a default member initializer inlines it.)
std::vector<Property> all_properties();

struct Checks {
  std::vector<Property> properties = all_properties();
  // After the last fault is healed, with a majority up, every pending client call must finish
  // within this bound.
  Nanos liveness_bound = seconds(5);
  // lock_handoff: bounds on the time from a holder's release call to the next waiter's acquire
  // returning — the median (a handoff costs about one commit round) and the longest (no handoff
  // waited for a re-send). nullopt: not bounded, only FIFO order and wake-ups are checked.
  std::optional<Nanos> handoff_p50_max;
  std::optional<Nanos> handoff_max;
  friend bool operator==(const Checks&, const Checks&) = default;
};

// What a lock run counts, for `expect.at_least` / `expect.at_most`.
enum class Counter : std::uint8_t {
  sessions_expired,       // sessions the service expired (ExpireSession applied)
  elections,              // leaders elected (election grants)
  stale_writes_rejected,  // resource requests refused for a stale sequencer
  retried_requests,       // client requests answered after more than one attempt
  handoffs,               // grants of a lock to a client that waited for it
  lock_grants,            // grants of locks (not elections)
  watch_events,           // events watchers took
  session_jeopardy,       // times a client's session went into jeopardy
  retries_from_record,    // applies of a request that ran before, answered from its record
  expiry_events_watched,  // events watchers took that a session's expiry made
  lock_delays_served,     // locks granted again after the lock-delay of an expired holder
  overlapping_holders,    // pairs of clients that believed they held one lock at the same time
  watch_resumes,          // watches registered again from a revision (after a gap or failover)
};
inline constexpr std::string_view kCounterNames[] = {
    "sessions_expired",    "elections",           "stale_writes_rejected", "retried_requests",
    "handoffs",            "lock_grants",         "watch_events",          "session_jeopardy",
    "retries_from_record", "expiry_events_watched", "lock_delays_served",  "overlapping_holders",
    "watch_resumes",
};
std::string_view counter_name(Counter c);

// What a run must end with. Besides the property verdicts, a scenario may bound how often
// leadership changed, to show a single clean failover (max) or to expect churn (min), and may
// require that a crash cut a sync short, to show that it exercises recovery from the unsynced
// tail such a crash leaves (sim/disk.h).
//
// A leader change is the live leader of the highest term changing identity or term, counting
// from the first leader seen (so the first election is not a change). Only changes seen at or
// after `leader_changes_after` count; the leader in office at that time is the baseline. The
// count runs to the end of the settle window.
struct Expectation {
  std::optional<Property> violation;  // nullopt: every checked property holds
  std::optional<std::uint64_t> leader_changes_min;
  std::optional<std::uint64_t> leader_changes_max;
  Nanos leader_changes_after = Nanos::zero();
  // true: at least one crash of a server landed inside one of its sync windows, so the server
  // lost, or found torn, data it had been told was synced; false: no crash did. nullopt: not
  // checked.
  std::optional<bool> unsynced_tail_lost;
  // Lock runs: bounds on what the run counted (it exercised what the scenario is about).
  std::map<Counter, std::uint64_t> at_least;
  std::map<Counter, std::uint64_t> at_most;

  bool bounds_counters() const { return !at_least.empty() || !at_most.empty(); }
  bool bounds_leader_changes() const {
    return leader_changes_min.has_value() || leader_changes_max.has_value();
  }
  friend bool operator==(const Expectation&, const Expectation&) = default;
};

// A protocol's option block, kept as written; the protocol module reads it with a JsonReader
// built from `value` and `pointer`, so its errors point into the scenario file.
struct ProtocolOptions {
  nlohmann::json value;
  std::string pointer;  // "/protocol_options/raft"
  friend bool operator==(const ProtocolOptions&, const ProtocolOptions&) = default;
};

struct Scenario {
  std::string name;  // default: the file name without directory and extension
  std::string description;
  std::vector<std::string> protocols;  // required; "all" is expanded to the known protocols
  std::uint32_t nodes = 3;             // required: servers, 1..kNodesMax
  std::uint64_t seed = 1;
  Nanos duration = seconds(10);
  std::uint64_t event_limit = 50'000'000;
  sim::NetworkConfig network;
  sim::ClockConfig clocks;
  sim::DiskConfig disk;
  std::map<std::string, ProtocolOptions, std::less<>> protocol_options;
  std::vector<ClientGroup> clients = default_clients();
  ServiceSettings service;    // used by lock workloads
  ResourceSettings resource;  // used by lock workloads
  std::vector<Fault> faults;  // sorted by `at`; equal times keep file order
  Nemesis nemesis;
  Checks checks;
  Expectation expect;
  // What a protocol is expected to do where it differs from `expect` (e.g. a liveness behaviour
  // of one protocol); a protocol without an entry is held to `expect`.
  std::map<std::string, Expectation, std::less<>> expect_for;

  const Expectation& expectation(std::string_view protocol) const {
    const auto it = expect_for.find(protocol);
    return it == expect_for.end() ? expect : it->second;
  }

  bool runs_lock_service() const {
    return !clients.empty() && is_lock_workload(clients.front().workload);
  }
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

// One line, ready to print: "FILE: /pointer: expected ..., got ...".
struct LoadError {
  std::string message;
};

// `file_label` names the input in messages and gives the default name. `known_protocols` are the
// names the caller can run (or may run later); "all" means all of them.
std::variant<Scenario, LoadError> parse_scenario(const nlohmann::json& document,
                                                 std::string_view file_label,
                                                 std::span<const std::string_view> known_protocols);
std::variant<Scenario, LoadError> parse_scenario_text(
    std::string_view text, std::string_view file_label,
    std::span<const std::string_view> known_protocols);
std::variant<Scenario, LoadError> load_scenario_file(
    const std::string& path, std::span<const std::string_view> known_protocols);

// "FILE: /pointer: message", for errors found later in a loaded scenario (protocol options).
std::string format_error(std::string_view file_label, const JsonError& error);

// Every field written out, defaults included, in the order of scenarios/README.md.
nlohmann::ordered_json to_json(const Scenario& scenario);

}  // namespace lockstep::harness
