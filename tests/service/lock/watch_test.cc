// Watches and events (etcd's watch API, Chubby §2.5): every change gets the next revision; a
// watch receives matching events in commit order with a chain of revisions that exposes gaps;
// it can resume from a revision or is told to resync.
#include <gtest/gtest.h>

#include "tests/service/lock/lock_test_support.h"

namespace lockstep::service::lock::testing {
namespace watch_test {
namespace {

std::vector<EventKind> kinds_of(const std::vector<WatchFired>& fired) {
  std::vector<EventKind> out;
  for (const WatchFired& f : fired) out.push_back(f.event.kind);
  return out;
}

class LockWatch : public ::testing::Test {
 protected:
  void SetUp() override {
    s = h.open();
    watcher = h.open();
  }
  // Applies and collects what `watcher` received.
  std::vector<WatchFired> run_seen(SessionId by, Command c) {
    h.run(by, std::move(c));
    return h.fired(watcher);
  }
  Harness h;
  SessionId s;
  SessionId watcher;
};

TEST_F(LockWatch, NodeEventsArriveInCommitOrderWithARevisionChain) {
  const Result registered = h.run(watcher, Watch{1, p("/a"), false, kWatchableKinds, {}}).result;
  ASSERT_EQ(registered.code, Code::ok);
  std::vector<WatchFired> all;
  for (Command c : std::vector<Command>{Create{p("/a"), b("1")}, Set{p("/a"), b("2"), std::nullopt},
                                        Create{p("/b"), {}}, Set{p("/a"), b("3"), std::nullopt},
                                        Delete{p("/a"), std::nullopt}}) {
    for (const WatchFired& f : run_seen(s, std::move(c))) all.push_back(f);
  }
  EXPECT_EQ(kinds_of(all),
            (std::vector<EventKind>{EventKind::node_created, EventKind::node_changed,
                                    EventKind::node_changed, EventKind::node_deleted}));
  Revision previous = registered.revision;
  for (const WatchFired& f : all) {
    EXPECT_EQ(f.watch_id, 1u);
    EXPECT_EQ(f.prev_revision, previous);  // a client seeing anything else knows it lost events
    EXPECT_GT(f.event.revision, previous);
    previous = f.event.revision;
  }
  EXPECT_EQ(all[2].event.version, 2u);
}

TEST_F(LockWatch, ParentWatchSeesChildrenChanged) {
  h.create_ok(s, p("/dir"));
  ASSERT_EQ(h.code(watcher, Watch{1, p("/dir"), false, watch_bit(EventKind::children_changed), {}}),
            Code::ok);
  const auto fired = run_seen(s, Create{p("/dir/x"), {}});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].event.kind, EventKind::children_changed);
  EXPECT_EQ(fired[0].event.path, p("/dir"));
  EXPECT_EQ(fired[0].event.version, 1u);
}

TEST_F(LockWatch, OnlyARecursiveWatchSeesTheSubtree) {
  h.create_ok(s, p("/dir"));
  ASSERT_EQ(h.code(watcher, Watch{1, p("/dir"), false, watch_bit(EventKind::node_created), {}}),
            Code::ok);
  ASSERT_EQ(h.code(watcher, Watch{2, p("/dir"), true, watch_bit(EventKind::node_created), {}}),
            Code::ok);
  h.create_ok(s, p("/dir/x"));
  const auto fired = run_seen(s, Create{p("/dir/x/y"), {}});
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].watch_id, 2u);
  EXPECT_EQ(fired[0].event.path, p("/dir/x/y"));
  EXPECT_TRUE(run_seen(s, Create{p("/dirt"), {}}).empty());  // a sibling with a common prefix
}

TEST_F(LockWatch, KindsSelectWhatIsDelivered) {
  h.create_ok(s, p("/a"));
  ASSERT_EQ(h.code(watcher, Watch{1, p("/a"), false, watch_bit(EventKind::node_deleted), {}}),
            Code::ok);
  EXPECT_TRUE(run_seen(s, Set{p("/a"), b("x"), std::nullopt}).empty());
  EXPECT_EQ(kinds_of(run_seen(s, Delete{p("/a"), std::nullopt})),
            (std::vector<EventKind>{EventKind::node_deleted}));
}

TEST_F(LockWatch, LockEventsNameHolderGenerationAndCause) {
  h.begin_leadership(1);
  h.create_ok(s, p("/l"));
  ASSERT_EQ(h.code(watcher, Watch{1, p("/l"), false, kWatchableKinds, {}}), Code::ok);
  const Sequencer seq = h.acquire_ok(s, p("/l"), LockMode::shared);
  ASSERT_EQ(h.fired(watcher).size(), 1u);
  const Event acquired = h.fired(watcher)[0].event;
  EXPECT_EQ(acquired.kind, EventKind::lock_acquired);
  EXPECT_EQ(acquired.session, s);
  EXPECT_EQ(acquired.mode, LockMode::shared);
  EXPECT_EQ(acquired.generation, seq.generation);
  h.expire(s);
  ASSERT_EQ(h.fired(watcher).size(), 1u);
  EXPECT_EQ(h.fired(watcher)[0].event.kind, EventKind::lock_released);
  EXPECT_EQ(h.fired(watcher)[0].event.cause, Cause::session_expired);
  EXPECT_EQ(h.fired(watcher)[0].event.generation, seq.generation);
}

TEST_F(LockWatch, ResumingFromARevisionReplaysWhatWasMissed) {
  h.create_ok(s, p("/a"));
  const Revision seen_through = h.sm.revision();
  h.run(s, Set{p("/a"), b("x"), std::nullopt});
  h.create_ok(s, p("/other"));
  h.run(s, Set{p("/a"), b("y"), std::nullopt});
  // A client that saw everything through `seen_through` reconnects to a new leader.
  const Result resumed =
      h.run(watcher, Watch{1, p("/a"), false, kWatchableKinds, Revision{seen_through.value + 1}})
          .result;
  ASSERT_EQ(resumed.code, Code::ok);
  const auto& replay = std::get<WatchStarted>(resumed.value).replay;
  ASSERT_EQ(replay.size(), 2u);
  EXPECT_EQ(replay[0].version, 1u);
  EXPECT_EQ(replay[1].version, 2u);
  EXPECT_LT(replay[0].revision, replay[1].revision);
  // Live events continue from the registration's revision, without a gap or a double.
  const auto live = run_seen(s, Set{p("/a"), b("z"), std::nullopt});
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].prev_revision, resumed.revision);
}

TEST_F(LockWatch, ResumingFromBeyondTheHistoryIsAResync) {
  LockConfig c = test_config();
  c.event_history_max = 3;
  Harness small(c);
  const SessionId w = small.open();
  small.create_ok(w, p("/a"));  // two events: created, children_changed
  const Revision early{small.sm.revision().value};
  for (int i = 0; i < 3; ++i) small.run(w, Set{p("/a"), b("x"), std::nullopt});
  EXPECT_EQ(small.sm.history_size(), 3u);
  const Result r = small.run(w, Watch{1, p("/a"), false, kWatchableKinds, early}).result;
  ASSERT_EQ(r.code, Code::ok);
  const auto& replay = std::get<WatchStarted>(r.value).replay;
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(replay[0].kind, EventKind::resync);
  EXPECT_EQ(replay[0].revision, small.sm.revision());
  // From a revision still kept, the replay is exact.
  const Result kept = small
                          .run(w, Watch{1, p("/a"), false, kWatchableKinds,
                                        Revision{small.sm.revision().value - 2}})
                          .result;
  EXPECT_EQ(std::get<WatchStarted>(kept.value).replay.size(), 3u);
}

TEST_F(LockWatch, WatchingAgainReplacesTheWatch) {
  ASSERT_EQ(h.code(watcher, Watch{1, p("/a"), false, kWatchableKinds, {}}), Code::ok);
  ASSERT_EQ(h.code(watcher, Watch{1, p("/b"), false, kWatchableKinds, {}}), Code::ok);
  EXPECT_TRUE(run_seen(s, Create{p("/a"), {}}).empty());
  EXPECT_EQ(run_seen(s, Create{p("/b"), {}}).size(), 1u);
}

TEST_F(LockWatch, BadWatchArgumentsAreRejected) {
  EXPECT_EQ(h.code(watcher, Watch{1, p("/a"), false, 0, {}}), Code::invalid_argument);
  EXPECT_EQ(h.code(watcher, Watch{1, p("/a"), false, watch_bit(EventKind::resync), {}}),
            Code::invalid_argument);
  EXPECT_EQ(h.code(watcher, Watch{1, p("/a"), false, 1u << 31, {}}), Code::invalid_argument);
  EXPECT_EQ(h.code(watcher, Unwatch{1}), Code::no_watch);
}

TEST_F(LockWatch, UnwatchStopsDelivery) {
  ASSERT_EQ(h.code(watcher, Watch{1, p("/a"), false, kWatchableKinds, {}}), Code::ok);
  ASSERT_EQ(h.code(watcher, Unwatch{1}), Code::ok);
  EXPECT_TRUE(run_seen(s, Create{p("/a"), {}}).empty());
  EXPECT_EQ(h.code(watcher, Unwatch{1}), Code::no_watch);
}

TEST_F(LockWatch, WatchesPerSessionAreBounded) {
  LockConfig c = test_config();
  c.watches_per_session_max = 2;
  Harness small(c);
  const SessionId w = small.open();
  EXPECT_EQ(small.code(w, Watch{1, p("/a"), false, kWatchableKinds, {}}), Code::ok);
  EXPECT_EQ(small.code(w, Watch{2, p("/a"), false, kWatchableKinds, {}}), Code::ok);
  EXPECT_EQ(small.code(w, Watch{3, p("/a"), false, kWatchableKinds, {}}), Code::limit_exceeded);
  EXPECT_EQ(small.code(w, Watch{2, p("/b"), false, kWatchableKinds, {}}), Code::ok);  // replaces
}

TEST_F(LockWatch, WatchesEndWithTheirSession) {
  ASSERT_EQ(h.code(watcher, Watch{1, p("/a"), false, kWatchableKinds, {}}), Code::ok);
  ASSERT_EQ(h.code(watcher, CloseSession{}), Code::ok);
  EXPECT_TRUE(run_seen(s, Create{p("/a"), {}}).empty());
}

}  // namespace
}  // namespace watch_test
}  // namespace lockstep::service::lock::testing
