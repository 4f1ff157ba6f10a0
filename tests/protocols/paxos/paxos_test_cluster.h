// A tiny in-test host for Paxos replicas: one shared clock, a FIFO network with cuttable links, a
// record log per node (everything handed over counts as synced), a toy state machine (the list of
// applied commands) and the cluster checker run after every step. No simulator involved.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "protocols/paxos/paxos.h"

namespace lockstep::paxos::testing {

struct Envelope {
  NodeId from;
  NodeId to;
  Bytes payload;
};

inline PaxosConfig test_config() { return PaxosConfig{}; }

// Decodes a message for assertions; fails the test when it does not decode.
inline PaxosMessage decoded(ByteView payload) {
  auto m = decode_message(payload);
  EXPECT_TRUE(m.has_value());
  return m.value_or(PaxosMessage{TimeoutNow{}});
}

// The messages of `out` of type M, with their destinations.
template <typename M>
std::vector<std::pair<NodeId, M>> messages_of(const consensus::Output& out) {
  std::vector<std::pair<NodeId, M>> found;
  for (const consensus::Message& m : out.messages) {
    auto d = decode_message(m.payload);
    if (d && std::holds_alternative<M>(*d)) found.emplace_back(m.to, std::get<M>(*d));
  }
  return found;
}

// "c7" for ("c", 7); spelled out because GCC 12 warns (-Wrestrict, a false positive) on
// `"c" + std::to_string(7)` at -O3.
inline std::string numbered(std::string_view prefix, std::uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

inline Value command(std::string_view s) { return Value{ValueKind::command, to_bytes(s)}; }

// The ballot of `round` owned by member `node` of an n-member cluster {0..n-1}: the smallest
// round >= `at_least` with round mod n == node.
inline Ballot owned_ballot(std::uint64_t at_least, std::uint32_t node, std::uint32_t n) {
  std::uint64_t r = std::max<std::uint64_t>(at_least, 1);
  while (r % n != node) ++r;
  return Ballot{r, NodeId{node}};
}

class TestCluster {
 public:
  // `disks` preloads record logs (missing ones start empty).
  explicit TestCluster(std::size_t n, PaxosConfig config = test_config(), std::uint64_t seed = 1,
                       std::vector<std::vector<Bytes>> disks = {})
      : config_(config), seed_(seed), disks_(std::move(disks)) {
    for (std::size_t i = 0; i < n; ++i) members_.push_back(NodeId{static_cast<std::uint32_t>(i)});
    replicas_.resize(n);
    disks_.resize(n);
    applied_.resize(n);
    applied_index_.resize(n, 0);
    reads_.resize(n);
    for (std::size_t i = 0; i < n; ++i) start(i);
  }

  std::size_t size() const { return replicas_.size(); }
  Nanos now() const { return now_; }
  PaxosReplica& node(std::size_t i) { return *replicas_.at(i); }
  bool up(std::size_t i) const { return replicas_.at(i) != nullptr; }
  std::vector<Bytes>& disk(std::size_t i) { return disks_.at(i); }
  const std::vector<std::string>& applied(std::size_t i) const { return applied_.at(i); }
  const std::vector<consensus::ReadReady>& reads(std::size_t i) const { return reads_.at(i); }
  std::deque<Envelope>& network() { return network_; }
  const PaxosConfig& config() const { return config_; }
  PaxosChecker& checker() { return checker_; }

  // (Re)starts node i from its record log.
  void start(std::size_t i) {
    ++incarnations_;
    replicas_.at(i) = std::make_unique<PaxosReplica>(
        config_, NodeId{static_cast<std::uint32_t>(i)}, members_, seed_ * 1000 + incarnations_);
    applied_.at(i).clear();
    applied_index_.at(i) = 0;
    replicas_[i]->recover(now_, disks_[i]);
    collect(i);
  }
  void crash(std::size_t i) {
    replicas_.at(i).reset();
    check();
  }

  void cut(std::size_t a, std::size_t b) {
    cut_.insert({a, b});
    cut_.insert({b, a});
  }
  void cut_one_way(std::size_t from, std::size_t to) { cut_.insert({from, to}); }
  void isolate(std::size_t a) {
    for (std::size_t b = 0; b < size(); ++b) {
      if (b != a) cut(a, b);
    }
  }
  void heal() { cut_.clear(); }

  // Takes node i's output: persist to its disk, queue its messages, apply what committed.
  consensus::Output collect(std::size_t i) {
    consensus::Output out = replicas_.at(i)->take_output();
    if (out.persist_rewrite) disks_[i].clear();
    for (ByteView r : out.persist) disks_[i].emplace_back(r.begin(), r.end());
    for (const consensus::Message& m : out.messages) {
      network_.push_back(Envelope{NodeId{static_cast<std::uint32_t>(i)}, m.to,
                                  Bytes(m.payload.begin(), m.payload.end())});
    }
    if (out.snapshot) {
      applied_[i] = split(lockstep::to_string(out.snapshot->data));
      applied_index_[i] = out.snapshot->index;
    }
    for (const consensus::CommittedCommand& c : out.committed) {
      EXPECT_GT(c.index, applied_index_[i]) << "node " << i << " applied out of order";
      applied_index_[i] = c.index;
      applied_[i].push_back(lockstep::to_string(c.command));
    }
    for (const consensus::ReadReady& r : out.reads) reads_[i].push_back(r);
    check();
    return out;
  }

  // Hands node i a message as if `from` had sent it, and collects.
  consensus::Output inject(std::size_t i, std::size_t from, const PaxosMessage& m) {
    replicas_.at(i)->receive(now_, NodeId{static_cast<std::uint32_t>(from)}, encode(m));
    return collect(i);
  }

  // Delivers one queued message (dropped if its link is cut or the receiver is down).
  bool deliver_one() {
    if (network_.empty()) return false;
    Envelope e = std::move(network_.front());
    network_.pop_front();
    deliver(e);
    return true;
  }
  void deliver(const Envelope& e) {
    const std::size_t to = e.to.value;
    if (to >= size() || !up(to) || cut_.count({e.from.value, to})) return;
    replicas_[to]->receive(now_, e.from, e.payload);
    collect(to);
  }
  void deliver_all(std::size_t limit = 100000) {
    while (limit-- > 0 && deliver_one()) {
    }
  }

  // Advances the clock in `step` increments, ticking due nodes and delivering everything.
  void run_for(Nanos duration, Nanos step = milliseconds(1)) {
    const Nanos end = now_ + duration;
    while (now_ < end) {
      now_ += step;
      tick_due();
      deliver_all();
    }
  }
  // Ticks every node whose next_tick() has come, delivering nothing.
  void tick_due() {
    for (std::size_t i = 0; i < size(); ++i) {
      if (up(i) && replicas_[i]->next_tick() <= now_) {
        replicas_[i]->tick(now_);
        collect(i);
      }
    }
  }
  void advance(Nanos d) { now_ += d; }

  // Makes node i run phase 1 now (after its election timeout) and delivers until quiet.
  void elect(std::size_t i) {
    now_ = std::max(now_, replicas_.at(i)->next_tick());
    replicas_[i]->tick(now_);
    collect(i);
    deliver_all();
    // The leader counts its own acceptances once handed over: one more tick chooses them.
    if (replicas_[i]->role() == PaxosRole::leader) {
      replicas_[i]->tick(now_);
      collect(i);
      deliver_all();
    }
  }

  std::optional<std::size_t> leader() const {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < size(); ++i) {
      if (up(i) && replicas_[i]->role() == PaxosRole::leader &&
          (!found || replicas_[i]->ballot() > replicas_[*found]->ballot())) {
        found = i;
      }
    }
    return found;
  }

  consensus::ProposeResult propose(std::size_t i, std::string_view command) {
    auto r = replicas_.at(i)->propose(now_, to_bytes(command));
    collect(i);
    return r;
  }
  // Proposes on node i and delivers until quiet, then heartbeats once so followers learn the
  // commit index too.
  void commit(std::size_t i, std::string_view command) {
    EXPECT_EQ(propose(i, command).outcome, consensus::Outcome::accepted);
    deliver_all();
    run_for(config_.heartbeat_interval);
  }

  std::optional<consensus::Violation> violation() const { return violation_; }

  static std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < s.size()) {
      const std::size_t end = s.find('\n', start);
      out.push_back(s.substr(start, end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return out;
  }
  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) s += '\n';
      s += v[i];
    }
    return s;
  }
  // Snapshots node i's toy state machine at what it applied.
  void snapshot(std::size_t i) {
    replicas_.at(i)->compact(now_, replicas_[i]->applied_index().value,
                             to_bytes(join(applied_[i])));
    collect(i);
  }

 private:
  void check() {
    std::vector<const consensus::Replica*> view;
    for (const auto& r : replicas_) view.push_back(r.get());
    auto v = checker_.check(view);
    if (v && !violation_) {
      violation_ = v;
      ADD_FAILURE() << "invariant " << v->property << " violated: " << v->detail;
    }
  }

  PaxosConfig config_;
  std::uint64_t seed_;
  std::vector<std::vector<Bytes>> disks_;
  std::uint64_t incarnations_ = 0;
  Nanos now_ = milliseconds(1);
  std::vector<NodeId> members_;
  std::vector<std::unique_ptr<PaxosReplica>> replicas_;
  std::vector<std::vector<std::string>> applied_;
  std::vector<std::uint64_t> applied_index_;
  std::vector<std::vector<consensus::ReadReady>> reads_;
  std::deque<Envelope> network_;
  std::set<std::pair<std::size_t, std::size_t>> cut_;
  PaxosChecker checker_;
  std::optional<consensus::Violation> violation_;
};

}  // namespace lockstep::paxos::testing
