#include "service/replica_host.h"

#include <array>
#include <string>

#include "core/assert.h"
#include "core/record_log.h"

namespace lockstep::service {

namespace {

constexpr std::string_view kRewriteFile = "replica.log.new";
// What precedes a protocol message between replicas (client_wire.h); sent as the head of the
// message, so that the protocol's bytes are not copied behind it first.
constexpr std::array<std::byte, 1> kPeerEnvelope{static_cast<std::byte>(Envelope::peer)};

// Replaces `timer`, if set, with one that fires once the monotonic clock reaches `deadline`;
// Nanos::max() leaves none.
void replace_timer(Env& env, std::optional<TimerId>& timer, Nanos deadline) {
  if (timer) env.cancel_timer(*timer);
  timer.reset();
  if (deadline == Nanos::max()) return;
  const Nanos now = env.monotonic();
  timer = env.set_timer(deadline > now ? deadline - now : Nanos::zero());
}

}  // namespace

ReplicaHost::ReplicaHost(ReplicaFactory replica_factory,
                         StateMachineFactory state_machine_factory, HostConfig config,
                         ServiceHooksFactory hooks_factory)
    : replica_factory_(std::move(replica_factory)),
      state_machine_factory_(std::move(state_machine_factory)),
      config_(config),
      hooks_factory_(std::move(hooks_factory)) {}

// The replica's clock is the node's monotonic clock: timeouts and leases are measured on it, so
// drift and pauses affect the protocol and wall-clock jumps do not (as with CLOCK_MONOTONIC).
void ReplicaHost::on_start(Env& env) {
  env_ = &env;
  Disk& disk = env.disk();
  if (disk.exists(kRewriteFile)) disk.remove(kRewriteFile);  // a compaction cut short by a crash
  const Recovered recovered = recover_records(disk, kReplicaLogFile);
  recovered_records_ = recovered.records.size();
  recovery_problem_ = recovered.problem;
  if (!recovered.problem.empty()) env.note("recovery", recovered.problem);
  state_machine_ = state_machine_factory_();
  if (hooks_factory_) hooks_ = hooks_factory_(*state_machine_);
  replica_ = replica_factory_(env.self(), env.random());
  replica_->recover(env.monotonic(), recovered.records);
  if (hooks_) hooks_->on_start(*this);
  drain(env);
}

void ReplicaHost::on_message(Env& env, NodeId from, ByteView payload) {
  const auto envelope = envelope_of(payload);
  if (!envelope) return;  // not ours: dropped (bytes from outside are never trusted)
  switch (*envelope) {
    case Envelope::peer:
      replica_->receive(env.monotonic(), from, peer_payload(payload));
      break;
    case Envelope::request:
      if (auto request = decode_request(payload)) {
        if (gathers(env, *request)) {
          gathered_.push_back(Gathered{from, std::move(*request)});
          // Fires as the syncs in flight complete; early by a rounding error at most under
          // clock drift, which only makes the batch go out while the disk is still busy.
          if (!gather_timer_) gather_timer_ = env.set_timer(env.disk().syncs_pending_for());
          return;  // the replica saw nothing: no output to drain
        }
        handle_request(env, from, *request);
      }
      break;
    case Envelope::reply:
    case Envelope::notify:
      return;  // servers take neither
  }
  drain(env);
}

void ReplicaHost::on_timer(Env& env, TimerId id) {
  if (gather_timer_ && gather_timer_->value == id.value) {
    gather_timer_.reset();
    propose_gathered(env);
    drain(env);
    return;
  }
  if (wake_timer_ && wake_timer_->value == id.value) {
    wake_timer_.reset();
    hooks_->on_wake(*this);
    drain(env);
    return;
  }
  if (!timer_ || timer_->value != id.value) return;
  timer_.reset();
  timer_deadline_ = Nanos::max();
  replica_->tick(env.monotonic());
  drain(env);
}

bool ReplicaHost::gathers(Env& env, const ClientRequest& request) const {
  if (request.op != ClientOp::write || role_.role != consensus::Role::leader) return false;
  if (gathered_.size() >= config_.pending_max) return false;
  // Once one waits, later ones wait behind it even if the disk has just become idle: the timer
  // that proposes the batch is already set.
  return !gathered_.empty() || env.disk().syncs_pending_for() > Nanos::zero();
}

void ReplicaHost::propose_gathered(Env& env) {
  for (const Gathered& g : gathered_) handle_request(env, g.from, g.request);
  gathered_.clear();  // handle_request gathers nothing, so the whole batch went through
}

void ReplicaHost::handle_request(Env& env, NodeId from, const ClientRequest& request) {
  if (request.client == kHostClient) {
    reject(env, from, request, consensus::ProposeResult{consensus::Outcome::unsupported, {}});
    return;
  }
  if (hooks_) hooks_->on_request(*this, from, request);
  if (request.op == ClientOp::stale_read) {
    reply(env, from,
          ClientReply{request.client, request.request, ReplyStatus::ok, role_.leader,
                      applied_index_, state_machine_->query(request.payload)});
    return;
  }
  if (request.op == ClientOp::read) {
    const std::uint64_t read_id = next_read_id_++;
    const consensus::ProposeResult result = replica_->read_barrier(env.monotonic(), read_id);
    if (result.outcome != consensus::Outcome::accepted) {
      reject(env, from, request, result);
      return;
    }
    if (pending_reads_.size() >= config_.pending_max) pending_reads_.erase(pending_reads_.begin());
    pending_reads_[read_id] =
        PendingRead{from, request.client, request.request, request.payload, 0, false};
    return;
  }
  const auto key = std::make_pair(request.client, request.request);
  if (auto it = pending_writes_.find(key); it != pending_writes_.end()) {
    it->second.client_node = from;  // a retry of a proposal still in flight here: just wait
    return;
  }
  command_buffer_.clear();
  encode_to(command_buffer_, LoggedCommand{request.client, request.request, request.payload});
  const consensus::ProposeResult result = replica_->propose(env.monotonic(), command_buffer_);
  if (result.outcome != consensus::Outcome::accepted) {
    reject(env, from, request, result);
    return;
  }
  if (pending_write_order_.size() >= config_.pending_max) {
    pending_writes_.erase(pending_write_order_.front());
    pending_write_order_.pop_front();
  }
  pending_writes_[key] = PendingWrite{from, request.client, request.request};
  pending_write_order_.push_back(key);
}

void ReplicaHost::drain(Env& env) {
  // Compacting produces more output (compact rewrites the log): only then is another round due,
  // since nothing else here calls into the replica.
  consensus::Output& out = output_;
  bool more = true;
  for (int rounds = 0; more && rounds < 8; ++rounds) {
    proposed_own_ = false;
    replica_->take_output(out);
    if (out.empty()) break;
    persist(env, out);
    for (const consensus::Message& m : out.messages) env.send_parts(m.to, kPeerEnvelope, m.payload);
    if (out.role_change) set_role(*out.role_change);
    apply_committed(env, out);
    for (const consensus::ReadReady& r : out.reads) {
      if (auto it = pending_reads_.find(r.read_id); it != pending_reads_.end()) {
        it->second.apply_index = r.apply_index;
        it->second.ready = true;
      }
    }
    serve_reads(env);
    // Compacting produces output, and so does a command the hooks proposed.
    more = maybe_compact(env) || proposed_own_;
  }
  arm_timer(env);
}

void ReplicaHost::set_role(const consensus::RoleChange& rc) {
  if (rc.role != consensus::Role::leader || rc.term != role_.term) forget_pending();
  const consensus::RoleChange before = role_;
  role_ = rc;
  env_->note("role", std::string(consensus::to_string(rc.role)) + " term=" +
                         std::to_string(rc.term) +
                         (rc.leader ? " leader=" + std::to_string(rc.leader->value) : ""));
  if (hooks_) hooks_->on_role_change(*this, before);
}

void ReplicaHost::notify(NodeId client_node, ByteView body) {
  env_->send(client_node, encode_notify(body));
}

consensus::ProposeResult ReplicaHost::propose_own(ByteView payload) {
  command_buffer_.clear();
  encode_to(command_buffer_, LoggedCommand{kHostClient, next_own_request_++, payload});
  const consensus::ProposeResult result = replica_->propose(env_->monotonic(), command_buffer_);
  if (result.outcome == consensus::Outcome::accepted) proposed_own_ = true;
  return result;
}

void ReplicaHost::wake_at(Nanos deadline) {
  // The lock server asks again after every command it applies, mostly for the deadline it already
  // has: a timer for the same monotonic deadline fires at the same instant, so it stays.
  if (wake_timer_ && wake_deadline_ == deadline) return;
  wake_deadline_ = deadline;
  replace_timer(*env_, wake_timer_, deadline);
}

// A proposal made in an earlier term may have been overwritten by another leader, and a read
// barrier dies with the leadership that took it. Forgetting them makes the clients' retries
// (same client, same request number) propose again; the state machine applies a request at
// most once, so a retry of a write that did commit after all is answered, not applied twice.
void ReplicaHost::forget_pending() {
  pending_writes_.clear();
  pending_write_order_.clear();
  pending_reads_.clear();
}

void ReplicaHost::persist(Env& env, consensus::Output& out) {
  Disk& disk = env.disk();
  if (out.persist_rewrite) {
    // Write the new log aside, make it durable, then rename it into place: a crash at any point
    // leaves either the old log or the new one, never a mix.
    if (disk.exists(kRewriteFile)) disk.remove(kRewriteFile);
    for (ByteView record : out.persist) append_record(disk, kRewriteFile, record);
    disk.sync(kRewriteFile);
    disk.rename(kRewriteFile, kReplicaLogFile);
    disk.sync(kReplicaLogFile);
    return;
  }
  if (out.persist.empty()) return;
  for (ByteView record : out.persist) append_record(disk, kReplicaLogFile, record);
  if (out.sync_before_send) disk.sync(kReplicaLogFile);
}

void ReplicaHost::apply_committed(Env& env, consensus::Output& out) {
  if (out.snapshot) {
    state_machine_->restore(out.snapshot->data);
    applied_index_ = out.snapshot->index;
    snapshot_index_ = out.snapshot->index;
    if (hooks_) hooks_->on_restored(*this);
  }
  for (const consensus::CommittedCommand& c : out.committed) {
    LS_ASSERT_GT(c.index, applied_index_);
    applied_index_ = c.index;
    const auto logged = decode_logged(c.command);
    LS_ASSERT(logged.has_value());  // only this host proposes, and only encoded commands
    Bytes& result = result_buffer_;
    result.clear();
    state_machine_->apply(c.index, *logged, result);
    const auto key = std::make_pair(logged->client, logged->request);
    if (auto it = pending_writes_.find(key); it != pending_writes_.end()) {
      reply(env, it->second.client_node,
            ClientReply{logged->client, logged->request, ReplyStatus::ok, std::nullopt, c.index,
                        result});
      pending_writes_.erase(it);
    }
    // After the reply: a client hears its answer before what its command caused.
    if (hooks_) hooks_->on_applied(*this, c.index, *logged, result);
  }
}

void ReplicaHost::serve_reads(Env& env) {
  for (auto it = pending_reads_.begin(); it != pending_reads_.end();) {
    if (!it->second.ready || it->second.apply_index > applied_index_) {
      ++it;
      continue;
    }
    reply(env, it->second.client_node,
          ClientReply{it->second.client, it->second.request, ReplyStatus::ok, std::nullopt,
                      applied_index_, state_machine_->query(it->second.query)});
    it = pending_reads_.erase(it);
  }
}

bool ReplicaHost::maybe_compact(Env& env) {
  if (config_.snapshot_every == 0 || applied_index_ < snapshot_index_ + config_.snapshot_every) {
    return false;
  }
  snapshot_index_ = applied_index_;
  replica_->compact(env.monotonic(), applied_index_, state_machine_->snapshot());
  return true;
}

void ReplicaHost::arm_timer(Env& env) {
  const Nanos deadline = replica_->next_tick();
  // A timer already set for no later than the deadline stays: if it fires early, tick() finds
  // nothing due and the timer is set again. A follower pushes its election deadline back on every
  // append, and one early wake per timeout costs less than a cancel and a new timer per message.
  if (timer_ && timer_deadline_ <= deadline) return;
  timer_deadline_ = deadline;
  replace_timer(env, timer_, deadline);
}

void ReplicaHost::reply(Env& env, NodeId to, const ClientReply& r) {
  send_buffer_.clear();
  encode_to(send_buffer_, r);
  env.send(to, send_buffer_);
}

void ReplicaHost::reject(Env& env, NodeId to, const ClientRequest& request,
                         const consensus::ProposeResult& result) {
  const ReplyStatus status = result.outcome == consensus::Outcome::not_leader
                                 ? ReplyStatus::not_leader
                                 : result.outcome == consensus::Outcome::busy ? ReplyStatus::busy
                                                                              : ReplyStatus::rejected;
  reply(env, to,
        ClientReply{request.client, request.request, status, result.leader_hint, 0, {}});
}

}  // namespace lockstep::service
