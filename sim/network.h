// The simulated network: a pure model that decides, for each message, whether and when it
// arrives. It owns no queue and no payloads. The world asks it twice about every message —
// when a node sends (`on_send`: drop it, or deliver one or two copies at these times) and when a
// copy reaches its destination (`on_arrival`: deliver, drop, or hold it until a clog ends) — and
// schedules the deliveries itself.
//
// What it models (DESIGN.md, "The simulator"):
//  - Latency per copy from NetworkConfig::latency: constant, uniform [min, max], or lognormal
//    given by its median and 99th percentile, clamped to [0, max] (sampled by sim/latency.h,
//    with portable arithmetic, so the same seed gives the same nanoseconds on every machine).
//  - FIFO links: each directed link delivers in send order, like TCP: a copy's delivery time is
//    max(now + latency, the link's latest FIFO delivery time). With probability `reorder` a copy
//    skips FIFO: it gets now + latency + uniform [0, reorder_delay_max] and does not hold back
//    later copies.
//  - Loss (the message is dropped at send) and duplication (a second copy with its own latency,
//    also FIFO unless it is picked for reordering).
//  - A limit on copies in flight in the whole network (`in_flight_max`): a send that would pass
//    it is dropped (reason in_flight_limit); a duplicate that would pass it is not made.
//  - Partitions, stored as a dense node x node "blocked" matrix so `connected` is O(1). A send
//    on a blocked link is dropped; so is a copy that finds its link blocked when it arrives
//    (a partition made while it was in flight). Every partition call REPLACES the current
//    partition. Helpers take the nodes they apply to, so a nemesis can partition the servers and
//    leave the clients alone; nodes a helper does not name keep talking to everyone.
//  - Clogs, per directed link, separate from partitions: a copy that arrives while its link is
//    clogged is held, not dropped, until the clog ends; copies arriving behind held ones wait
//    behind them, so a clog never reorders a link. Clogs expire by time; `heal` ends them early
//    for copies that arrive from then on.
//  - Node up/down (`set_node_up`): a copy whose destination is down when it would be delivered
//    is dropped (reason node_down). A message to a down node is still sent: the sender cannot
//    know.
//
// Contract with the world (it keeps `in_flight` and the statistics exact):
//  1. For each message a node sends, call `on_send` once, at the send time. It returns 0, 1 or 2
//     copies. Schedule an arrival for each copy at `deliver_at[i]`, copy 0 first (copies at the
//     same instant must be popped in push order for FIFO to hold; sim::EventQueue does this).
//  2. When a copy's arrival comes up, call `on_arrival(now, from, to, bytes,
//     ArrivalAttempt::first)` exactly once. `deliver`: hand it to the destination. `drop`: forget
//     it. `hold`: schedule it again at `hold_until` (>= now) and then call `on_arrival(...,
//     ArrivalAttempt::after_hold)` exactly once; that second call never holds again.
//  3. Every copy therefore ends in exactly one `deliver` or `drop`, and the network counts it
//     out of `in_flight` then. The world must not drop a scheduled copy on its own (tell the
//     network about crashed nodes with `set_node_up` instead), or in_flight leaks.
//  4. `from`, `to` and `bytes` at arrival must be those given to `on_send`.
//
// Each directed link has its own random stream, derived from the network's stream and the link's
// endpoints, so adding a node (a client) never changes the draws on the other links.
// Random draws happen in a fixed order per send and only for what is enabled: loss (if
// 0 < loss < 1), latency (none for constant), reorder (if 0 < reorder < 1) and its extra delay,
// duplicate (if 0 < duplicate < 1), then the duplicate's latency and reorder. A fault-free
// config draws only latencies; turning a fault on shifts every later draw on each link. Sends that
// are refused before any draw (partitioned link, in-flight limit) draw nothing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/assert.h"
#include "core/rng.h"
#include "core/types.h"
#include "sim/config.h"
#include "sim/latency.h"

namespace lockstep::sim {

// The network holds node_count^2 link records (~130 bytes each); this keeps that under 10 MB.
inline constexpr std::uint32_t kNetworkNodesMax = 256;

enum class DropReason : std::uint8_t {
  partitioned,      // the link was blocked at send or at arrival
  loss,             // random loss at send
  in_flight_limit,  // NetworkConfig::in_flight_max reached at send
  node_down,        // the destination was down when the copy would have been delivered
  // Never decided by the network: the world drops a message its sender held back behind a sync
  // in flight when the sender crashes before the sync completes (sim/world.h). Such a message
  // never reaches the network, so no LinkStats counts it.
  sender_crashed,
};
inline constexpr std::size_t kDropReasonCount = 5;
std::string_view to_string(DropReason reason);

struct SendDecision {
  std::uint8_t copies = 0;  // 0: dropped for `reason`; 1; or 2 when duplicated
  DropReason reason = DropReason::partitioned;  // meaningful only when copies == 0
  std::array<Nanos, 2> deliver_at{};            // absolute times of copies [0, copies)

  bool dropped() const { return copies == 0; }
};

enum class ArrivalKind : std::uint8_t { deliver, drop, hold };
enum class ArrivalAttempt : std::uint8_t { first, after_hold };

struct ArrivalDecision {
  ArrivalKind kind = ArrivalKind::deliver;
  DropReason reason = DropReason::partitioned;  // meaningful only for drop
  Nanos hold_until;                             // meaningful only for hold; >= now
};

// Counters for one directed link, or for the whole network. Each copy is counted once in
// `delivered` or in `dropped`, or is still `in_flight`; so, always,
//   sent + duplicated == delivered + sum(dropped) + in_flight
// where drops at send count the message itself (it has no copies).
struct LinkStats {
  std::uint64_t sent = 0;        // messages given to on_send
  std::uint64_t sent_bytes = 0;
  std::uint64_t duplicated = 0;  // extra copies made
  std::uint64_t delivered = 0;   // copies delivered
  std::uint64_t delivered_bytes = 0;
  std::array<std::uint64_t, kDropReasonCount> dropped{};  // by DropReason
  std::uint64_t dropped_bytes = 0;
  std::uint64_t held = 0;        // holds by clogs (a held copy still ends delivered or dropped)
  std::uint64_t in_flight = 0;   // copies scheduled and not yet delivered or dropped

  std::uint64_t dropped_total() const;
  std::uint64_t dropped_by(DropReason reason) const {
    return dropped[static_cast<std::size_t>(reason)];
  }
};

struct NetworkStats {
  std::uint32_t node_count = 0;
  LinkStats total;
  std::vector<LinkStats> links;  // row-major: from * node_count + to

  const LinkStats& link(NodeId from, NodeId to) const;
};

// Checks a config that came from outside (a scenario file, a CLI flag). Returns a message that
// names the field, the value found and what is allowed, or nullopt when the config is usable.
// The Network asserts on a config this rejects: callers validate first.
std::optional<std::string> validate(const NetworkConfig& config);

class Network {
 public:
  // node_count in [1, kNetworkNodesMax]; all nodes start up and fully connected.
  Network(std::uint32_t node_count, NetworkConfig config, Rng rng);

  // Hot path: no allocation, O(1). See the contract above.
  SendDecision on_send(Nanos now, NodeId from, NodeId to, std::size_t bytes);
  ArrivalDecision on_arrival(Nanos now, NodeId from, NodeId to, std::size_t bytes,
                             ArrivalAttempt attempt);

  // Partitions. Each replaces the current partition (clogs are separate). Node lists must name
  // existing nodes, each at most once across the call's arguments.
  //
  // Nodes in different groups cannot talk (either way); nodes in no group are not cut off.
  void partition_symmetric(std::span<const std::vector<NodeId>> groups);
  // Messages from any node of `from` to any node of `to` are dropped; `to` -> `from` delivers.
  void partition_one_way(std::span<const NodeId> from, std::span<const NodeId> to);
  // Jepsen's bridge: the nodes other than `bridge_node`, in the given order, are split into two
  // halves (the first floor(k/2) and the rest) that cannot talk to each other; both halves talk
  // to `bridge_node`. `nodes` must contain `bridge_node`.
  void bridge(std::span<const NodeId> nodes, NodeId bridge_node);
  // Jepsen's majorities ring: `nodes`, in the given order, form a ring and each talks only to
  // the ring neighbours within distance d = ceil(floor(n/2) / 2). Each node then sees a majority
  // of `nodes` (2d + 1 > n/2, itself included), and for n >= 4 no two nodes see the same one.
  // With 5 nodes, node i talks to i-1 and i+1 and is cut off from i-2 and i+2. With n <= 3 no
  // such ring exists and nothing is blocked. Shuffle `nodes` for a random ring.
  void majorities_ring(std::span<const NodeId> nodes);
  // `node` can neither send to nor receive from any other node.
  void isolate(NodeId node);
  // The one link between `a` and `b` (a != b) is cut both ways; every other pair still talks,
  // so a third node that sees both can relay between them only if the protocol relays. This
  // is the partial partition behind several Raft liveness bugs (a follower that cannot hear the
  // leader but can reach the others).
  void cut_link(NodeId a, NodeId b);
  // Copies on from->to that arrive before `until` are held until then. Clogging a clogged link
  // keeps the later end; copies already held keep their release time.
  void clog(NodeId from, NodeId to, Nanos until);
  // Removes the partition and every clog. Copies already held are still released at their
  // hold_until (the world has scheduled them).
  void heal();

  // A crashed node is down; copies for it are dropped when they would be delivered.
  void set_node_up(NodeId node, bool up);
  bool node_up(NodeId node) const;

  bool connected(NodeId from, NodeId to) const {
    return blocked_[index(from, to)] == 0;
  }
  bool clogged(Nanos now, NodeId from, NodeId to) const {
    return now < links_[index(from, to)].clog_until;
  }
  // Scenarios may change loss or latency mid-run; links stay FIFO across the change.
  void set_config(NetworkConfig config);
  const NetworkConfig& config() const { return config_; }

  const NetworkStats& stats() const { return stats_; }
  std::uint64_t in_flight() const { return stats_.total.in_flight; }
  std::uint32_t node_count() const { return node_count_; }
  // The current partition for traces and reports: "connected", "{0,1} | {2,3,4}",
  // "{0} -> {1,2} blocked", "{0,1} | {3,4} bridged by 2", "majorities ring 0-1-2-3-4",
  // "isolated 3", "link 0 <-> 1 cut".
  const std::string& describe_partition() const { return partition_description_; }

 private:
  struct LinkState {
    Nanos fifo_last;     // latest delivery time given to a FIFO copy on this link
    Nanos clog_until;    // the link is clogged while now < clog_until
    Nanos release_last;  // latest hold_until given on this link
    std::uint32_t held = 0;  // copies held on this link and not yet released
    Rng rng{0};              // this link's own random stream
  };

  std::size_t index(NodeId from, NodeId to) const {
    LS_ASSERT_LT(from.value, node_count_);
    LS_ASSERT_LT(to.value, node_count_);
    return static_cast<std::size_t>(from.value) * node_count_ + to.value;
  }
  Nanos schedule_copy(Nanos now, LinkState& link);
  void drop(LinkStats& link_stats, DropReason reason, std::size_t bytes);
  void finish_copy(LinkStats& link_stats);
  void clear_partition();
  void block(NodeId from, NodeId to);
  // Sets the description, or "connected" when the new partition blocks nothing.
  void set_partition_description(std::string description);
  void check_distinct(std::span<const NodeId> nodes, std::vector<std::uint8_t>& seen) const;

  std::uint32_t node_count_;
  NetworkConfig config_;
  LatencySampler latency_{LatencyDistribution{}};
  std::vector<std::uint8_t> blocked_;  // node_count^2, 1 = from -> to blocked
  std::vector<std::uint8_t> up_;       // node_count, 1 = up
  std::vector<LinkState> links_;       // node_count^2
  NetworkStats stats_;
  std::string partition_description_ = "connected";
};

}  // namespace lockstep::sim
