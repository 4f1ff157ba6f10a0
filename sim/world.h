// The simulated world: one seeded, single-threaded event loop that runs every node of a run on
// virtual time, with a fake network, a fake clock and a fake disk per node (DESIGN.md, "The
// simulator").
//
// Nodes are lockstep::Process objects driven through the Env interface (core/env.h); the world is
// the Env's simulated implementation. Everything that happens runs in (true time, sequence number)
// order: an Event from one queue, or a node's next timer wake-up (at most one per node, kept in a
// WakeAgenda, sim/wake_agenda.h), or a departure of held messages (below); every random draw comes
// from a stream derived from the master seed by name (network, node i, disk i, nemesis, ...).
// Same seed, binary and inputs ⇒ same trace hash.
//
// Syncs take time (sim/disk.h): a node's sync returns at once but its data is durable only at the
// sync's completion time. The node carries on as if it were already safe, so whatever it sends
// meanwhile may depend on that data: a message sent while any of the node's syncs is in flight
// is held, traced `hold`, and leaves when the latest of them completes (the network's latency
// counts from then). A message sent while others are still held waits behind them, so a link
// stays FIFO. Timers and the handling of later events are not delayed, and neither is a held
// message by a pause (it was handed over before the freeze). A departure is not an event: it
// changes no process, so it is neither counted nor observed, but it runs in the (time, sequence)
// place its hold took in the event order, so faults at the same instant see it where they would.
// A held message waits in the in-flight slot it will travel in, so it is copied once.
//
// Node lifecycle:
//  - crash:   the Process object is destroyed (volatile state gone); writes whose sync had not
//             completed are lost (or torn, per DiskConfig) and traced `disk_loss`; held messages
//             whose sync had not completed never leave (traced as drops, reason sender_crashed);
//             timers die; messages arriving while down are dropped.
//  - restart: a fresh Process from the node's factory; on_start() must recover from the disk.
//  - pause:   the node neither runs nor sees time pass (its clock freezes) while true time goes on;
//             messages and timer expiries that arrive meanwhile wait and run, in order, on resume.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/env.h"
#include "core/rng.h"
#include "sim/clock.h"
#include "sim/config.h"
#include "sim/disk.h"
#include "sim/event_queue.h"
#include "sim/network.h"
#include "sim/trace.h"
#include "sim/wake_agenda.h"

namespace lockstep::sim {

struct WorldConfig {
  std::uint64_t seed = 1;
  NetworkConfig network;
  ClockConfig clocks;
  DiskConfig disk;
};

using ProcessFactory = std::function<std::unique_ptr<Process>(NodeId)>;

enum class StopReason : std::uint8_t { time_reached, quiescent, event_limit, stopped };

std::string_view to_string(StopReason reason);

struct WorldStats {
  std::uint64_t events = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_delivered = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t crashes = 0;
  std::uint64_t restarts = 0;
  // Held behind a sync in flight, and of those, dropped because their sender crashed first.
  std::uint64_t messages_held = 0;
  std::uint64_t messages_lost_in_crash = 0;
  // Crashes that found data not yet durable, and crashes that cut a sync short (a crash inside
  // a sync window: the node had been told its data was safe).
  std::uint64_t crashes_losing_unsynced = 0;
  std::uint64_t crashes_cutting_syncs = 0;
  std::uint64_t unsynced_bytes_lost = 0;  // not durable and not kept as a torn tail
  std::uint64_t torn_tails = 0;           // files left with part of their unsynced bytes
};

class World {
 public:
  explicit World(WorldConfig config);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Adds a node; all nodes must be added before the first run call. Returns its id (0, 1, ...).
  NodeId add_node(std::string name, ProcessFactory factory);

  // Runs events in (time, sequence) order. `run_until` stops before the first event later than
  // `deadline` and leaves now() at `deadline`; every call also stops after `event_limit` events
  // in total since the world was made.
  StopReason run_until(Nanos deadline);
  StopReason run_until_quiescent();
  // Runs the next event if any; false when the queue is empty.
  bool step();
  void set_event_limit(std::uint64_t limit) { event_limit_ = limit; }
  // Makes the current run call return StopReason::stopped after the event in progress (for
  // example when a checker found a violation); the next run call clears it.
  void request_stop() { stop_requested_ = true; }

  Nanos now() const { return now_; }

  // Runs `action` at true time `at` (>= now) as an event of its own: fault schedules, nemesis,
  // test scripts. Returns nothing to cancel; guard inside the action if it may become moot.
  void at(Nanos at, std::function<void()> action);
  // Called after every event: the invariant checkers hook in here. `node` is the one node whose
  // process the event was for (a delivery, a timer, a start); no other node's state can have
  // changed. It is nullopt after a scheduled action (fault, script), which may change anything.
  using StepObserver = std::function<void(std::optional<NodeId> node)>;
  void set_step_observer(StepObserver observer) { observer_ = std::move(observer); }

  // Faults and lifecycle. Each is traced. Crashing a crashed node or resuming a running one is a
  // no-op (a random nemesis may well pick such a node).
  void crash(NodeId node);
  void restart(NodeId node);
  void pause(NodeId node);
  void resume(NodeId node);
  void clock_jump(NodeId node, Nanos delta);
  void set_clock_drift(NodeId node, double ppm);
  // Flips one bit of a random file's durable bytes; returns the file, nullopt if none has any.
  std::optional<std::string> corrupt_disk(NodeId node);
  Network& network() {
    LS_ASSERT(network_ != nullptr);  // add nodes first
    return *network_;
  }
  const Network& network() const {
    LS_ASSERT(network_ != nullptr);
    return *network_;
  }
  void trace_fault(std::string_view description);

  std::uint32_t node_count() const { return static_cast<std::uint32_t>(nodes_.size()); }
  const std::string& name(NodeId node) const;
  bool is_up(NodeId node) const;
  bool is_paused(NodeId node) const;
  std::uint32_t incarnation(NodeId node) const;
  // The live Process of a node, nullptr while it is crashed.
  Process* process(NodeId node);
  const NodeClock& clock(NodeId node) const;
  SimDisk& disk(NodeId node);
  // What the node's latest crash lost of the data it had written (all zero before any crash).
  // A crash that cut a sync short (syncs_cut > 0) may have rolled the node's durable state back
  // past what its process had reached: checkers that compare a restarted node with its earlier
  // incarnations must allow for that.
  const CrashLoss& last_crash_loss(NodeId node) const;

  Trace& trace() { return trace_; }
  const Trace& trace() const { return trace_; }
  const WorldStats& stats() const { return stats_; }
  std::uint64_t seed() const { return config_.seed; }
  // A random stream derived from the master seed: the same name and index always give the same
  // stream, whatever else the world contains.
  Rng derive_rng(std::string_view name, std::uint64_t index = 0) const {
    return Rng::derive(config_.seed, name, index);
  }

 private:
  class NodeEnv;
  struct Node;
  struct Timer {
    Nanos deadline_mono;
    std::uint64_t id = 0;
  };
  // A slot's copy of a message. Unlike Bytes it does not zero what it grows by (the message is
  // copied over it at once), and its buffer stays put when the slot table moves the slot.
  class SlotBytes {
   public:
    // Room for `size` bytes, to be written by the caller; the old contents are gone.
    std::byte* overwrite(std::size_t size) {
      if (size > capacity_) {
        capacity_ = std::max(size, 2 * capacity_);
        data_ = std::make_unique_for_overwrite<std::byte[]>(capacity_);
      }
      size_ = size;
      return data_.get();
    }
    ByteView view() const { return {data_.get(), size_}; }
    std::size_t size() const { return size_; }

   private:
    std::unique_ptr<std::byte[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
  };
  // A message from its send until its last copy is delivered or dropped: held behind its
  // sender's syncs (copies_left 0), then in the network.
  struct InFlight {
    NodeId from;
    NodeId to;
    std::uint32_t copies_left = 0;
    SlotBytes payload;
  };
  // A message waiting for its sender's syncs in flight, in its slot.
  struct Held {
    Nanos departs_at;
    std::uint64_t slot = 0;
  };
  // The instant a node's held messages leave, ordered with the events by (at, seq).
  struct Departure {
    Nanos at;
    std::uint64_t seq = 0;
    NodeId sender;
    std::uint32_t incarnation = 0;  // the sender's when it held the messages
  };
  enum EventKind : std::uint32_t {
    kStart,
    kDeliver,
    kDeliverAfterHold,
    kDeliverLocal,
    kAction,
  };
  // Which queue holds what runs next: the events, the departures or the timer wake-ups.
  enum class Next : std::uint8_t { nothing, event, departure, wake };

  // The first in (time, sequence) order of the three, if due by `deadline`.
  Next next(Nanos deadline) const;
  // Runs the first departure (next() said it comes first).
  void run_departure();
  // Runs the next event or wake-up (`which` is one of them) and calls the observer.
  void run_event(Next which);
  void dispatch(const Event& event);
  void deliver(NodeId to, std::uint64_t slot, ArrivalAttempt attempt);
  void hand_over(NodeId to, std::uint64_t slot);
  void wake_timers(NodeId node_id);
  void start_node(NodeId node_id);
  // The message is `head` followed by `body`.
  void send(NodeId from, NodeId to, ByteView head, ByteView body);
  // A slot holding a copy of the message, not yet in the network.
  std::uint64_t take_slot(NodeId from, NodeId to, ByteView head, ByteView body);
  // Hands the message in `slot` to the network: it leaves now.
  void transmit(std::uint64_t slot);
  void hold(Node& sender, std::uint64_t slot, Nanos departs_at);
  // Sends the sender's held messages whose time has come.
  void depart(NodeId sender, std::uint32_t incarnation);
  TimerId set_timer(NodeId node_id, Nanos delay);
  void reschedule_wake(Node& node);
  void release_slot(std::uint64_t slot);
  // Inline: several calls per event reach a node through here.
  Node& node(NodeId id) {
    LS_ASSERT_LT(id.value, nodes_.size());
    return *nodes_[id.value];
  }
  const Node& node(NodeId id) const {
    LS_ASSERT_LT(id.value, nodes_.size());
    return *nodes_[id.value];
  }

  WorldConfig config_;
  Nanos now_ = Nanos::zero();
  EventQueue queue_;
  Trace trace_;
  WorldStats stats_;
  std::uint64_t event_limit_ = ~0ULL;
  std::unique_ptr<Network> network_;
  std::vector<std::unique_ptr<Node>> nodes_;
  // Slots referenced by held messages and queued deliveries. Growing moves the slots but not their
  // payload buffers (World::hand_over relies on it).
  std::vector<InFlight> in_flight_;
  static_assert(std::is_nothrow_move_constructible_v<InFlight>);
  std::vector<std::uint32_t> free_slots_;
  std::vector<Departure> departures_;  // a min-heap on (at, seq)
  WakeAgenda wakes_;
  std::vector<std::function<void()>> actions_;
  std::vector<std::uint32_t> free_actions_;
  StepObserver observer_;
  std::uint64_t next_timer_id_ = 1;
  bool started_ = false;
  bool stop_requested_ = false;
};

}  // namespace lockstep::sim
