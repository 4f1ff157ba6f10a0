// Small test-only actors that exercise the world before any protocol exists (issue: "test code
// only, not a product feature").
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/record_log.h"

namespace lockstep::testing {

// Records every message and timer it sees, with the Env's clock readings, and can be scripted:
// `on_start_fn` / `on_message_fn` / `on_timer_fn` run after the recording.
struct Recorder : Process {
  struct Seen {
    Nanos local_time;
    NodeId from;
    std::string payload;  // empty for timers
    TimerId timer;
  };
  std::vector<Seen>* log = nullptr;  // owned by the test, survives crashes
  std::function<void(Env&)> on_start_fn;
  std::function<void(Env&, NodeId, ByteView)> on_message_fn;
  std::function<void(Env&, TimerId)> on_timer_fn;

  void on_start(Env& env) override {
    if (on_start_fn) on_start_fn(env);
  }
  void on_message(Env& env, NodeId from, ByteView payload) override {
    if (log) log->push_back({env.now(), from, lockstep::to_string(payload), {}});
    if (on_message_fn) on_message_fn(env, from, payload);
  }
  void on_timer(Env& env, TimerId id) override {
    if (log) log->push_back({env.now(), {}, {}, id});
    if (on_timer_fn) on_timer_fn(env, id);
  }
};

// Every node pings every other node every `interval`; a ping is answered with a pong. Counts
// what it receives. Used for determinism and throughput tests.
struct PingActor : Process {
  std::uint32_t nodes = 0;
  Nanos interval = milliseconds(10);
  std::uint64_t pings = 0;
  std::uint64_t pongs = 0;

  PingActor(std::uint32_t node_count, Nanos ping_interval)
      : nodes(node_count), interval(ping_interval) {}

  void on_start(Env& env) override { env.set_timer(interval); }
  void on_timer(Env& env, TimerId) override {
    for (std::uint32_t n = 0; n < nodes; ++n) {
      if (n != env.self().value) env.send(NodeId{n}, to_bytes("ping"));
    }
    env.set_timer(interval);
  }
  void on_message(Env& env, NodeId from, ByteView payload) override {
    if (lockstep::to_string(payload) == "ping") {
      ++pings;
      env.send(from, to_bytes("pong"));
    } else {
      ++pongs;
    }
  }
};

// A counter that survives crashes only as far as it synced: every tick it appends the next value
// to its record log and syncs every `sync_every`-th value. After a restart it resumes from the
// last value it can read back.
struct DurableCounter : Process {
  std::uint64_t value = 0;
  std::uint64_t sync_every = 1;
  std::uint64_t* recovered_out = nullptr;  // where on_start reports what it read back

  explicit DurableCounter(std::uint64_t every, std::uint64_t* recovered)
      : sync_every(every), recovered_out(recovered) {}

  void on_start(Env& env) override {
    const auto recovered = recover_records(env.disk(), "counter");
    value = recovered.records.empty() ? 0 : std::stoull(lockstep::to_string(recovered.records.back()));
    if (recovered_out) *recovered_out = value;
    env.set_timer(milliseconds(1));
  }
  void on_timer(Env& env, TimerId) override {
    ++value;
    append_record(env.disk(), "counter", to_bytes(std::to_string(value)));
    if (value % sync_every == 0) env.disk().sync("counter");
    env.set_timer(milliseconds(1));
  }
  void on_message(Env&, NodeId, ByteView) override {}
};

// A factory for Recorders that log into `log`, each set up by `setup` (for World::add_node).
inline std::function<std::unique_ptr<Process>(NodeId)> recorder(
    std::vector<Recorder::Seen>* log, std::function<void(Recorder&)> setup = {}) {
  return [log, setup](NodeId) {
    auto r = std::make_unique<Recorder>();
    r->log = log;
    if (setup) setup(*r);
    return r;
  };
}

}  // namespace lockstep::testing
