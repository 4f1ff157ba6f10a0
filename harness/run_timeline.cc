#include "harness/run_timeline.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/duration.h"
#include "core/rng.h"
#include "harness/message_names.h"
#include "sim/world.h"

namespace lockstep::harness {

std::string_view to_string(CallResult result) {
  switch (result) {
    case CallResult::ok: return "ok";
    case CallResult::failed: return "failed";
    case CallResult::unknown: return "unknown";
  }
  return "?";
}

std::string_view to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::crash: return "crash";
    case FaultKind::pause: return "pause";
    case FaultKind::partition: return "partition";
    case FaultKind::clog: return "clog";
    case FaultKind::instant: return "instant";
  }
  return "?";
}

namespace {

// A window whose end is not known yet.
constexpr Nanos kOpen = Nanos::max();

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

TimelineRecorder::TimelineRecorder(sim::World& world, std::uint32_t servers, std::string protocol,
                                   std::size_t window_events)
    : world_(world), servers_(servers), protocol_(std::move(protocol)), window_max_(window_events) {
  LS_ASSERT_GE(servers_, 1u);
  LS_ASSERT_LE(servers_, world_.node_count());
  LS_ASSERT_GE(window_max_, 1u);
  LS_ASSERT_LE(window_max_, kWindowEventsMax);
  timeline_.servers = servers_;
  for (std::uint32_t s = 0; s < servers_; ++s) {
    open_role_.push_back(timeline_.roles.size());
    timeline_.roles.push_back(RoleSpan{s, world_.now(), kOpen, true, consensus::Role::follower, 0,
                                       std::nullopt});
  }
  partition_ = world_.network().describe_partition();
  ring_.reserve(window_max_);
  payloads_.resize(window_max_);
}

void TimelineRecorder::observe_server(std::uint32_t server, bool up,
                                      const consensus::RoleChange& role,
                                      std::uint64_t applied_index) {
  LS_ASSERT_LT(server, servers_);
  if (applied_index > timeline_.committed) {
    timeline_.committed = applied_index;
    timeline_.commits.push_back(CommitPoint{world_.now(), applied_index});
  }
  const RoleSpan& open = timeline_.roles[open_role_[server]];
  const bool same = open.up == up &&
                    (!up || (open.role == role.role && open.term == role.term &&
                             open.leader == role.leader));
  if (!same) open_role(server, up, role);
}

void TimelineRecorder::open_role(std::uint32_t server, bool up, const consensus::RoleChange& role) {
  RoleSpan& open = timeline_.roles[open_role_[server]];
  const Nanos now = world_.now();
  if (open.from == now) {
    // Several changes at one instant: only the last is ever in force.
    open.up = up;
    open.role = up ? role.role : consensus::Role::follower;
    open.term = up ? role.term : 0;
    open.leader = up ? role.leader : std::nullopt;
    return;
  }
  open.until = now;
  open_role_[server] = timeline_.roles.size();
  timeline_.roles.push_back(RoleSpan{server, now, kOpen, up,
                                     up ? role.role : consensus::Role::follower,
                                     up ? role.term : 0, up ? role.leader : std::nullopt});
}

void TimelineRecorder::open_window(FaultKind kind, std::string label,
                                   std::vector<std::uint32_t> servers) {
  open_faults_.push_back(timeline_.faults.size());
  timeline_.faults.push_back(
      FaultWindow{kind, world_.now(), kOpen, std::move(label), std::move(servers)});
}

void TimelineRecorder::close_windows(FaultKind kind, std::optional<std::uint32_t> server) {
  const Nanos now = world_.now();
  std::erase_if(open_faults_, [&](std::size_t i) {
    FaultWindow& w = timeline_.faults[i];
    if (w.kind != kind) return false;
    if (server && (w.servers.size() != 1 || w.servers.front() != *server)) return false;
    w.until = std::min(w.until, now);
    return true;
  });
}

std::vector<std::uint32_t> TimelineRecorder::cut_off_servers() const {
  const sim::Network& net = world_.network();
  std::vector<std::uint32_t> out;
  for (std::uint32_t s = 0; s < servers_; ++s) {
    std::uint32_t reach = 0;
    for (std::uint32_t t = 0; t < servers_; ++t) {
      if (s == t || (net.connected(NodeId{s}, NodeId{t}) && net.connected(NodeId{t}, NodeId{s}))) {
        ++reach;
      }
    }
    if (reach <= servers_ / 2) out.push_back(s);
  }
  return out;
}

void TimelineRecorder::on_fault(std::string_view description) {
  std::string_view what = description;
  if (starts_with(what, "nemesis: ")) what.remove_prefix(std::string_view("nemesis: ").size());
  const std::string& partition = world_.network().describe_partition();
  if (partition != partition_) {
    // A new partition replaces the old one, a heal ends it: either way the old window closes.
    close_windows(FaultKind::partition, std::nullopt);
    if (partition != "connected") {
      open_window(FaultKind::partition, std::string(description), cut_off_servers());
    }
    partition_ = partition;
  }
  if (what.find(": skipped") != std::string_view::npos) return;
  if (starts_with(what, "heal")) {
    close_windows(FaultKind::clog, std::nullopt);  // a heal ends every clog early
    return;
  }
  if (starts_with(what, "clog ")) {
    // "clog n0 -> {1,2} for 500ms": the clog ends by itself after its duration.
    const auto at = what.rfind(" for ");
    const auto length = at == std::string_view::npos ? std::nullopt
                                                     : parse_duration(what.substr(at + 5));
    open_window(FaultKind::clog, std::string(description), {});
    if (length) timeline_.faults.back().until = world_.now() + *length;
    return;
  }
  for (std::string_view handled : {"crash", "restart", "pause", "resume", "partition"}) {
    if (starts_with(what, handled)) return;  // the world's own events draw these
  }
  timeline_.faults.push_back(
      FaultWindow{FaultKind::instant, world_.now(), world_.now(), std::string(description), {}});
}

void TimelineRecorder::push_window_event(const sim::TraceEvent& e, WindowEvent::Kind kind,
                                         std::uint32_t peer) {
  std::size_t slot = 0;
  if (ring_.size() < window_max_) {
    slot = ring_.size();
    ring_.emplace_back();
  } else {
    slot = next_;
    next_ = (next_ + 1) % window_max_;
  }
  WindowEvent& w = ring_[slot];
  w.kind = kind;
  w.at = e.time;
  w.node = e.node;
  w.peer = peer;
  w.label.assign(e.detail);  // reuses the slot's buffer; the message's name comes at finish()
  payloads_[slot].assign(e.payload.begin(), e.payload.end());
}

void TimelineRecorder::on_event(const sim::TraceEvent& e) {
  using K = sim::TraceKind;
  using W = WindowEvent::Kind;
  const auto node_label = [&](std::string_view verb) {
    return e.node < servers_ ? fmt::format("{} n{}", verb, e.node)
                             : fmt::format("{} {}", verb, world_.name(NodeId{e.node}));
  };
  switch (e.kind) {
    case K::send:
      push_window_event(e, W::send, static_cast<std::uint32_t>(e.a));
      break;
    case K::deliver:
      push_window_event(e, W::deliver, static_cast<std::uint32_t>(e.a));
      break;
    case K::drop:
      push_window_event(e, W::drop, static_cast<std::uint32_t>(e.a));
      break;
    case K::crash:
      push_window_event(e, W::crash, e.node);
      open_window(FaultKind::crash, node_label("crash"),
                  e.node < servers_ ? std::vector<std::uint32_t>{e.node}
                                    : std::vector<std::uint32_t>{});
      break;
    case K::start:
      if (e.a <= 1) break;  // the first start is no restart
      push_window_event(e, W::restart, e.node);
      close_windows(FaultKind::crash, e.node < servers_ ? std::optional(e.node) : std::nullopt);
      break;
    case K::pause:
      push_window_event(e, W::pause, e.node);
      open_window(FaultKind::pause, node_label("pause"),
                  e.node < servers_ ? std::vector<std::uint32_t>{e.node}
                                    : std::vector<std::uint32_t>{});
      break;
    case K::resume:
      push_window_event(e, W::resume, e.node);
      close_windows(FaultKind::pause, e.node < servers_ ? std::optional(e.node) : std::nullopt);
      break;
    case K::fault:
      push_window_event(e, W::fault, e.node);
      on_fault(e.detail);
      break;
    default:
      break;
  }
}

RunTimeline TimelineRecorder::finish(Nanos duration, Nanos end, std::vector<CallRecord> calls,
                                     std::optional<Nanos> violation_at) {
  RunTimeline out = std::move(timeline_);
  out.duration = duration;
  out.end = end;
  out.calls = std::move(calls);
  out.violation_at = violation_at;
  for (std::uint32_t n = 0; n < world_.node_count(); ++n) out.node_names.push_back(world_.name(NodeId{n}));
  for (RoleSpan& r : out.roles) {
    if (r.until == kOpen) r.until = end;
  }
  std::stable_sort(out.roles.begin(), out.roles.end(),
                   [](const RoleSpan& a, const RoleSpan& b) { return a.node < b.node; });
  for (FaultWindow& f : out.faults) f.until = std::min(f.until, end);
  std::stable_sort(out.faults.begin(), out.faults.end(),
                   [](const FaultWindow& a, const FaultWindow& b) { return a.from < b.from; });
  const std::size_t n = ring_.size();
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t slot = n < window_max_ ? k : (next_ + k) % window_max_;
    WindowEvent w = ring_[slot];
    const bool message = w.kind == WindowEvent::Kind::send ||
                         w.kind == WindowEvent::Kind::deliver || w.kind == WindowEvent::Kind::drop;
    if (message) {
      const Bytes& p = payloads_[slot];
      w.label = describe_message(protocol_, p);
      w.message = fnv1a64(std::string_view(reinterpret_cast<const char*>(p.data()), p.size()));
    } else if (w.label.empty()) {
      const bool server = w.node < servers_;
      const std::string name = server ? fmt::format("n{}", w.node) : world_.name(NodeId{w.node});
      switch (w.kind) {
        case WindowEvent::Kind::crash: w.label = "crash " + name; break;
        case WindowEvent::Kind::restart: w.label = "restart " + name; break;
        case WindowEvent::Kind::pause: w.label = "pause " + name; break;
        case WindowEvent::Kind::resume: w.label = "resume " + name; break;
        default: break;
      }
    }
    out.window.push_back(std::move(w));
  }
  timeline_ = RunTimeline{};
  ring_.clear();
  next_ = 0;
  return out;
}

}  // namespace lockstep::harness
