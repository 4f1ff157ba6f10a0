#include "sim/world.h"

#include <algorithm>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "core/assert.h"

namespace lockstep::sim {

std::string_view to_string(StopReason reason) {
  switch (reason) {
    case StopReason::time_reached: return "time_reached";
    case StopReason::quiescent: return "quiescent";
    case StopReason::event_limit: return "event_limit";
    case StopReason::stopped: return "stopped";
  }
  return "?";
}

namespace detail {

// The ids of a node's timers still wanted, ascending. Ids only grow, so adding one appends; and a
// node has few timers live at once, so the searches are short. (An unordered_set allocated a
// node per timer, which showed in profiles.)
class LiveTimers {
 public:
  void insert(std::uint64_t id) {
    LS_ASSERT(ids_.empty() || ids_.back() < id);
    ids_.push_back(id);
  }
  bool contains(std::uint64_t id) const { return std::binary_search(ids_.begin(), ids_.end(), id); }
  // Whether it was live.
  bool erase(std::uint64_t id) {
    const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    if (it == ids_.end() || *it != id) return false;
    ids_.erase(it);
    return true;
  }
  void clear() { ids_.clear(); }

 private:
  std::vector<std::uint64_t> ids_;
};

}  // namespace detail

struct World::Node {
  Node(NodeId node_id, std::string node_name, ProcessFactory node_factory, NodeClock node_clock,
       SimDisk node_disk, Rng node_rng, Rng node_disk_rng)
      : id(node_id),
        name(std::move(node_name)),
        factory(std::move(node_factory)),
        clock(node_clock),
        disk(std::move(node_disk)),
        rng(node_rng),
        disk_rng(node_disk_rng) {}

  NodeId id;
  std::string name;
  ProcessFactory factory;
  std::unique_ptr<Process> process;
  std::unique_ptr<NodeEnv> env;
  NodeClock clock;
  SimDisk disk;
  Rng rng;
  Rng disk_rng;
  bool up = false;
  bool paused = false;
  std::uint32_t incarnation = 0;

  // Pending timers as a min-heap on monotonic deadline. Cancelled timers stay in the heap and are
  // skipped when they surface; `live_timers` says which are still wanted.
  std::vector<Timer> timers;
  detail::LiveTimers live_timers;
  // The monotonic deadline its wake-up in the world's WakeAgenda is for (max: none).
  Nanos wake_pending_mono = Nanos::max();
  // Deliveries that reached the node while it was paused, in arrival order.
  std::vector<std::uint64_t> deferred_slots;
  // Messages it sent while a sync was in flight, in send order (so departs_at never decreases),
  // from held_head on: a vector emptied once they have all left, which unlike a deque does not
  // allocate as it slides. And the latest time a departure is queued for.
  std::vector<Held> held;
  std::size_t held_head = 0;
  Nanos depart_queued_at = Nanos{-1};
  CrashLoss last_crash_loss;

  bool holding() const { return held_head < held.size(); }
};

// The Env a node sees: a thin forwarding layer onto the world, bound to one node.
class World::NodeEnv final : public Env {
 public:
  NodeEnv(World& world, NodeId id) : world_(world), id_(id) {}

  NodeId self() const override { return id_; }
  Nanos now() const override { return world_.node(id_).clock.wall(world_.now_); }
  Nanos monotonic() const override { return world_.node(id_).clock.monotonic(world_.now_); }
  TimerId set_timer(Nanos delay) override { return world_.set_timer(id_, delay); }
  void cancel_timer(TimerId id) override { world_.node(id_).live_timers.erase(id.value); }
  void send(NodeId to, ByteView payload) override { world_.send(id_, to, payload, {}); }
  void send_parts(NodeId to, ByteView head, ByteView body) override {
    world_.send(id_, to, head, body);
  }
  Disk& disk() override { return world_.node(id_).disk; }
  std::uint64_t random() override { return world_.node(id_).rng.next(); }
  void note(std::string_view kind, std::string_view detail) override {
    std::string text;
    text.reserve(kind.size() + 1 + detail.size());
    text.append(kind);
    if (!detail.empty()) {
      text.push_back(' ');
      text.append(detail);
    }
    world_.trace_.record(world_.now_, id_.value, TraceKind::note, 0, 0, text);
  }

 private:
  World& world_;
  NodeId id_;
};

namespace {

bool timer_after(const auto& a, const auto& b) {
  return a.deadline_mono > b.deadline_mono || (a.deadline_mono == b.deadline_mono && a.id > b.id);
}

bool departure_after(const auto& a, const auto& b) {
  return event_key(a.at, a.seq) > event_key(b.at, b.seq);
}

}  // namespace

World::World(WorldConfig config) : config_(config) {}

World::~World() {
  // Destroy processes (and any fibers they host) before the nodes' Envs go away.
  for (auto& n : nodes_) n->process.reset();
}

NodeId World::add_node(std::string name, ProcessFactory factory) {
  LS_ASSERT(!started_);
  const auto id = static_cast<std::uint32_t>(nodes_.size());
  Rng clock_rng = derive_rng("clock", id);
  const Nanos offset{config_.clocks.offset_max.count == 0
                         ? 0
                         : clock_rng.between(-config_.clocks.offset_max.count,
                                             config_.clocks.offset_max.count)};
  const double drift = config_.clocks.drift_ppm_max == 0.0
                           ? 0.0
                           : (clock_rng.unit() * 2.0 - 1.0) * config_.clocks.drift_ppm_max;
  // The sync latencies have their own stream, so that turning torn writes on or off does not
  // change when syncs complete.
  SimDisk disk(config_.disk, &now_, derive_rng("disk_sync", id));
  nodes_.push_back(std::make_unique<Node>(NodeId{id}, std::move(name), std::move(factory),
                                          NodeClock(offset, drift), std::move(disk),
                                          derive_rng("node", id), derive_rng("disk", id)));
  nodes_.back()->env = std::make_unique<NodeEnv>(*this, NodeId{id});
  // The network is sized for the nodes; nothing has been sent before the run starts, so it is
  // simply made again for the larger count.
  network_ = std::make_unique<Network>(id + 1, config_.network, derive_rng("network"));
  queue_.push(now_, kStart, id, 0);
  return NodeId{id};
}

const std::string& World::name(NodeId id) const { return node(id).name; }
bool World::is_up(NodeId id) const { return node(id).up; }
bool World::is_paused(NodeId id) const { return node(id).paused; }
std::uint32_t World::incarnation(NodeId id) const { return node(id).incarnation; }
Process* World::process(NodeId id) { return node(id).process.get(); }
const NodeClock& World::clock(NodeId id) const { return node(id).clock; }
SimDisk& World::disk(NodeId id) { return node(id).disk; }
const CrashLoss& World::last_crash_loss(NodeId id) const { return node(id).last_crash_loss; }

void World::at(Nanos when, std::function<void()> action) {
  LS_ASSERT_GE(when, now_);
  std::uint32_t index;
  if (!free_actions_.empty()) {
    index = free_actions_.back();
    free_actions_.pop_back();
    actions_[index] = std::move(action);
  } else {
    index = static_cast<std::uint32_t>(actions_.size());
    actions_.push_back(std::move(action));
  }
  queue_.push(when, kAction, 0, index);
}

World::Next World::next(Nanos deadline) const {
  Next which = Next::nothing;
  uint128 first = ~uint128{0};
  if (!queue_.empty() && queue_.top().at <= deadline) {
    which = Next::event;
    first = event_key(queue_.top().at, queue_.top().seq);
  }
  if (!departures_.empty() && departures_.front().at <= deadline &&
      event_key(departures_.front().at, departures_.front().seq) < first) {
    which = Next::departure;
    first = event_key(departures_.front().at, departures_.front().seq);
  }
  if (!wakes_.empty() && wakes_.top().at <= deadline &&
      event_key(wakes_.top().at, wakes_.top().seq) < first) {
    which = Next::wake;
  }
  return which;
}

void World::run_departure() {
  const Departure due = departures_.front();
  std::pop_heap(departures_.begin(), departures_.end(), departure_after<Departure, Departure>);
  departures_.pop_back();
  LS_ASSERT_GE(due.at, now_);
  now_ = due.at;
  depart(due.sender, due.incarnation);
}

void World::run_event(Next which) {
  started_ = true;
  std::optional<NodeId> observed;
  if (which == Next::wake) {
    const WakeAgenda::Entry wake = wakes_.pop();
    LS_ASSERT_GE(wake.at, now_);
    now_ = wake.at;
    ++stats_.events;
    wake_timers(NodeId{wake.node});
    observed = NodeId{wake.node};
  } else {
    LS_ASSERT(which == Next::event);
    const Event event = queue_.pop();
    LS_ASSERT_GE(event.at, now_);
    now_ = event.at;
    ++stats_.events;
    dispatch(event);
    if (event.kind != kAction) observed = NodeId{event.target};
  }
  if (observer_) observer_(observed);
}

bool World::step() {
  started_ = true;
  for (;;) {
    const Next which = next(Nanos::max());
    if (which == Next::nothing) return false;
    if (which == Next::departure) {
      run_departure();  // not an event: carry on to the next one
      continue;
    }
    run_event(which);
    return true;
  }
}

StopReason World::run_until(Nanos deadline) {
  stop_requested_ = false;
  for (;;) {
    const Next which = next(deadline);
    if (which == Next::nothing) break;
    if (which == Next::departure) {
      run_departure();
      continue;
    }
    if (stats_.events >= event_limit_) return StopReason::event_limit;
    run_event(which);
    if (stop_requested_) return StopReason::stopped;
  }
  if (deadline > now_) now_ = deadline;
  return StopReason::time_reached;
}

StopReason World::run_until_quiescent() {
  stop_requested_ = false;
  for (;;) {
    const Next which = next(Nanos::max());
    if (which == Next::nothing) break;
    if (which == Next::departure) {
      run_departure();
      continue;
    }
    if (stats_.events >= event_limit_) return StopReason::event_limit;
    run_event(which);
    if (stop_requested_) return StopReason::stopped;
  }
  return StopReason::quiescent;
}

void World::dispatch(const Event& event) {
  switch (event.kind) {
    case kStart:
      start_node(NodeId{event.target});
      return;
    case kDeliver:
      deliver(NodeId{event.target}, event.arg, ArrivalAttempt::first);
      return;
    case kDeliverAfterHold:
      deliver(NodeId{event.target}, event.arg, ArrivalAttempt::after_hold);
      return;
    case kDeliverLocal:
      hand_over(NodeId{event.target}, event.arg);
      return;
    case kAction: {
      std::function<void()> action = std::move(actions_[event.arg]);
      actions_[event.arg] = nullptr;
      free_actions_.push_back(static_cast<std::uint32_t>(event.arg));
      action();
      return;
    }
    default:
      LS_ASSERT_MSG(false, "unknown event kind " + std::to_string(event.kind));
  }
}

void World::start_node(NodeId id) {
  Node& n = node(id);
  LS_ASSERT(!n.up);
  n.up = true;
  network_->set_node_up(id, true);
  ++n.incarnation;
  trace_.record(now_, id.value, TraceKind::start, n.incarnation);
  n.process = n.factory(id);
  LS_ASSERT(n.process != nullptr);
  n.process->on_start(*n.env);
}

void World::send(NodeId from, NodeId to, ByteView head, ByteView body) {
  LS_ASSERT_LT(to.value, nodes_.size());
  const std::size_t bytes = head.size() + body.size();
  ++stats_.messages_sent;
  stats_.bytes_sent += bytes;
  // The slot holds the message in one piece, which the trace's tap may look at; taking it first
  // records nothing, so the trace is what it was.
  const std::uint64_t slot = take_slot(from, to, head, body);
  trace_.record(now_, from.value, TraceKind::send, to.value, bytes, {},
                in_flight_[slot].payload.view());
  Node& sender = node(from);
  const Nanos sync_done_at = sender.disk.sync_done_at();
  if (now_ < sync_done_at || sender.holding()) {
    // Held messages still waiting now depart at `now_` at the latest (their departure is queued
    // for this instant): this one joins them, so it cannot overtake them.
    hold(sender, slot, std::max(now_, sync_done_at));
    return;
  }
  transmit(slot);
}

std::uint64_t World::take_slot(NodeId from, NodeId to, ByteView head, ByteView body) {
  std::uint64_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = in_flight_.size();
    in_flight_.emplace_back();
  }
  InFlight& msg = in_flight_[slot];
  msg.from = from;
  msg.to = to;
  msg.copies_left = 0;
  // Reuses the slot's buffer, then copies. A head is usually one envelope byte, stored without a
  // call to memcpy.
  std::byte* at = msg.payload.overwrite(head.size() + body.size());
  if (head.size() == 1) {
    at[0] = head[0];
  } else if (!head.empty()) {
    std::memcpy(at, head.data(), head.size());
  }
  if (!body.empty()) std::memcpy(at + head.size(), body.data(), body.size());
  return slot;
}

void World::hold(Node& sender, std::uint64_t slot, Nanos departs_at) {
  LS_ASSERT(!sender.holding() || sender.held.back().departs_at <= departs_at);
  ++stats_.messages_held;
  trace_.record(now_, sender.id.value, TraceKind::hold, in_flight_[slot].to.value,
                static_cast<std::uint64_t>(departs_at.count));
  sender.held.push_back(Held{departs_at, slot});
  if (sender.depart_queued_at != departs_at) {
    departures_.push_back(Departure{departs_at, queue_.take_seq(), sender.id, sender.incarnation});
    std::push_heap(departures_.begin(), departures_.end(), departure_after<Departure, Departure>);
    sender.depart_queued_at = departs_at;
  }
}

void World::depart(NodeId id, std::uint32_t incarnation) {
  Node& sender = node(id);
  // A crash dropped what this departure was for (or sent it, when the sync completed in time).
  if (!sender.up || sender.incarnation != incarnation) return;
  while (sender.holding() && sender.held[sender.held_head].departs_at <= now_) {
    transmit(sender.held[sender.held_head].slot);
    ++sender.held_head;
  }
  if (!sender.holding()) {
    sender.held.clear();
    sender.held_head = 0;
  }
}

void World::transmit(std::uint64_t slot) {
  InFlight& msg = in_flight_[slot];
  LS_ASSERT_EQ(msg.copies_left, 0u);
  const std::size_t bytes = msg.payload.size();
  const SendDecision decision = network_->on_send(now_, msg.from, msg.to, bytes);
  if (decision.copies == 0) {
    trace_.record(now_, msg.from.value, TraceKind::drop, msg.to.value,
                  static_cast<std::uint64_t>(decision.reason), {}, msg.payload.view());
    free_slots_.push_back(static_cast<std::uint32_t>(slot));
    return;
  }
  msg.copies_left = decision.copies;
  for (std::uint32_t c = 0; c < decision.copies; ++c) {
    if (c > 0) trace_.record(now_, msg.from.value, TraceKind::duplicate, msg.to.value, bytes);
    queue_.push(decision.deliver_at[c], kDeliver, msg.to.value, slot);
  }
}

void World::release_slot(std::uint64_t slot) {
  InFlight& msg = in_flight_[slot];
  LS_ASSERT_GT(msg.copies_left, 0u);
  if (--msg.copies_left == 0) free_slots_.push_back(static_cast<std::uint32_t>(slot));
}

void World::deliver(NodeId to, std::uint64_t slot, ArrivalAttempt attempt) {
  InFlight& msg = in_flight_[slot];
  const ArrivalDecision arrival =
      network_->on_arrival(now_, msg.from, to, msg.payload.size(), attempt);
  if (arrival.kind == ArrivalKind::hold) {
    queue_.push(arrival.hold_until, kDeliverAfterHold, to.value, slot);
    return;
  }
  if (arrival.kind == ArrivalKind::drop) {
    trace_.record(now_, msg.from.value, TraceKind::drop, to.value,
                  static_cast<std::uint64_t>(arrival.reason), {}, msg.payload.view());
    release_slot(slot);
    return;
  }
  hand_over(to, slot);
}

void World::hand_over(NodeId to, std::uint64_t slot) {
  Node& n = node(to);
  InFlight& msg = in_flight_[slot];
  if (!n.up) {
    trace_.record(now_, msg.from.value, TraceKind::drop, to.value,
                  static_cast<std::uint64_t>(DropReason::node_down), {}, msg.payload.view());
    release_slot(slot);
    return;
  }
  if (n.paused) {
    n.deferred_slots.push_back(slot);
    return;
  }
  ++stats_.messages_delivered;
  trace_.record(now_, to.value, TraceKind::deliver, msg.from.value, msg.payload.size(), {},
                msg.payload.view());
  // The handler may send, and so grow in_flight_ and move the slots: `msg` may dangle then, but
  // not the payload, since moving a SlotBytes keeps its buffer. The slot is released only
  // afterwards, which also keeps its buffer for reuse.
  const NodeId from = msg.from;
  const ByteView payload = msg.payload.view();
  n.process->on_message(*n.env, from, payload);
  release_slot(slot);
}

TimerId World::set_timer(NodeId id, Nanos delay) {
  LS_ASSERT_GE(delay, Nanos::zero());
  Node& n = node(id);
  const std::uint64_t timer_id = next_timer_id_++;
  n.timers.push_back(Timer{n.clock.monotonic(now_) + delay, timer_id});
  std::push_heap(n.timers.begin(), n.timers.end(), timer_after<Timer, Timer>);
  n.live_timers.insert(timer_id);
  reschedule_wake(n);
  return TimerId{timer_id};
}

void World::reschedule_wake(Node& n) {
  while (!n.timers.empty() && !n.live_timers.contains(n.timers.front().id)) {
    std::pop_heap(n.timers.begin(), n.timers.end(), timer_after<Timer, Timer>);
    n.timers.pop_back();
  }
  if (n.timers.empty() || n.paused || !n.up) return;
  const Nanos deadline = n.timers.front().deadline_mono;
  if (deadline >= n.wake_pending_mono) return;
  const Nanos when = n.clock.true_time_for_monotonic(now_, deadline);
  if (when == Nanos::max()) return;
  n.wake_pending_mono = deadline;
  wakes_.set(n.id.value, when, queue_.take_seq());
}

void World::wake_timers(NodeId id) {
  Node& n = node(id);
  LS_ASSERT(n.up && !n.paused);  // crash and pause take the wake-up off the agenda
  n.wake_pending_mono = Nanos::max();
  const Nanos mono_now = n.clock.monotonic(now_);
  // Fire every due timer, earliest first. A handler may set new timers (pushed onto the heap) or
  // cancel pending ones; a zero-delay timer set here is due now and fires in this loop too.
  while (!n.timers.empty() && n.timers.front().deadline_mono <= mono_now && n.up && !n.paused) {
    const Timer due = n.timers.front();
    std::pop_heap(n.timers.begin(), n.timers.end(), timer_after<Timer, Timer>);
    n.timers.pop_back();
    if (!n.live_timers.erase(due.id)) continue;  // cancelled
    trace_.record(now_, id.value, TraceKind::timer, due.id);
    n.process->on_timer(*n.env, TimerId{due.id});
  }
  reschedule_wake(n);
}

void World::crash(NodeId id) {
  Node& n = node(id);
  if (!n.up) return;
  ++stats_.crashes;
  trace_.record(now_, id.value, TraceKind::crash);
  // Messages whose syncs completed by now leave (their kDepart may simply come later in this
  // instant); the others die with the node, which had not really made its data durable.
  depart(id, n.incarnation);
  for (std::size_t i = n.held_head; i < n.held.size(); ++i) {
    const std::uint64_t slot = n.held[i].slot;
    ++stats_.messages_lost_in_crash;
    trace_.record(now_, id.value, TraceKind::drop, in_flight_[slot].to.value,
                  static_cast<std::uint64_t>(DropReason::sender_crashed), {},
                  in_flight_[slot].payload.view());
    free_slots_.push_back(static_cast<std::uint32_t>(slot));
  }
  n.held.clear();
  n.held_head = 0;
  n.depart_queued_at = Nanos{-1};
  n.process.reset();
  n.up = false;
  network_->set_node_up(id, false);
  if (n.paused) {  // a crash ends a freeze: the machine reboots with its clock running
    n.paused = false;
    n.clock.resume(now_);
  }
  n.timers.clear();
  n.live_timers.clear();
  wakes_.erase(id.value);
  n.wake_pending_mono = Nanos::max();
  for (std::uint64_t slot : n.deferred_slots) release_slot(slot);
  n.deferred_slots.clear();
  const CrashLoss loss = n.disk.crash(n.disk_rng);
  n.last_crash_loss = loss;
  if (loss.unsynced_bytes > 0) ++stats_.crashes_losing_unsynced;
  if (loss.syncs_cut > 0) ++stats_.crashes_cutting_syncs;
  stats_.unsynced_bytes_lost += loss.bytes_lost();
  stats_.torn_tails += loss.torn_files;
  if (loss.unsynced_bytes > 0 || loss.syncs_cut > 0) {
    const std::string detail =
        loss.torn_bytes_kept == 0
            ? std::string()
            : fmt::format("kept {} of {} unsynced bytes: {} file(s) torn mid-write, {} bit(s) "
                          "flipped",
                          loss.torn_bytes_kept, loss.unsynced_bytes, loss.torn_files,
                          loss.bits_flipped);
    trace_.record(now_, id.value, TraceKind::disk_loss, loss.bytes_lost(), loss.syncs_cut, detail);
  }
}

void World::restart(NodeId id) {
  Node& n = node(id);
  if (n.up) return;
  ++stats_.restarts;
  start_node(id);
}

void World::pause(NodeId id) {
  Node& n = node(id);
  if (!n.up || n.paused) return;
  trace_.record(now_, id.value, TraceKind::pause);
  n.paused = true;
  n.clock.pause(now_);
  wakes_.erase(id.value);
  n.wake_pending_mono = Nanos::max();
}

void World::resume(NodeId id) {
  Node& n = node(id);
  if (!n.up || !n.paused) return;
  trace_.record(now_, id.value, TraceKind::resume);
  n.paused = false;
  n.clock.resume(now_);
  // What queued up during the freeze runs now, in arrival order, then any timers now due.
  std::vector<std::uint64_t> backlog = std::move(n.deferred_slots);
  n.deferred_slots.clear();
  for (std::uint64_t slot : backlog) queue_.push(now_, kDeliverLocal, id.value, slot);
  reschedule_wake(n);
}

void World::clock_jump(NodeId id, Nanos delta) {
  Node& n = node(id);
  trace_.record(now_, id.value, TraceKind::clock_jump, static_cast<std::uint64_t>(delta.count));
  n.clock.jump(delta);  // wall clock only: monotonic timers are unaffected
}

void World::set_clock_drift(NodeId id, double ppm) {
  Node& n = node(id);
  trace_.record(now_, id.value, TraceKind::clock_drift,
                static_cast<std::uint64_t>(static_cast<std::int64_t>(ppm * 1000.0)));
  n.clock.set_drift(now_, ppm);
  wakes_.erase(id.value);
  n.wake_pending_mono = Nanos::max();
  reschedule_wake(n);
}

std::optional<std::string> World::corrupt_disk(NodeId id) {
  Node& n = node(id);
  std::vector<std::string> candidates;
  for (const std::string& file : n.disk.list()) {
    if (!n.disk.read_durable(file).empty()) candidates.push_back(file);
  }
  if (candidates.empty()) return std::nullopt;
  const std::string& file = candidates[n.disk_rng.below(candidates.size())];
  const auto bit = n.disk.corrupt_bit(n.disk_rng, file);
  LS_ASSERT(bit.has_value());
  trace_.record(now_, id.value, TraceKind::disk_corrupt, *bit, 0, file);
  return file;
}

void World::trace_fault(std::string_view description) {
  trace_.record(now_, 0, TraceKind::fault, 0, 0, description);
}

}  // namespace lockstep::sim
