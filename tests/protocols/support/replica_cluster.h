// A tiny in-test host for the replicas of any protocol behind consensus::Replica: one shared
// clock, a FIFO network with cuttable links, a record log per node (by default everything handed
// over counts as synced; with `lose_unsynced` a crash drops the records written since the last
// output that asked for a sync), a toy state machine (the list of applied commands) and the
// cluster checker run after every step. No simulator involved.
//
// Each protocol's TestCluster derives from ReplicaCluster and adds only what is its own: how a
// leader is found and elected, and what "committed everywhere" takes.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/consensus.h"

namespace lockstep::protocol_testing {

struct Envelope {
  NodeId from;
  NodeId to;
  Bytes payload;
};

// "c7" for ("c", 7); spelled out because GCC 12 warns (-Wrestrict, a false positive) on
// `"c" + std::to_string(7)` at -O3.
inline std::string numbered(std::string_view prefix, std::uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

// The toy state machine's snapshot format: applied commands, one per line.
inline std::vector<std::string> split(const std::string& s) {
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
inline std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += '\n';
    s += v[i];
  }
  return s;
}

// ReplicaT is constructed as ReplicaT(config, self, members, seed); CheckerT is a
// consensus::ClusterChecker.
template <typename ReplicaT, typename ConfigT, typename CheckerT>
class ReplicaCluster {
 public:
  // `disks` preloads record logs (missing ones start empty).
  ReplicaCluster(std::size_t n, ConfigT config, std::uint64_t seed,
                 std::vector<std::vector<Bytes>> disks)
      : config_(config), seed_(seed), disks_(std::move(disks)) {
    for (std::size_t i = 0; i < n; ++i) members_.push_back(id(i));
    replicas_.resize(n);
    disks_.resize(n);
    synced_records_.resize(n, 0);
    applied_.resize(n);
    applied_index_.resize(n, 0);
    reads_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      synced_records_[i] = disks_[i].size();
      start(i);
    }
  }

  std::size_t size() const { return replicas_.size(); }
  Nanos now() const { return now_; }
  ReplicaT& node(std::size_t i) { return *replicas_.at(i); }
  bool up(std::size_t i) const { return replicas_.at(i) != nullptr; }
  std::vector<Bytes>& disk(std::size_t i) { return disks_.at(i); }
  const std::vector<std::string>& applied(std::size_t i) const { return applied_.at(i); }
  const std::vector<consensus::ReadReady>& reads(std::size_t i) const { return reads_.at(i); }
  std::deque<Envelope>& network() { return network_; }
  const ConfigT& config() const { return config_; }
  std::uint64_t seed() const { return seed_; }
  CheckerT& checker() { return checker_; }
  // A crash drops records written after the last output that asked for a sync.
  void lose_unsynced(bool on) { lose_unsynced_ = on; }
  // A violation is recorded (violation()) instead of failing the test.
  void expect_violation() { expect_violation_ = true; }
  std::optional<consensus::Violation> violation() const { return violation_; }

  // (Re)starts node i from its record log, with `members` as bootstrap configuration.
  void start(std::size_t i, std::optional<std::vector<NodeId>> members = std::nullopt) {
    ++incarnations_;
    replicas_.at(i) = std::make_unique<ReplicaT>(config_, id(i), members.value_or(members_),
                                                 seed_ * 1000 + incarnations_);
    applied_.at(i).clear();
    applied_index_.at(i) = 0;
    replicas_[i]->recover(now_, disks_[i]);
    collect(i);
  }
  void crash(std::size_t i) {
    replicas_.at(i).reset();
    if (lose_unsynced_) disks_[i].resize(synced_records_[i]);
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
    if (out.sync_before_send || out.persist_rewrite) synced_records_[i] = disks_[i].size();
    for (const consensus::Message& m : out.messages) {
      network_.push_back(Envelope{id(i), m.to, Bytes(m.payload.begin(), m.payload.end())});
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

  consensus::ProposeResult propose(std::size_t i, std::string_view command) {
    auto r = replicas_.at(i)->propose(now_, to_bytes(command));
    collect(i);
    return r;
  }

 protected:
  static NodeId id(std::size_t i) { return NodeId{static_cast<std::uint32_t>(i)}; }

  // Moves the clock on to node i's next deadline, if that is later than now.
  void wait_for_deadline(std::size_t i) { now_ = std::max(now_, replicas_.at(i)->next_tick()); }
  // Ticks node i now and delivers until quiet.
  void tick_and_deliver(std::size_t i) {
    replicas_.at(i)->tick(now_);
    collect(i);
    deliver_all();
  }

  // Snapshots node i's toy state machine at `index`, which the replica has applied.
  void compact_at(std::size_t i, std::uint64_t index) {
    replicas_.at(i)->compact(now_, index, to_bytes(join(applied_[i])));
    collect(i);
  }

  // Adds an empty node slot and returns its index; the caller starts it.
  std::size_t add_slot() {
    replicas_.emplace_back();
    disks_.emplace_back();
    synced_records_.push_back(0);
    applied_.emplace_back();
    applied_index_.push_back(0);
    reads_.emplace_back();
    return replicas_.size() - 1;
  }

  // The live replicas by index, for leader searches.
  const std::vector<std::unique_ptr<ReplicaT>>& replicas() const { return replicas_; }

 private:
  void check() {
    std::vector<const consensus::Replica*> view;
    for (const auto& r : replicas_) view.push_back(r.get());
    auto v = checker_.check(view);
    if (v && !violation_) {
      violation_ = v;
      if (!expect_violation_) {
        ADD_FAILURE() << "invariant " << v->property << " violated: " << v->detail;
      }
    }
  }

  ConfigT config_;
  std::uint64_t seed_;
  std::vector<std::vector<Bytes>> disks_;
  std::vector<std::size_t> synced_records_;
  bool lose_unsynced_ = false;
  bool expect_violation_ = false;
  std::uint64_t incarnations_ = 0;
  Nanos now_ = milliseconds(1);
  std::vector<NodeId> members_;
  std::vector<std::unique_ptr<ReplicaT>> replicas_;
  std::vector<std::vector<std::string>> applied_;
  std::vector<std::uint64_t> applied_index_;
  std::vector<std::vector<consensus::ReadReady>> reads_;
  std::deque<Envelope> network_;
  std::set<std::pair<std::size_t, std::size_t>> cut_;
  CheckerT checker_;
  std::optional<consensus::Violation> violation_;
};

}  // namespace lockstep::protocol_testing
