#include "sim/fiber.h"

#include <exception>

#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>

#include "core/assert.h"

namespace lockstep::sim {

namespace ctx = boost::context;

struct FiberHost::Fiber {
  FiberBody body;
  ctx::fiber self;  // to resume the fiber, from the host
  ctx::fiber sink;  // to return to the host, from the fiber
  bool done = false;
  // What the fiber waits for while suspended.
  std::uint64_t timer = 0;  // 0: none
  bool waiting_message = false;
  const MessageFilter* accept = nullptr;
  std::optional<Received> received;
};

FiberHost::FiberHost(std::vector<FiberBody> bodies, FiberLimits limits)
    : initial_(std::move(bodies)), limits_(limits) {}

// Suspended fibers are destroyed with the host; Boost.Context unwinds each stack, running the
// destructors of the fiber's locals.
FiberHost::~FiberHost() = default;

void FiberHost::on_start(Env& env) {
  env_ = &env;
  std::vector<FiberBody> bodies = std::move(initial_);
  initial_.clear();
  for (auto& body : bodies) spawn(std::move(body));
}

void FiberHost::spawn(FiberBody body) {
  LS_ASSERT(env_ != nullptr);
  auto owned = std::make_unique<Fiber>();
  Fiber& fiber = *owned;
  fiber.body = std::move(body);
  fiber.self = ctx::fiber(std::allocator_arg, ctx::fixedsize_stack(limits_.stack_bytes),
                          [this, &fiber](ctx::fiber&& sink) {
                            fiber.sink = std::move(sink);
                            FiberContext context(*this, fiber);
                            try {
                              fiber.body(context);
                            } catch (const ctx::detail::forced_unwind&) {
                              throw;  // the host is being destroyed: let Boost unwind the stack
                            } catch (const std::exception& e) {
                              LS_ASSERT_MSG(false, std::string("fiber threw: ") + e.what());
                            }
                            fiber.done = true;
                            return std::move(fiber.sink);
                          });
  fibers_.push_back(std::move(owned));
  resume(fiber);
}

void FiberHost::resume(Fiber& fiber) {
  LS_ASSERT(!fiber.done);
  Fiber* outer = running_;
  running_ = &fiber;
  fiber.self = std::move(fiber.self).resume();
  running_ = outer;
  if (fiber.done) reap();
}

void FiberHost::suspend(Fiber& fiber) {
  LS_ASSERT_EQ(running_, &fiber);
  fiber.sink = std::move(fiber.sink).resume();
}

void FiberHost::reap() {
  std::erase_if(fibers_, [this](const std::unique_ptr<Fiber>& f) {
    return f->done && f.get() != running_;
  });
}

std::size_t FiberHost::fibers_alive() const {
  std::size_t alive = 0;
  for (const auto& f : fibers_) alive += f->done ? 0 : 1;
  return alive;
}

void FiberHost::on_message(Env&, NodeId from, ByteView payload) {
  for (auto& f : fibers_) {
    Fiber& fiber = *f;
    if (!fiber.waiting_message || fiber.done) continue;
    if (fiber.accept != nullptr && *fiber.accept && !(*fiber.accept)(from, payload)) continue;
    fiber.waiting_message = false;
    fiber.received = Received{from, Bytes(payload.begin(), payload.end())};
    if (fiber.timer != 0) {
      env_->cancel_timer(TimerId{fiber.timer});
      timer_waiters_.erase(fiber.timer);
      fiber.timer = 0;
    }
    resume(fiber);
    return;
  }
  if (mailbox_.size() >= limits_.mailbox_max) {
    mailbox_.pop_front();
    ++mailbox_dropped_;
  }
  mailbox_.push_back(Received{from, Bytes(payload.begin(), payload.end())});
}

void FiberHost::on_timer(Env&, TimerId id) {
  auto it = timer_waiters_.find(id.value);
  if (it == timer_waiters_.end()) return;
  Fiber& fiber = *it->second;
  timer_waiters_.erase(it);
  fiber.timer = 0;
  fiber.waiting_message = false;  // a receive that timed out
  resume(fiber);
}

void FiberContext::sleep(Nanos duration) {
  fiber_.timer = env().set_timer(duration).value;
  host_.timer_waiters_[fiber_.timer] = &fiber_;
  host_.suspend(fiber_);
}

std::optional<Received> FiberContext::receive(Nanos timeout, const MessageFilter& accept) {
  auto& mailbox = host_.mailbox_;
  for (auto it = mailbox.begin(); it != mailbox.end(); ++it) {
    if (!accept || accept(it->from, it->payload)) {
      Received out = std::move(*it);
      mailbox.erase(it);
      return out;
    }
  }
  fiber_.received.reset();
  fiber_.waiting_message = true;
  fiber_.accept = &accept;
  if (timeout != Nanos::max()) {
    fiber_.timer = env().set_timer(timeout).value;
    host_.timer_waiters_[fiber_.timer] = &fiber_;
  }
  host_.suspend(fiber_);
  fiber_.accept = nullptr;
  std::optional<Received> out = std::move(fiber_.received);
  fiber_.received.reset();
  return out;
}

std::optional<Received> FiberContext::call(NodeId to, ByteView request, Nanos timeout,
                                           const MessageFilter& accept) {
  send(to, request);
  return receive(timeout, accept);
}

}  // namespace lockstep::sim
