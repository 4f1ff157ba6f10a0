#include "harness/lock_workloads.h"

#include <fmt/format.h>

#include "core/decimal.h"

#include "service/lock/lock_client.h"
#include "service/protected_resource.h"

namespace lockstep::harness {

using service::lock::Code;
using service::lock::LockClient;
using service::lock::LockMode;
using service::lock::Sequencer;
using checkers::Value;

std::string lock_path(const ServiceSettings& s, std::uint32_t i) {
  return fmt::format("/ls/{}/locks/lock{}", s.cell, i);
}
std::string election_path(const ServiceSettings& s, std::uint32_t i) {
  return fmt::format("/ls/{}/elections/election{}", s.cell, i);
}
std::string config_root(const ServiceSettings& s) { return fmt::format("/ls/{}/config", s.cell); }
std::string config_path(const ServiceSettings& s, std::uint32_t i) {
  std::string path;
  path.reserve(32 + s.cell.size());
  path.append("/ls/").append(s.cell).append("/config/key");
  append_decimal(path, i);
  return path;
}
bool is_election_path(const ServiceSettings& s, std::string_view path) {
  return path.starts_with(fmt::format("/ls/{}/elections/", s.cell));
}

namespace {

constexpr std::uint64_t kWatchId = 1;
// Between rounds after `stop`: long, so an idle client costs almost no events.
constexpr Nanos kIdleSleep = seconds(3600);

// What a lock-counter round does (LockCounterWorkload; a mix round uses a random lock and the
// resource).
struct CounterRound {
  std::uint32_t locks = 1;
  Nanos hold;
  Nanos acquire_timeout;
  bool own_lock = false;
  bool use_resource = true;
};

// One client's run: the session, its choices, and what it records.
class Worker {
 public:
  Worker(sim::FiberContext& f, const LockClientSettings& s, std::function<Nanos()> true_now,
         LockHistory* history, LockClient& client)
      : f_(f), s_(s), true_now_(std::move(true_now)), history_(history), client_(client),
        rng_(s.rng) {}

  // Closes what the client believed it held when its fiber ends (a crash unwinds it).
  ~Worker() {
    for (std::size_t i : open_holdings_) history_->holdings[i].until = true_now_();
  }

  bool running() const {
    return true_now_() < s_.stop && client_.state() != service::lock::SessionState::expired &&
           client_.state() != service::lock::SessionState::closed;
  }

  void setup_locks(std::uint32_t locks, bool presence) {
    ensure(fmt::format("/ls/{}/locks", s_.service.cell));
    for (std::uint32_t i = 0; i < locks; ++i) ensure(lock_path(s_.service, i));
    if (presence) {
      ensure(fmt::format("/ls/{}/members", s_.service.cell));
      track("create", false, [&] {
        return client_
            .create(fmt::format("/ls/{}/members/client{}", s_.service.cell, s_.client), {}, true)
            .ok();
      });
    }
  }
  void setup_elections(std::uint32_t elections) {
    ensure(fmt::format("/ls/{}/elections", s_.service.cell));
    for (std::uint32_t i = 0; i < elections; ++i) ensure(election_path(s_.service, i));
  }
  void setup_config(std::uint32_t keys, bool watch) {
    ensure(config_root(s_.service));
    for (std::uint32_t i = 0; i < keys; ++i) ensure(config_path(s_.service, i));
    if (!watch) return;
    const std::string cell = fmt::format("/ls/{}", s_.service.cell);
    const auto w = client_.watch(kWatchId, cell, true);
    if (!w.ok()) return;
    watching_ = true;
    history_->watches.push_back(WatchRecord{s_.client, client_.session(), kWatchId, cell, true,
                                            service::lock::kWatchableKinds, w.value, {}});
  }

  // Acquire a lock, hold it, read-modify-write its counter on the resource, release.
  void counter_round(const CounterRound& round) {
    const std::uint32_t lock = round.own_lock
                                   ? s_.client % round.locks
                                   : static_cast<std::uint32_t>(rng_.below(round.locks));
    const std::string path = lock_path(s_.service, lock);
    std::optional<Sequencer> held;
    track("acquire", true, [&] {
      intend("acquire", path, {Value{std::string("exclusive")}, owner()});
      const auto r = client_.acquire(path, LockMode::exclusive, round.acquire_timeout);
      if (r.ok()) held = r.value;
      note(r, r.ok() ? generation(r.value) : Value{});
      return r.ok();
    });
    if (!held) return;
    const std::size_t holding = hold_begin(path, held->generation);
    if (round.hold > Nanos::zero()) f_.sleep(round.hold);
    if (round.use_resource) {
      const auto read = resource(service::ResourceOp::read, path, *held, 0);
      if (read && read->accepted) resource(service::ResourceOp::write, path, *held, read->value + 1);
    }
    hold_end(holding);
    track("release", false, [&] {
      intend("release", path, {owner()});
      const auto r = client_.release(path);
      note(r);
      return r.ok();
    });
  }

  // Campaign; once elected, do fenced work for `term`, then resign.
  void election_round(const ElectionWorkload& w) {
    const std::string path =
        election_path(s_.service, static_cast<std::uint32_t>(rng_.below(w.elections)));
    std::optional<Sequencer> token;
    track("campaign", true, [&] {
      intend("campaign", path, {owner()});
      const auto r = client_.campaign(path, to_bytes(fmt::format("client{}", s_.client)),
                                      w.campaign_timeout);
      if (r.ok()) token = r.value;
      note(r, r.ok() ? generation(r.value) : Value{});
      return r.ok();
    });
    if (!token) return;
    const std::size_t holding = hold_begin(path, token->generation);
    const Nanos until = w.term > Nanos::zero() ? true_now_() + w.term : Nanos::max();
    std::uint64_t beat = 0;
    // A leader that loses its lease (as it measures it) stops acting as leader.
    while (client_.lease_valid() && true_now_() < until && true_now_() < s_.stop) {
      resource(service::ResourceOp::write, path, *token, ++beat);
      f_.sleep(w.work_interval);
    }
    hold_end(holding);
    if (client_.lease_valid()) {
      track("resign", false, [&] {
        intend("resign", path, {owner()});
        const auto r = client_.resign(path);
        note(r);
        return r.ok();
      });
    }
  }

  // One get, set, compare-and-set or sequential create on a random key.
  void config_op(std::uint32_t keys, bool read_only) {
    const std::string key = config_path(s_.service, static_cast<std::uint32_t>(rng_.below(keys)));
    std::string content = "client";  // "client<client>-<write>"
    append_decimal(content, s_.client);
    content += '-';
    append_decimal(content, ++writes_);
    switch (read_only ? 0 : rng_.below(4)) {
      case 0:
        track("get", false, [&] { return get(key).has_value(); });
        break;
      case 1:
        track("set", false, [&] {
          intend("set", key, {Value{content}});
          const auto r = client_.set(key, to_bytes(content));
          note(r, r.ok() ? version(r.value.stat) : Value{});
          return r.ok();
        });
        break;
      case 2: {
        std::optional<std::uint64_t> version_read;
        track("get", false, [&] {
          version_read = get(key);
          return version_read.has_value();
        });
        if (!version_read) break;
        track("cas", false, [&] {
          intend("cas", key, {Value{content}, Value{static_cast<std::int64_t>(*version_read)}});
          const auto r = client_.set(key, to_bytes(content), *version_read);
          note(r, r.ok() ? version(r.value.stat) : Value{});
          return r.ok() || r.code == Code::version_mismatch;
        });
        break;
      }
      default:
        track("create", false, [&] {
          return client_.create(key + "/item-", to_bytes(content), false, true).ok();
        });
        break;
    }
    drain_watch(nanoseconds(1));
  }

  // Takes the watch events that have arrived (waiting up to `wait` for each).
  void drain_watch(Nanos wait) {
    if (!watching_) return;
    for (;;) {
      const auto e = client_.next_event(kWatchId, wait);
      if (!e.ok()) return;
    }
  }

  void idle() {
    drain_watch(seconds(1));
    for (;;) f_.sleep(kIdleSleep);
  }

  void read_with(service::lock::Consistency reads) { reads_ = reads; }
  std::uint64_t choice(std::uint64_t n) { return rng_.below(n); }
  void pause(Nanos d) {
    if (d > Nanos::zero()) f_.sleep(d);
  }

 private:
  void ensure(const std::string& path) {
    track("create", false, [&] {
      intend("create", path, {Value{std::string()}});
      const auto r = client_.create(path, {});
      note(r);
      return r.ok() || r.code == Code::node_exists;
    });
  }

  // A get, with its content as the model sees it; the version read when ok.
  std::optional<std::uint64_t> get(const std::string& key) {
    intend("get", key, {});
    const auto r = client_.get(key, reads_);
    note(r, r.ok() ? Value{lockstep::to_string(r.value.content)} : Value{});
    if (!r.ok()) return std::nullopt;
    return r.value.stat.version;
  }

  // The tracked call as the models see it (ModelCall), before it is made: a call its client
  // does not live to finish stays unknown.
  void intend(std::string f, std::string path, std::vector<Value> args) {
    history_->calls[tracking_].model =
        ModelCall{std::move(f), std::move(path), std::move(args), Value{}, checkers::Outcome::unknown};
  }
  // How it ended: `result` is what an ok call returned; a refused one records the service's error.
  template <typename T>
  void note(const service::lock::Outcome<T>& r, Value result = {}) {
    ModelCall& m = *history_->calls[tracking_].model;
    if (r.status == service::lock::Status::ok) {
      m.outcome = checkers::Outcome::ok;
      m.result = std::move(result);
    } else if (r.status == service::lock::Status::refused) {
      // stale_request: the service forgot whether an earlier attempt of this request applied.
      m.outcome = r.code == Code::stale_request ? checkers::Outcome::unknown : checkers::Outcome::failed;
      m.result = Value{std::string(service::lock::to_string(r.code))};
    }
  }
  Value owner() const { return Value{static_cast<std::int64_t>(client_.session().value)}; }
  static Value generation(const Sequencer& s) { return Value{static_cast<std::int64_t>(s.generation)}; }
  static Value version(const service::lock::Stat& s) { return Value{static_cast<std::int64_t>(s.version)}; }

  template <typename F>
  void track(std::string op, bool waits, F&& call) {
    const std::size_t i = history_->calls.size();
    history_->calls.push_back(LockCall{s_.client, std::move(op), true_now_(), {}, false, waits, {}});
    tracking_ = i;
    const bool ok = call();
    LockCall& c = history_->calls[i];
    c.returned = true_now_();
    c.ok = ok;
  }

  std::optional<service::ResourceReply> resource(service::ResourceOp op, const std::string& key,
                                                 const Sequencer& sequencer, std::uint64_t value) {
    std::optional<service::ResourceReply> reply;
    track(op == service::ResourceOp::read ? "resource_read" : "resource_write", false, [&] {
      reply = service::call_resource(
          f_, s_.resource,
          service::ResourceRequest{op, ++resource_requests_, client_.session().value, key,
                                   sequencer, value},
          s_.request_timeout);
      return reply.has_value();
    });
    return reply;
  }

  std::size_t hold_begin(const std::string& path, std::uint64_t generation) {
    history_->holdings.push_back(Holding{s_.client, path, generation, true_now_(), {}});
    open_holdings_.push_back(history_->holdings.size() - 1);
    return history_->holdings.size() - 1;
  }
  void hold_end(std::size_t i) {
    history_->holdings[i].until = true_now_();
    std::erase(open_holdings_, i);
  }

  sim::FiberContext& f_;
  const LockClientSettings& s_;
  std::function<Nanos()> true_now_;
  LockHistory* history_;
  LockClient& client_;
  Rng rng_;
  bool watching_ = false;
  std::uint64_t writes_ = 0;
  std::uint64_t resource_requests_ = 0;
  std::vector<std::size_t> open_holdings_;
  service::lock::Consistency reads_ = service::lock::Consistency::linearizable;
  std::size_t tracking_ = 0;  // the call being tracked: its index in history_->calls
};

// Marks the client crashed when its fiber is unwound: the fiber never returns, so only its node
// going down (or the world, after the checks) ends it.
struct CrashMark {
  LockHistory* history;
  std::uint32_t client;
  ~CrashMark() { history->crashed_clients.insert(client); }
};

void run_rounds(Worker& w, const Workload& workload) {
  std::visit(
      [&](const auto& wl) {
        using W = std::decay_t<decltype(wl)>;
        if constexpr (std::is_same_v<W, LockCounterWorkload>) {
          w.setup_locks(wl.locks, wl.presence);
          while (w.running()) {
            w.counter_round(
                {wl.locks, wl.hold, wl.acquire_timeout, wl.own_lock, wl.use_resource});
            w.pause(wl.interval);
          }
        } else if constexpr (std::is_same_v<W, ElectionWorkload>) {
          w.setup_elections(wl.elections);
          while (w.running()) w.election_round(wl);
        } else if constexpr (std::is_same_v<W, ConfigWorkload>) {
          w.read_with(wl.reads == ReadConsistency::stale ? service::lock::Consistency::stale
                                                         : service::lock::Consistency::linearizable);
          w.setup_config(wl.keys, wl.watch);
          while (w.running()) {
            w.config_op(wl.keys, wl.read_only);
            w.pause(wl.interval);
          }
        } else if constexpr (std::is_same_v<W, MixWorkload>) {
          w.setup_locks(wl.locks, false);
          w.setup_config(wl.keys, true);
          while (w.running()) {
            if (w.choice(2) == 0) {
              w.counter_round({wl.locks, wl.hold, wl.acquire_timeout, false, true});
            } else {
              w.config_op(wl.keys, false);
            }
            w.pause(wl.interval);
          }
        }
      },
      workload);
}

}  // namespace

sim::FiberBody lock_client(LockClientSettings s, std::function<Nanos()> true_now,
                           LockHistory* history) {
  return [s, true_now = std::move(true_now), history](sim::FiberContext& f) {
    if (true_now() < s.start) f.sleep(s.start - true_now());
    const CrashMark crash_mark{history, s.client};
    service::lock::LockClientConfig config;
    for (std::uint32_t i = 0; i < s.servers; ++i) config.servers.emplace_back(i);
    config.session_ttl = s.service.session_ttl;
    config.grace = s.service.session_grace;
    config.request_timeout = s.request_timeout;
    config.wait_resend = s.service.wait_resend;
    LockRecorder recorder(s.client, true_now, history);
    // A client whose session is lost opens another and goes on, until `stop`.
    for (;;) {
      LockClient client(f, config, {}, &recorder);
      if (client.state() == service::lock::SessionState::opening) {
        if (true_now() >= s.stop) break;
        f.sleep(s.request_timeout);
        continue;
      }
      Worker w(f, s, true_now, history, client);
      run_rounds(w, s.workload);
      if (true_now() >= s.stop) w.idle();
    }
    for (;;) f.sleep(kIdleSleep);
  };
}

}  // namespace lockstep::harness
