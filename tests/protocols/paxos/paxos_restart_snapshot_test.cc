// Restart from stable storage (PMS §2.5), torn and corrupt record-log tails, snapshots and
// compaction, and catch-up from a snapshot.
#include <gtest/gtest.h>

#include "core/record_log.h"
#include "tests/protocols/paxos/paxos_test_cluster.h"

namespace lockstep::paxos {
namespace paxos_restart_snapshot_test {
namespace {

using testing::command;
using testing::messages_of;
using testing::owned_ballot;
using testing::TestCluster;

PaxosConfig plain_paxos() {
  PaxosConfig c = testing::test_config();
  c.master_lease = false;
  c.ballot_boost = false;
  return c;
}

// PMS §2.5: the promise survives a restart, so the restarted acceptor still refuses lower ballots.
TEST(PaxosRestart, RestartKeepsThePromise_2_5) {
  TestCluster c(3, plain_paxos());
  const Ballot promised = owned_ballot(5, 2, 3);
  c.inject(0, 2, Prepare{promised, Slot{1}, false});
  c.crash(0);
  c.start(0);
  EXPECT_EQ(c.node(0).promised(), promised);
  const consensus::Output out = c.inject(0, 1, Prepare{owned_ballot(1, 1, 3), Slot{1}, false});
  EXPECT_TRUE(messages_of<Promise>(out).empty());
  ASSERT_EQ(messages_of<Nack>(out).size(), 1u);
}

// PMS §2.5: accepted values survive a restart and are reported in later promises.
TEST(PaxosRestart, RestartKeepsAcceptedValues_2_5) {
  TestCluster c(3, plain_paxos());
  const Ballot b = owned_ballot(1, 1, 3);
  c.inject(0, 1, Accept{b, Slot{1}, Slot{0}, 0, {command("a"), command("b")}});
  c.crash(0);
  c.start(0);
  const consensus::Output out = c.inject(0, 2, Prepare{owned_ballot(4, 2, 3), Slot{1}, false});
  const auto promises = messages_of<Promise>(out);
  ASSERT_EQ(promises.size(), 1u);
  ASSERT_EQ(promises[0].second.entries.size(), 2u);
  EXPECT_EQ(promises[0].second.entries[1], (PromisedEntry{Slot{2}, b, command("b")}));
}

// PMS §2.5: a proposer never reuses a ballot after a restart.
TEST(PaxosRestart, RestartedProposerUsesAHigherBallot_2_5) {
  TestCluster c(3);
  c.isolate(1);
  c.advance(seconds(1));
  c.node(1).tick(c.now());
  c.collect(1);
  const Ballot first = c.node(1).ballot();
  c.crash(1);
  c.start(1);
  c.advance(seconds(1));
  c.node(1).tick(c.now());
  c.collect(1);
  EXPECT_GT(c.node(1).ballot(), first);
}

// What is chosen is recorded along with other records, so a restarted replica hands its chosen
// prefix to the host at once, before it hears from any leader.
TEST(PaxosRestart, RestartReappliesTheChosenPrefix) {
  TestCluster c(3);
  c.elect(0);
  c.commit(0, "a");
  c.commit(0, "b");
  c.commit(0, "c");
  c.crash(1);
  c.isolate(1);
  c.start(1);
  EXPECT_GE(c.node(1).commit_index(), Slot{2});
  EXPECT_GE(c.applied(1).size(), 2u);
  c.heal();
  c.run_for(milliseconds(200));
  EXPECT_EQ(c.applied(1), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(PaxosRestart, LeaderCrashLosesNothingChosen_2_2) {
  TestCluster c(5);
  c.elect(0);
  for (int i = 0; i < 5; ++i) c.commit(0, testing::numbered("c", i));
  c.crash(0);
  c.run_for(seconds(1));
  const auto leader = c.leader();
  ASSERT_TRUE(leader.has_value());
  ASSERT_NE(*leader, 0u);
  c.commit(*leader, "after");
  c.start(0);
  c.run_for(milliseconds(300));
  const std::vector<std::string> expected{"c0", "c1", "c2", "c3", "c4", "after"};
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(c.applied(i), expected) << "node " << i;
}

// A record log image of `records`, as the host writes it (core/record_log.h).
Bytes file_image(const std::vector<Bytes>& records) {
  Bytes file;
  for (const Bytes& r : records) {
    const Bytes framed = encode_record(r);
    file.insert(file.end(), framed.begin(), framed.end());
  }
  return file;
}

// A crash can tear the last record, or flip a bit in it: the host's checksums cut the log back to
// the intact prefix, and the replica recovers exactly the state of that prefix.
TEST(PaxosRestart, TornOrCorruptTailIsCutAndThePrefixRecovered) {
  const Ballot b1 = owned_ballot(1, 1, 3);
  const Ballot b2 = owned_ballot(4, 1, 3);
  const std::vector<Bytes> records{
      encode(PaxosRecord{PromiseRecord{b1}}),
      encode(PaxosRecord{AcceptRecord{b1, Slot{1}, {command("a")}}}),
      encode(PaxosRecord{PromiseRecord{b2}}),
      encode(PaxosRecord{AcceptRecord{b2, Slot{1}, {command("b")}}}),
  };
  const Bytes whole = file_image(records);
  Bytes torn(whole.begin(), whole.end() - 3);
  Bytes corrupt = whole;
  corrupt[corrupt.size() - 2] ^= std::byte{0x10};
  for (const Bytes& image : {torn, corrupt}) {
    const Recovered rec = decode_records(image);
    EXPECT_FALSE(rec.clean());
    ASSERT_EQ(rec.records.size(), 3u);
    PaxosReplica r(testing::test_config(), NodeId{0}, {NodeId{0}, NodeId{1}, NodeId{2}}, 1);
    r.recover(Nanos::zero(), rec.records);
    EXPECT_EQ(r.promised(), b2);
    EXPECT_EQ(r.log().at(Slot{1}).ballot, b1);
    EXPECT_EQ(lockstep::to_string(r.log().at(Slot{1}).data), "a");
  }
}

TEST(PaxosSnapshot, CompactRewritesTheRecordLog) {
  TestCluster c(3);
  c.elect(0);
  for (int i = 0; i < 5; ++i) c.commit(0, testing::numbered("c", i));
  c.node(0).compact(c.now(), 4, to_bytes("state@4"));
  const consensus::Output out = c.collect(0);
  EXPECT_TRUE(out.persist_rewrite);
  EXPECT_TRUE(out.sync_before_send);
  std::vector<PaxosRecord> records;
  for (ByteView r : out.persist) records.push_back(*decode_record(r));
  ASSERT_EQ(records.size(), 5u);  // promise, proposer, snapshot, slot 5, chosen
  EXPECT_EQ(std::get<PromiseRecord>(records[0]).promised, c.node(0).ballot());
  EXPECT_EQ(std::get<SnapshotRecord>(records[2]), (SnapshotRecord{Slot{4}, to_bytes("state@4")}));
  EXPECT_EQ(std::get<AcceptRecord>(records[3]).first, Slot{5});
  EXPECT_EQ(std::get<ChosenRecord>(records[4]).through, Slot{5});
  EXPECT_EQ(c.node(0).log().snapshot_index(), Slot{4});
}

TEST(PaxosSnapshot, RecoveryFromASnapshotInstallsIt) {
  TestCluster c(3);
  c.elect(0);
  for (int i = 0; i < 3; ++i) c.commit(0, testing::numbered("c", i));
  c.snapshot(1);
  c.crash(1);
  c.isolate(1);
  c.start(1);
  EXPECT_EQ(c.node(1).log().snapshot_index(), Slot{3});
  EXPECT_EQ(c.applied(1), (std::vector<std::string>{"c0", "c1", "c2"}));
}

// A follower whose next slot the leader compacted gets the snapshot instead.
TEST(PaxosSnapshot, LaggingFollowerReceivesTheSnapshot) {
  TestCluster c(3);
  c.elect(0);
  c.isolate(2);
  for (int i = 0; i < 6; ++i) c.commit(0, testing::numbered("c", i));
  c.snapshot(0);
  c.heal();
  std::size_t snapshots = 0;
  for (int step = 0; step < 200; ++step) {
    c.advance(milliseconds(1));
    c.tick_due();
    while (!c.network().empty()) {
      const testing::Envelope e = c.network().front();
      c.network().pop_front();
      if (auto m = decode_message(e.payload); m && std::holds_alternative<SnapshotMessage>(*m)) {
        ++snapshots;
      }
      c.deliver(e);
    }
  }
  EXPECT_GE(snapshots, 1u);
  EXPECT_EQ(c.applied(2), c.applied(0));
  EXPECT_EQ(c.node(2).log().snapshot_index(), Slot{6});
}

// An acceptor that compacted slots a candidate lacks sends its snapshot with its promise, and the
// candidate installs it before finishing phase 1 — else it could propose a no-op where a value
// was chosen, since the compacting acceptor may be the only one of its quorum that saw it.
TEST(PaxosSnapshot, CandidateBehindACompactedAcceptorInstallsItsSnapshotFirst_P2c) {
  TestCluster c(3, plain_paxos());
  c.elect(0);
  c.isolate(2);
  for (int i = 0; i < 4; ++i) c.commit(0, testing::numbered("c", i));
  c.snapshot(1);
  c.crash(0);  // the only other holder of the chosen values is n1, which compacted them
  c.heal();
  c.network().clear();
  c.advance(seconds(1));
  c.node(2).tick(c.now());
  c.collect(2);
  c.deliver_all(2);  // n2's prepares (the one to n0 is lost)
  ASSERT_EQ(c.network().size(), 2u);  // n1's snapshot, then its promise
  ASSERT_TRUE(std::holds_alternative<SnapshotMessage>(testing::decoded(c.network()[0].payload)));
  const testing::Envelope snapshot = c.network()[0];
  c.network().pop_front();
  c.deliver_one();  // the promise overtakes the snapshot
  EXPECT_EQ(c.node(2).role(), PaxosRole::candidate);
  c.deliver(snapshot);
  c.run_for(milliseconds(20));
  ASSERT_EQ(c.node(2).role(), PaxosRole::leader);
  EXPECT_GE(c.node(2).commit_index(), Slot{4});
  c.commit(2, "after");
  EXPECT_EQ(c.applied(2), (std::vector<std::string>{"c0", "c1", "c2", "c3", "after"}));
  EXPECT_EQ(c.applied(1), c.applied(2));
}

}  // namespace
}  // namespace paxos_restart_snapshot_test
}  // namespace lockstep::paxos
