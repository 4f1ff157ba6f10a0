// Drives one Zab replica by hand, feeding it what its peers would say, for tests of one rule at a
// time. Every call takes the replica's output at once, as a host does.
#pragma once

#include <gtest/gtest.h>

#include <vector>

#include "tests/protocols/zab/zab_test_cluster.h"

namespace lockstep::zab::testing {

class Solo {
 public:
  explicit Solo(std::uint32_t self, std::size_t members = 3, ZabConfig config = test_config(),
                const std::vector<Bytes>& disk = {})
      : replica_(config, NodeId{self}, ids(members), 7) {
    replica_.recover(now_, disk);
    last_ = replica_.take_output();
  }

  ZabReplica& r() { return replica_; }
  Nanos now() const { return now_; }
  // The output of the latest call.
  const consensus::Output& out() const { return last_; }

  const consensus::Output& feed(std::uint32_t from, const ZabMessage& m) {
    replica_.receive(now_, NodeId{from}, encode(m));
    last_ = replica_.take_output();
    return last_;
  }
  const consensus::Output& advance(Nanos d) {
    now_ += d;
    replica_.tick(now_);
    last_ = replica_.take_output();
    return last_;
  }
  // Ticks once at the time the replica asked for (a leader counts its own records from there).
  const consensus::Output& tick_now() {
    now_ = std::max(now_, replica_.next_tick());
    replica_.tick(now_);
    last_ = replica_.take_output();
    return last_;
  }

  // The messages of the latest output to `to`, decoded.
  std::vector<ZabMessage> sent_to(std::uint32_t to) const {
    std::vector<ZabMessage> out;
    for (const consensus::Message& m : last_.messages) {
      if (m.to == NodeId{to}) out.push_back(decoded(m.payload));
    }
    return out;
  }
  template <typename M>
  std::vector<M> sent_of(std::uint32_t to) const {
    std::vector<M> out;
    for (const ZabMessage& m : sent_to(to)) {
      if (const auto* x = std::get_if<M>(&m)) out.push_back(*x);
    }
    return out;
  }
  // The records of the latest output, decoded.
  std::vector<ZabRecord> persisted() const {
    std::vector<ZabRecord> out;
    for (ByteView r : last_.persist) {
      auto rec = decode_record(r);
      EXPECT_TRUE(rec.has_value());
      if (rec) out.push_back(std::move(*rec));
    }
    return out;
  }

  // FLE-7: the settled servers `others` answer that `leader` leads; returns the session of the
  // FOLLOWERINFO the replica then sends.
  std::uint64_t follow(std::uint32_t leader, std::vector<std::uint32_t> others) {
    const Vote v{NodeId{leader}, Zxid{}, Epoch{}};
    feed(leader, Notification{ServerState::leading, v, 1});
    for (std::uint32_t o : others) feed(o, Notification{ServerState::following, v, 1});
    EXPECT_EQ(replica_.state(), ServerState::following);
    const auto infos = sent_of<FollowerInfo>(leader);
    EXPECT_EQ(infos.size(), 1u);
    return infos.empty() ? 0 : infos[0].session;
  }

  // FLE-6: LOOKING servers `voters` vote for us in our round; we settle after finalize_wait.
  void lead(std::vector<std::uint32_t> voters) {
    const Vote v = replica_.vote();
    for (std::uint32_t o : voters) {
      feed(o, Notification{ServerState::looking, v, replica_.round()});
    }
    advance(replica_.config().finalize_wait);
    EXPECT_EQ(replica_.state(), ServerState::leading);
  }

  // Drives a follower through discovery and synchronization of `epoch` with `leader`: NEWEPOCH,
  // a DIFF of `txns` on top of what it has, NEWLEADER and UPTODATE (committing through `commit`).
  void sync_with(std::uint32_t leader, std::uint64_t session, Epoch epoch,
                 const std::vector<Txn>& txns, Zxid commit) {
    std::uint64_t seq = 1;
    feed(leader, NewEpoch{session, seq++, epoch});
    const Zxid prev = replica_.history().last_zxid();
    feed(leader, Diff{session, seq++, prev, txns});
    feed(leader, NewLeader{session, seq++, epoch, replica_.history().last_zxid()});
    feed(leader, UpToDate{session, seq++, commit});
    next_seq_ = seq;
  }
  std::uint64_t next_seq() const { return next_seq_; }

 private:
  static std::vector<NodeId> ids(std::size_t n) {
    std::vector<NodeId> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(NodeId{static_cast<std::uint32_t>(i)});
    return out;
  }

  Nanos now_ = milliseconds(1);
  ZabReplica replica_;
  consensus::Output last_;
  std::uint64_t next_seq_ = 1;
};

inline Txn txn(std::uint64_t epoch, std::uint64_t counter, std::string_view data) {
  return Txn{Zxid{Epoch{epoch}, counter}, to_bytes(data), 0};
}

}  // namespace lockstep::zab::testing
