// Fibers for straight-line client code (Boost.Context). A FiberHost is an ordinary Process: it
// runs one or more fibers and suspends them on `sleep` and `receive`, resuming them from the
// timer and message callbacks the Env delivers. The fibers are therefore scheduled by the same
// deterministic event loop as everything else (a wake-up is a timer or a message event), a paused
// node's fibers stay frozen with it, and a crash destroys them (their stacks are unwound).
//
// Nothing here depends on the simulator: a FiberHost runs on any Env, so the client library
// written on it will run over real sockets too.
//
//   FiberHost host({[](FiberContext& f) {
//     f.send(server, request);
//     if (auto reply = f.receive(milliseconds(100))) { ... } else { /* timed out */ }
//     f.sleep(milliseconds(10));
//   }});
//
// Protocol code never runs on a fiber and never suspends (DESIGN.md). Fiber code must not catch
// (...) without rethrowing: destroying a host unwinds its suspended fibers with an exception.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/env.h"

namespace lockstep::sim {

class FiberContext;
using FiberBody = std::function<void(FiberContext&)>;
// Decides whether a waiting fiber takes a message; empty accepts everything.
using MessageFilter = std::function<bool(NodeId from, ByteView payload)>;

struct Received {
  NodeId from;
  Bytes payload;
};

struct FiberLimits {
  std::size_t stack_bytes = 64 * 1024;
  // Messages no fiber has taken yet; past this the oldest is dropped (a full socket buffer).
  std::size_t mailbox_max = 1024;
};

class FiberHost : public Process {
 public:
  explicit FiberHost(std::vector<FiberBody> bodies, FiberLimits limits = {});
  ~FiberHost() override;

  void on_start(Env& env) override;
  void on_message(Env& env, NodeId from, ByteView payload) override;
  void on_timer(Env& env, TimerId id) override;

  // Starts another fiber; it runs until its first suspension before spawn returns.
  void spawn(FiberBody body);
  std::size_t fibers_alive() const;
  std::size_t mailbox_dropped() const { return mailbox_dropped_; }

 private:
  friend class FiberContext;
  struct Fiber;

  void resume(Fiber& fiber);
  void suspend(Fiber& fiber);
  void reap();

  std::vector<FiberBody> initial_;
  FiberLimits limits_;
  Env* env_ = nullptr;  // the Env outlives the process (it belongs to the node, not the process)
  std::vector<std::unique_ptr<Fiber>> fibers_;
  // (timer id, the fiber it wakes): a few at most, one per sleeping fiber; a flat list, since a
  // map allocated a node per wait.
  std::vector<std::pair<std::uint64_t, Fiber*>> timer_waiters_;
  std::deque<Received> mailbox_;
  std::size_t mailbox_dropped_ = 0;
  Fiber* running_ = nullptr;
  bool destroying_ = false;
};

// What a fiber's body sees: its node's Env, plus the calls that suspend it.
class FiberContext {
 public:
  Env& env() { return *host_.env_; }
  NodeId self() { return env().self(); }
  Nanos now() { return env().now(); }
  void send(NodeId to, ByteView payload) { env().send(to, payload); }

  // Suspends this fiber for `duration` of the node's monotonic clock.
  void sleep(Nanos duration);
  // The first message `accept` takes — already waiting in the mailbox, or arriving within
  // `timeout` — or nullopt once `timeout` has passed. Nanos::max() waits forever.
  std::optional<Received> receive(Nanos timeout, const MessageFilter& accept = {});
  // Drops every message waiting in the mailbox that `stale` picks: ones this node will never
  // take (late replies to finished requests), which every later receive would otherwise look at
  // again, up to a full mailbox.
  template <typename Stale>  // bool(NodeId from, ByteView payload)
  void discard(Stale stale) {
    std::erase_if(host_.mailbox_, [&stale](const Received& r) { return stale(r.from, r.payload); });
  }
  // Sends `request` and waits for a reply that `accept` takes.
  std::optional<Received> call(NodeId to, ByteView request, Nanos timeout,
                               const MessageFilter& accept = {});
  void spawn(FiberBody body) { host_.spawn(std::move(body)); }

 private:
  friend class FiberHost;
  FiberContext(FiberHost& host, FiberHost::Fiber& fiber) : host_(host), fiber_(fiber) {}
  FiberHost& host_;
  FiberHost::Fiber& fiber_;
};

}  // namespace lockstep::sim
