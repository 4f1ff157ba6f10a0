#include "harness/protocols.h"

#include <array>

#include "protocols/paxos/paxos.h"
#include "protocols/raft/raft.h"
#include "protocols/zab/zab.h"

namespace lockstep::harness {

namespace {

constexpr std::array<std::string_view, 3> kKnown = {"raft", "paxos", "zab"};

// The fields Raft and Paxos share, in the order both read them (the order names the fields in
// "expected one of the fields ..." messages).
template <typename Config>
void read_leader_timing(JsonReader& r, Config& c) {
    c.election_timeout_min =
        r.duration("election_timeout_min", c.election_timeout_min, milliseconds(1), seconds(60));
    c.election_timeout_max =
        r.duration("election_timeout_max", c.election_timeout_max, milliseconds(1), seconds(60));
    c.heartbeat_interval =
        r.duration("heartbeat_interval", c.heartbeat_interval, microseconds(100), seconds(60));
}
template <typename Config>
void read_lease_reads(JsonReader& r, Config& c) {
    c.lease_reads = r.optional<bool>("lease_reads", c.lease_reads);
    c.lease_clock_drift_bound =
        r.duration("lease_clock_drift_bound", c.lease_clock_drift_bound, Nanos::zero(), seconds(60));
}

JsonResult<raft::RaftConfig> parse_raft_options(const ProtocolOptions* options) {
  raft::RaftConfig c;
  if (options == nullptr) return c;
  return read_json([&] {
    JsonReader r(options->value, options->pointer);
    read_leader_timing(r, c);
    c.prevote = r.optional<bool>("prevote", c.prevote);
    c.check_quorum = r.optional<bool>("check_quorum", c.check_quorum);
    read_lease_reads(r, c);
    c.max_entries_per_append =
        r.unsigned_integer("max_entries_per_append", 1, 1 << 20, c.max_entries_per_append);
    c.max_inflight_appends =
        r.unsigned_integer("max_inflight_appends", 1, 1 << 16, c.max_inflight_appends);
    c.snapshot_threshold =
        r.unsigned_integer("snapshot_threshold", 0, 1ULL << 32, c.snapshot_threshold);
    c.catch_up_rounds = static_cast<std::uint32_t>(
        r.unsigned_integer("catch_up_rounds", 0, 1000, c.catch_up_rounds));
    c.bug_vote_without_log_check =
        r.optional<bool>("bug_vote_without_log_check", c.bug_vote_without_log_check);
    r.finish();
    if (auto problem = raft::validate(c)) r.fail(*problem);
    return c;
  });
}

// protocols/paxos/README.md documents these fields; keep the two in step.
JsonResult<paxos::PaxosConfig> parse_paxos_options(const ProtocolOptions* options) {
  paxos::PaxosConfig c;
  if (options == nullptr) return c;
  return read_json([&] {
    JsonReader r(options->value, options->pointer);
    read_leader_timing(r, c);
    c.master_lease = r.optional<bool>("master_lease", c.master_lease);
    c.ballot_boost = r.optional<bool>("ballot_boost", c.ballot_boost);
    read_lease_reads(r, c);
    c.max_slots_per_accept =
        r.unsigned_integer("max_slots_per_accept", 1, 1 << 20, c.max_slots_per_accept);
    c.max_inflight_accepts =
        r.unsigned_integer("max_inflight_accepts", 1, 1 << 16, c.max_inflight_accepts);
    c.max_unchosen_slots =
        r.unsigned_integer("max_unchosen_slots", 1, 1 << 20, c.max_unchosen_slots);
    r.finish();
    if (auto problem = paxos::validate(c)) r.fail(*problem);
    return c;
  });
}

JsonResult<zab::ZabConfig> parse_zab_options(const ProtocolOptions* options) {
  zab::ZabConfig c;
  if (options == nullptr) return c;
  return read_json([&] {
    JsonReader r(options->value, options->pointer);
    c.heartbeat_interval =
        r.duration("heartbeat_interval", c.heartbeat_interval, microseconds(100), seconds(60));
    c.sync_timeout = r.duration("sync_timeout", c.sync_timeout, milliseconds(1), seconds(60));
    c.init_timeout = r.duration("init_timeout", c.init_timeout, milliseconds(1), seconds(600));
    c.notification_timeout_min = r.duration("notification_timeout_min",
                                            c.notification_timeout_min, milliseconds(1), seconds(60));
    c.notification_timeout_max = r.duration("notification_timeout_max",
                                            c.notification_timeout_max, milliseconds(1), seconds(60));
    c.finalize_wait = r.duration("finalize_wait", c.finalize_wait, Nanos::zero(), seconds(60));
    c.gap_timeout = r.duration("gap_timeout", c.gap_timeout, microseconds(100), seconds(60));
    c.reorder_window = r.unsigned_integer("reorder_window", 1, 1 << 16, c.reorder_window);
    c.max_outstanding_proposals =
        r.unsigned_integer("max_outstanding_proposals", 1, 1 << 20, c.max_outstanding_proposals);
    c.max_txns_per_diff = r.unsigned_integer("max_txns_per_diff", 1, 1 << 20, c.max_txns_per_diff);
    c.ack_newleader_before_sync =
        r.optional<bool>("ack_newleader_before_sync", c.ack_newleader_before_sync);
    c.diff_instead_of_trunc = r.optional<bool>("diff_instead_of_trunc", c.diff_instead_of_trunc);
    r.finish();
    if (auto problem = zab::validate(c)) r.fail(*problem);
    return c;
  });
}

// A module entry from its option parser and factories: every protocol is registered the same way.
template <typename Config>
ProtocolModule module(std::string_view name,
                      JsonResult<Config> (*parse)(const ProtocolOptions*),
                      std::unique_ptr<consensus::Replica> (*make_replica)(
                          const Config&, NodeId, std::vector<NodeId>, std::uint64_t),
                      std::unique_ptr<consensus::ClusterChecker> (*make_checker)()) {
  return ProtocolModule{
      name,
      [parse, make_replica](const ProtocolOptions* options) -> JsonResult<ReplicaMaker> {
        auto parsed = parse(options);
        if (auto* error = std::get_if<JsonError>(&parsed)) return *error;
        const Config config = std::get<Config>(parsed);
        return ReplicaMaker(
            [config, make_replica](NodeId self, std::vector<NodeId> members, std::uint64_t seed) {
              return make_replica(config, self, std::move(members), seed);
            });
      },
      make_checker};
}

const std::array<ProtocolModule, 3> kRunnable = {
    module<raft::RaftConfig>("raft", parse_raft_options, raft::make_raft_replica,
                             raft::make_raft_checker),
    module<paxos::PaxosConfig>("paxos", parse_paxos_options, paxos::make_paxos_replica,
                               paxos::make_paxos_checker),
    module<zab::ZabConfig>("zab", parse_zab_options, zab::make_zab_replica, zab::make_zab_checker),
};

}  // namespace

std::span<const std::string_view> known_protocols() { return kKnown; }
std::span<const ProtocolModule> runnable_protocols() { return kRunnable; }

const ProtocolModule* find_protocol(std::string_view name) {
  for (const ProtocolModule& m : kRunnable) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace lockstep::harness
