// A tiny in-test host for Zab replicas: one shared clock, a FIFO network with cuttable links, a
// record log per node (by default everything handed over counts as synced; with
// `lose_unsynced` a crash drops the records written since the last sync_before_send), a toy state
// machine (the list of delivered commands) and the cluster checker after every step. No simulator.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "protocols/zab/zab.h"

namespace lockstep::zab::testing {

struct Envelope {
  NodeId from;
  NodeId to;
  Bytes payload;
};

inline ZabConfig test_config() { return ZabConfig{}; }

// Decodes a message for assertions; fails the test when it does not decode.
inline ZabMessage decoded(ByteView payload) {
  auto m = decode_message(payload);
  EXPECT_TRUE(m.has_value());
  return m.value_or(ZabMessage{Notification{}});
}

// "c7" for ("c", 7); spelled out because GCC 12 warns (-Wrestrict, a false positive) on
// `"c" + std::to_string(7)` at -O3.
inline std::string numbered(std::string_view prefix, std::uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

// A record log: epochs, then transactions with the given zxids from position 1.
inline std::vector<Bytes> records_with(Epoch accepted, Epoch current, const std::vector<Zxid>& zxids,
                                       std::optional<NodeId> accepted_from = std::nullopt) {
  std::vector<Bytes> records;
  records.push_back(encode(ZabRecord{EpochRecord{accepted, accepted_from, current}}));
  TxnsRecord tr{Position{1}, {}};
  for (Zxid z : zxids) tr.txns.push_back(Txn{z, to_bytes(numbered("t", z.epoch.value * 1000 + z.counter)), 0});
  if (!tr.txns.empty()) records.push_back(encode(ZabRecord{tr}));
  return records;
}

// Zxids (epoch, 1..count) for each (epoch, count).
inline std::vector<Zxid> zxids(std::initializer_list<std::pair<std::uint64_t, std::uint64_t>> runs) {
  std::vector<Zxid> out;
  for (auto [epoch, count] : runs) {
    for (std::uint64_t c = 1; c <= count; ++c) out.push_back(Zxid{Epoch{epoch}, c});
  }
  return out;
}

class TestCluster {
 public:
  // `disks` preloads record logs (missing ones start empty).
  explicit TestCluster(std::size_t n, ZabConfig config = test_config(), std::uint64_t seed = 1,
                       std::vector<std::vector<Bytes>> disks = {})
      : config_(config), seed_(seed), disks_(std::move(disks)) {
    for (std::size_t i = 0; i < n; ++i) members_.push_back(NodeId{static_cast<std::uint32_t>(i)});
    replicas_.resize(n);
    disks_.resize(n);
    synced_records_.resize(n, 0);
    delivered_.resize(n);
    delivered_index_.resize(n, 0);
    reads_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      synced_records_[i] = disks_[i].size();
      start(i);
    }
  }

  std::size_t size() const { return replicas_.size(); }
  Nanos now() const { return now_; }
  ZabReplica& node(std::size_t i) { return *replicas_.at(i); }
  bool up(std::size_t i) const { return replicas_.at(i) != nullptr; }
  std::vector<Bytes>& disk(std::size_t i) { return disks_.at(i); }
  const std::vector<std::string>& delivered(std::size_t i) const { return delivered_.at(i); }
  const std::vector<consensus::ReadReady>& reads(std::size_t i) const { return reads_.at(i); }
  std::deque<Envelope>& network() { return network_; }
  const ZabConfig& config() const { return config_; }
  // A crash drops records written after the last output that asked for a sync.
  void lose_unsynced(bool on) { lose_unsynced_ = on; }
  // A violation is recorded (violation()) instead of failing the test.
  void expect_violation() { expect_violation_ = true; }

  void start(std::size_t i) {
    ++incarnations_;
    replicas_.at(i) = std::make_unique<ZabReplica>(config_, NodeId{static_cast<std::uint32_t>(i)},
                                                   members_, seed_ * 1000 + incarnations_);
    delivered_.at(i).clear();
    delivered_index_.at(i) = 0;
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
  void isolate(std::size_t a) {
    for (std::size_t b = 0; b < size(); ++b) {
      if (b != a) cut(a, b);
    }
  }
  void heal() { cut_.clear(); }

  // Takes node i's output: persist to its disk, queue its messages, deliver what committed.
  consensus::Output collect(std::size_t i) {
    consensus::Output out = replicas_.at(i)->take_output();
    if (out.persist_rewrite) disks_[i].clear();
    for (ByteView r : out.persist) disks_[i].emplace_back(r.begin(), r.end());
    if (out.sync_before_send || out.persist_rewrite) synced_records_[i] = disks_[i].size();
    for (const consensus::Message& m : out.messages) {
      network_.push_back(Envelope{NodeId{static_cast<std::uint32_t>(i)}, m.to,
                                  Bytes(m.payload.begin(), m.payload.end())});
    }
    if (out.snapshot) {
      delivered_[i] = split(lockstep::to_string(out.snapshot->data));
      delivered_index_[i] = out.snapshot->index;
    }
    for (const consensus::CommittedCommand& c : out.committed) {
      EXPECT_GT(c.index, delivered_index_[i]) << "node " << i << " delivered out of order";
      delivered_index_[i] = c.index;
      delivered_[i].push_back(lockstep::to_string(c.command));
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
  void tick_due() {
    for (std::size_t i = 0; i < size(); ++i) {
      if (up(i) && replicas_[i]->next_tick() <= now_) {
        replicas_[i]->tick(now_);
        collect(i);
      }
    }
  }
  void advance(Nanos d) { now_ += d; }

  // Runs until some server is an established leader (at most `limit`); returns it.
  std::optional<std::size_t> settle(Nanos limit = seconds(3)) {
    const Nanos end = now_ + limit;
    while (now_ < end) {
      if (auto l = leader(); l && all_synced(*l)) return l;
      run_for(milliseconds(1));
    }
    return leader();
  }

  // The established leader of the highest epoch among the live servers.
  std::optional<std::size_t> leader() const {
    std::optional<std::size_t> found;
    for (std::size_t i = 0; i < size(); ++i) {
      if (up(i) && replicas_[i]->established() &&
          (!found || replicas_[i]->current_epoch() > replicas_[*found]->current_epoch())) {
        found = i;
      }
    }
    return found;
  }
  // Every live server but the leader follows it in broadcast phase.
  bool all_synced(std::size_t leader) const {
    for (std::size_t i = 0; i < size(); ++i) {
      if (i == leader || !up(i)) continue;
      if (replicas_[i]->phase() != Phase::broadcast || replicas_[i]->leader() != NodeId{static_cast<std::uint32_t>(leader)}) return false;
    }
    return true;
  }

  consensus::ProposeResult propose(std::size_t i, std::string_view command) {
    auto r = replicas_.at(i)->propose(now_, to_bytes(command));
    collect(i);
    return r;
  }
  // Proposes on node i and runs until quiet.
  void commit(std::size_t i, std::string_view command) {
    EXPECT_EQ(propose(i, command).outcome, consensus::Outcome::accepted);
    run_for(milliseconds(5));
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
  // Snapshots node i's toy state machine at what it delivered.
  void snapshot(std::size_t i) {
    replicas_.at(i)->compact(now_, replicas_[i]->applied_position().value,
                             to_bytes(join(delivered_[i])));
    collect(i);
  }

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

  ZabConfig config_;
  std::uint64_t seed_;
  std::vector<std::vector<Bytes>> disks_;
  std::vector<std::size_t> synced_records_;
  bool lose_unsynced_ = false;
  bool expect_violation_ = false;
  std::uint64_t incarnations_ = 0;
  Nanos now_ = milliseconds(1);
  std::vector<NodeId> members_;
  std::vector<std::unique_ptr<ZabReplica>> replicas_;
  std::vector<std::vector<std::string>> delivered_;
  std::vector<std::uint64_t> delivered_index_;
  std::vector<std::vector<consensus::ReadReady>> reads_;
  std::deque<Envelope> network_;
  std::set<std::pair<std::size_t, std::size_t>> cut_;
  ZabChecker checker_;
  std::optional<consensus::Violation> violation_;
};

}  // namespace lockstep::zab::testing
