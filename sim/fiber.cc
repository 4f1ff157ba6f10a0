#include "sim/fiber.h"

#include <algorithm>
#include <exception>

#include <boost/context/fiber.hpp>
#include <boost/context/fixedsize_stack.hpp>

#include "core/assert.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace lockstep::sim {

namespace ctx = boost::context;

namespace {

// AddressSanitizer must be told about every stack switch, or it mistakes the fiber's stack for
// an overflow of the thread's (google/sanitizers#189). No-ops in other builds.
void start_switch(void** fake_stack_save, const void* bottom, std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
  (void)fake_stack_save, (void)bottom, (void)size;
#endif
}

void finish_switch(void* fake_stack_save, const void** bottom_old, std::size_t* size_old) {
#if defined(__SANITIZE_ADDRESS__)
  __sanitizer_finish_switch_fiber(fake_stack_save, bottom_old, size_old);
#else
  (void)fake_stack_save, (void)bottom_old, (void)size_old;
#endif
}

// Thrown inside a suspended fiber when its host is destroyed, to unwind the fiber's stack (and
// run its destructors) on our own terms. Not a std::exception, so fiber code that catches those
// does not swallow it; fiber code must never catch (...) without rethrowing.
struct FiberCancelled {};

// A fixed-size stack that remembers where it is, for the sanitizer annotations.
struct RecordingStack {
  ctx::fixedsize_stack inner;
  const void** bottom;
  std::size_t* size;

  ctx::stack_context allocate() {
    ctx::stack_context sc = inner.allocate();
    *bottom = static_cast<const char*>(sc.sp) - sc.size;
    *size = sc.size;
    return sc;
  }
  void deallocate(ctx::stack_context& sc) noexcept { inner.deallocate(sc); }
};

}  // namespace

struct FiberHost::Fiber {
  FiberBody body;
  ctx::fiber self;  // to resume the fiber, from the host
  ctx::fiber sink;  // to return to the host, from the fiber
  bool done = false;
  bool cancelled = false;  // the host is going away: unwind at the next resume
  const void* stack_bottom = nullptr;
  std::size_t stack_size = 0;
  const void* caller_bottom = nullptr;  // the stack that last resumed this fiber
  std::size_t caller_size = 0;
  // What the fiber waits for while suspended.
  std::uint64_t timer = 0;  // 0: none
  bool waiting_message = false;
  const MessageFilter* accept = nullptr;
  std::optional<Received> received;
};

FiberHost::FiberHost(std::vector<FiberBody> bodies, FiberLimits limits)
    : initial_(std::move(bodies)), limits_(limits) {}

// Suspended fibers die with the host: each is resumed one last time to unwind its stack, which
// runs the destructors of the fiber's locals.
FiberHost::~FiberHost() {
  destroying_ = true;
  for (auto& f : fibers_) {
    if (f->done) continue;
    f->cancelled = true;
    resume(*f);
    LS_ASSERT(f->done);
  }
}

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
  RecordingStack stack{ctx::fixedsize_stack(limits_.stack_bytes), &fiber.stack_bottom,
                       &fiber.stack_size};
  fiber.self = ctx::fiber(std::allocator_arg, stack, [this, &fiber](ctx::fiber&& sink) {
    finish_switch(nullptr, &fiber.caller_bottom, &fiber.caller_size);
    fiber.sink = std::move(sink);
    FiberContext context(*this, fiber);
    try {
      fiber.body(context);
    } catch (const FiberCancelled&) {
      // unwound because the host is being destroyed
    } catch (const std::exception& e) {
      LS_ASSERT_MSG(false, std::string("fiber threw: ") + e.what());
    }
    fiber.done = true;
    start_switch(nullptr, fiber.caller_bottom, fiber.caller_size);  // this stack is finished
    return std::move(fiber.sink);
  });
  fibers_.push_back(std::move(owned));
  resume(fiber);
}

void FiberHost::resume(Fiber& fiber) {
  LS_ASSERT(!fiber.done);
  Fiber* outer = running_;
  running_ = &fiber;
  void* fake_stack = nullptr;
  start_switch(&fake_stack, fiber.stack_bottom, fiber.stack_size);
  fiber.self = std::move(fiber.self).resume();
  finish_switch(fake_stack, nullptr, nullptr);
  running_ = outer;
  if (fiber.done && !destroying_) reap();
}

void FiberHost::suspend(Fiber& fiber) {
  LS_ASSERT_EQ(running_, &fiber);
  void* fake_stack = nullptr;
  start_switch(&fake_stack, fiber.caller_bottom, fiber.caller_size);
  fiber.sink = std::move(fiber.sink).resume();
  finish_switch(fake_stack, &fiber.caller_bottom, &fiber.caller_size);
  if (fiber.cancelled) throw FiberCancelled{};
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
      std::erase_if(timer_waiters_, [&fiber](const auto& w) { return w.first == fiber.timer; });
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
  const auto it = std::find_if(timer_waiters_.begin(), timer_waiters_.end(),
                               [id](const auto& w) { return w.first == id.value; });
  if (it == timer_waiters_.end()) return;
  Fiber& fiber = *it->second;
  timer_waiters_.erase(it);
  fiber.timer = 0;
  fiber.waiting_message = false;  // a receive that timed out
  resume(fiber);
}

void FiberContext::sleep(Nanos duration) {
  fiber_.timer = env().set_timer(duration).value;
  host_.timer_waiters_.emplace_back(fiber_.timer, &fiber_);
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
    host_.timer_waiters_.emplace_back(fiber_.timer, &fiber_);
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
