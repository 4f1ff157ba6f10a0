// Snapshots and determinism: random histories of meaningful commands (sessions opening, keeping
// alive and expiring, nodes, locks, elections, watches, leader changes, retries) keep every
// invariant; a snapshot restored into a fresh machine continues exactly as the original; two
// machines fed the same commands end byte-identical.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "service/lock/lock_codec.h"
#include "service/lock/lock_service.h"
#include "tests/service/lock/lock_test_support.h"

namespace lockstep::service::lock::testing {
namespace snapshot_test {
namespace {

// One abstract step; Driver turns it into a concrete command that is likely to do something.
struct Op {
  int kind = 0;
  int session = 0;
  int path = 0;
  bool flag = false;
  std::uint64_t number = 0;
};

constexpr int kOpKinds = 24;

rc::Gen<Op> gen_op() {
  return rc::gen::apply(
      [](int kind, int session, int path, bool flag, std::uint64_t number) {
        return Op{kind, session, path, flag, number};
      },
      rc::gen::inRange(0, kOpKinds), rc::gen::inRange(0, 6), rc::gen::inRange(0, 6),
      rc::gen::arbitrary<bool>(), rc::gen::inRange<std::uint64_t>(0, 50));
}

struct Step {
  std::uint64_t index = 0;
  Caller caller;
  Command command;
};

// Chooses concrete commands from abstract ops, tracking what a client and the leader would know
// (sessions, request numbers, lease indexes, lock-delays, terms) from the outcomes it is shown.
class Driver {
 public:
  Step next(const Op& op, const LockStateMachine& sm) {
    static const std::vector<std::string> kPaths = {p("/a"),    p("/a/b"), p("/c"),
                                                    p("/a/q-"), p(""),     "/ls/local/bad path"};
    const std::string& path = kPaths[static_cast<std::size_t>(op.path)];
    // Mostly a live session; now and then one that ended (or never was).
    const std::vector<SessionId>& pool = live_.empty() || op.number % 10 == 9 ? sessions_ : live_;
    const SessionId session =
        pool.empty() ? SessionId{1} : pool[static_cast<std::size_t>(op.session) % pool.size()];
    const LockMode mode = op.flag ? LockMode::shared : LockMode::exclusive;
    Step step;
    step.index = ++index_;
    auto client = [&](Command c) {
      const std::uint64_t request = ++requests_[session];
      step.caller = Caller{session, request, op.number % 3 == 0 && request > 2 ? request - 2 : 0};
      step.command = std::move(c);
      sent_.push_back(step);
    };
    auto leader = [&](Command c) {
      step.caller = Caller{SessionId{0}, 0, 0};
      step.command = std::move(c);
    };
    switch (op.kind) {
      case 0:
      case 20: {
        const std::uint64_t token = op.flag && tokens_ > 0 ? tokens_ : ++tokens_;
        step.caller = Caller{SessionId{kOpenTokenBit | token}, 1, 0};
        step.command = OpenSession{op.number % 7 == 0 ? Nanos{1} : seconds(1)};
        break;
      }
      case 1: client(KeepAlive{}); break;
      case 2: client(op.number % 4 == 0 ? Command{CloseSession{}} : Command{KeepAlive{}}); break;
      case 3:
        client(Create{path, to_bytes(std::string(op.number % 20, 'c')), op.flag, op.path == 3});
        break;
      case 4:
        client(Delete{path, op.flag ? std::optional<std::uint64_t>(op.number % 3) : std::nullopt});
        break;
      case 5: client(Get{path}); break;
      case 6:
        client(Set{path, to_bytes("v"),
                   op.flag ? std::optional<std::uint64_t>(op.number % 3) : std::nullopt});
        break;
      case 7: client(List{path}); break;
      case 8:
      case 21:
      case 22: client(Acquire{path, mode, op.number % 4 != 0}); break;
      case 9:
      case 23: client(Release{path}); break;
      case 10:
        client(CheckSequencer{Sequencer{path, mode, sm.revision().value - op.number % 4}});
        break;
      case 11: client(Campaign{path, to_bytes("me")}); break;
      case 12: client(Resign{path}); break;
      case 13: client(Observe{path}); break;
      case 14:
        client(Watch{op.number % 3, path, op.flag, op.number % 5 == 0 ? 0u : kWatchableKinds,
                     Revision{op.number % 2 == 0 ? 0 : sm.revision().value - op.number % 8}});
        break;
      case 15: client(Unwatch{op.number % 3}); break;
      case 16: leader(BeginLeadership{op.flag ? term_ : ++term_}); break;
      case 17: {
        if (op.number % 3 != 0) {  // most leases are kept alive
          client(KeepAlive{});
          break;
        }
        const std::uint64_t kept = leases_.contains(session) ? leases_[session] : 0;
        leader(ExpireSession{session, op.number % 5 == 0 ? kept + 1 : kept, term_});
        break;
      }
      case 18: {
        const Revision started = delays_.contains(path) ? delays_[path] : Revision{op.number};
        leader(EndLockDelay{path, started, op.number % 6 == 0 ? term_ + 1 : term_});
        break;
      }
      case 19:  // a retry of something sent before, as after a lost reply
        if (sent_.empty()) {
          client(KeepAlive{});
        } else {
          const Step& old = sent_[static_cast<std::size_t>(op.number) % sent_.size()];
          step.caller = old.caller;
          step.command = old.command;
        }
        break;
      default: LS_ASSERT_MSG(false, "an op kind without a command"); break;
    }
    return step;
  }

  void observe(const ApplyOutcome& outcome) {
    if (const auto* info = std::get_if<SessionInfo>(&outcome.result.value)) {
      if (std::find(sessions_.begin(), sessions_.end(), info->session) == sessions_.end()) {
        sessions_.push_back(info->session);
        live_.push_back(info->session);
      }
    }
    for (const LeaderTimer& t : outcome.timers) {
      if (const auto* e = std::get_if<LeaseEnded>(&t)) std::erase(live_, e->session);
      if (const auto* l = std::get_if<LeaseTimer>(&t)) leases_[l->session] = l->keepalive_index;
      if (const auto* d = std::get_if<LockDelayTimer>(&t)) delays_[d->path] = d->started;
    }
  }

 private:
  std::uint64_t index_ = 0;
  std::uint64_t tokens_ = 0;
  std::uint64_t term_ = 0;
  std::vector<SessionId> sessions_;  // every session opened
  std::vector<SessionId> live_;      // those not ended yet
  std::map<SessionId, std::uint64_t> requests_;
  std::map<SessionId, std::uint64_t> leases_;
  std::map<std::string, Revision> delays_;
  std::vector<Step> sent_;
};

LockConfig small_config() {
  LockConfig c = test_config();
  c.results_per_session_max = 6;
  c.waits_per_session_max = 3;
  c.watches_per_session_max = 2;
  c.event_history_max = 8;
  c.nodes_max = 6;
  c.sessions_max = 5;
  return c;
}

void run_ops(Driver& driver, const std::vector<Op>& ops, std::vector<LockStateMachine*> machines) {
  for (const Op& op : ops) {
    const Step step = driver.next(op, *machines[0]);
    std::optional<ApplyOutcome> first;
    for (LockStateMachine* sm : machines) {
      ApplyOutcome outcome = sm->apply(step.index, step.caller, step.command);
      const auto violations = sm->invariant_violations();
      RC_ASSERT(violations.empty());
      if (first) {
        RC_ASSERT(outcome == *first);
      } else {
        first = std::move(outcome);
      }
    }
    driver.observe(*first);
  }
}

RC_GTEST_PROP(LockSnapshot, RestoredMachineContinuesExactlyAsTheOriginal, ()) {
  const auto before = *rc::gen::container<std::vector<Op>>(gen_op());
  const auto after = *rc::gen::container<std::vector<Op>>(gen_op());
  Driver driver;
  LockStateMachine original(small_config());
  run_ops(driver, before, {&original});

  const Bytes snapshot = original.snapshot();
  LockStateMachine restored(small_config());
  RC_ASSERT(restored.restore(snapshot));
  RC_ASSERT(restored.snapshot() == snapshot);
  RC_ASSERT(restored.applied_index() == original.applied_index());

  run_ops(driver, after, {&original, &restored});
  RC_ASSERT(restored.snapshot() == original.snapshot());
}

RC_GTEST_PROP(LockSnapshot, MachinesFedTheSameCommandsEndIdentical, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
  Driver driver;
  LockStateMachine a(small_config());
  LockStateMachine b2(small_config());
  run_ops(driver, ops, {&a, &b2});
  RC_ASSERT(a.snapshot() == b2.snapshot());
}

RC_GTEST_PROP(LockSnapshot, NotificationsOffChangeNothingButTheNotifications, ()) {
  // A follower's server turns notifications off, and on again when it becomes leader: its state
  // machine must reach the same state, with the same results and leader timers, as one that
  // built every notification, and build the same ones while they are on.
  const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
  const auto wanted =
      *rc::gen::container<std::vector<bool>>(ops.size(), rc::gen::arbitrary<bool>());
  Driver driver;
  LockStateMachine all(small_config());
  LockStateMachine switched(small_config());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Step step = driver.next(ops[i], all);
    switched.set_notifications_wanted(wanted[i]);
    const ApplyOutcome expected = all.apply(step.index, step.caller, step.command);
    const ApplyOutcome got = switched.apply(step.index, step.caller, step.command);
    RC_ASSERT(got.result == expected.result);
    RC_ASSERT(got.timers == expected.timers);
    if (wanted[i]) {
      RC_ASSERT(got.notifications == expected.notifications);
    } else {
      RC_ASSERT(got.notifications.empty());
    }
    driver.observe(expected);
  }
  RC_ASSERT(switched.snapshot() == all.snapshot());
}

TEST(LockSnapshot, RandomHistoriesReachEveryCommandsInterestingOutcomes) {
  // The property tests above are only as good as the histories they explore: check that a batch
  // of them reaches grants from the queue, lock-delays, expiries, watch events and retries.
  std::set<Code> codes;
  std::size_t completions = 0;
  std::size_t fired = 0;
  std::size_t ended = 0;
  std::uint64_t seed = 12345;
  auto random = [&](int n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<int>((seed >> 33) % static_cast<std::uint64_t>(n));
  };
  for (int history = 0; history < 50; ++history) {
    Driver driver;
    LockStateMachine sm(small_config());
    for (int i = 0; i < 200; ++i) {
      const Op op{random(kOpKinds), random(6), random(6), random(2) == 1,
                  static_cast<std::uint64_t>(random(50))};
      const Step step = driver.next(op, sm);
      const ApplyOutcome out = sm.apply(step.index, step.caller, step.command);
      ASSERT_TRUE(sm.invariant_violations().empty()) << sm.invariant_violations().front();
      driver.observe(out);
      codes.insert(out.result.code);
      for (const Notification& n : out.notifications) {
        if (const auto* c = std::get_if<Completion>(&n.body)) {
          ++completions;
          codes.insert(c->result.code);
        }
        fired += std::holds_alternative<WatchFired>(n.body);
        ended += std::holds_alternative<SessionEnded>(n.body);
      }
    }
  }
  for (Code c : {Code::ok, Code::waiting, Code::cancelled, Code::lock_busy, Code::lock_delay,
                 Code::no_lock_delay, Code::lease_extended, Code::stale_leader, Code::already_held,
                 Code::not_held, Code::version_mismatch, Code::stale_request, Code::session_expired,
                 Code::limit_exceeded, Code::node_busy, Code::invalid_path}) {
    EXPECT_TRUE(codes.contains(c)) << to_string(c);
  }
  EXPECT_GT(completions, 0u);
  EXPECT_GT(fired, 0u);
  EXPECT_GT(ended, 0u);
}

TEST(LockSnapshot, EveryPartOfTheStateSurvivesARoundTrip) {
  // A state with something in every field a snapshot carries, built by hand so that none is left
  // to the luck of a random history.
  LockConfig c = small_config();
  c.event_history_max = 4;
  Harness h(c);
  h.begin_leadership(2);
  const SessionId a = h.open();
  const SessionId b2 = h.open(seconds(3));
  h.create_ok(a, p("/q"), "content");
  ASSERT_EQ(h.code(a, Create{p("/q/n"), {}, false, true}), Code::ok);       // next_sequence
  ASSERT_EQ(h.code(b2, Create{p("/e"), {}, true, false}), Code::ok);        // ephemeral
  ASSERT_EQ(h.code(a, Set{p("/q"), b("v2"), std::nullopt}), Code::ok);      // version
  ASSERT_EQ(h.run(a, Campaign{p("/q"), b("addr")}).result.code, Code::ok);  // holder with value
  ASSERT_EQ(h.code(b2, Campaign{p("/q"), b("b")}), Code::waiting);          // waiter with value
  h.acquire_ok(b2, p("/e"), LockMode::shared);
  h.create_ok(a, p("/d"));
  const SessionId doomed = h.open();
  h.acquire_ok(doomed, p("/d"));
  ASSERT_EQ(h.expire(doomed).result.code, Code::ok);  // lock-delay
  ASSERT_EQ(h.code(a, Watch{7, p("/q"), true, kWatchableKinds, {}}), Code::ok);
  ASSERT_EQ(h.code(b2, KeepAlive{}), Code::ok);
  h.apply(a, 50, Get{p("/q")}, /*acked_through=*/3);  // acknowledgements
  ASSERT_GT(h.sm.revision().value, 4u);               // the history has been compacted

  LockStateMachine copy(c);
  ASSERT_TRUE(copy.restore(h.sm.snapshot()));
  EXPECT_EQ(copy.snapshot(), h.sm.snapshot());
  // And it behaves the same: the same commands give the same outcomes on both.
  const std::vector<std::pair<Caller, Command>> script = {
      {{a, 60, 0}, Create{p("/q/n"), {}, false, true}},
      {{a, 61, 0}, Resign{p("/q")}},
      {{SessionId{0}, 0, 0}, BeginLeadership{3}},
      {{SessionId{0}, 0, 0}, ExpireSession{b2, h.lease_index[b2], 3}},
      {{SessionId{0}, 0, 0}, EndLockDelay{p("/d"), h.delay_started[p("/d")], 3}},
      {{a, 62, 0}, Watch{8, p("/q"), false, kWatchableKinds, Revision{1}}},
      {{a, 2, 0}, Create{p("/q"), {}}},
      {{a, 55, 0}, Create{p("/q"), {}}},
      {{SessionId{kOpenTokenBit | 1}, 1, 0}, OpenSession{seconds(1)}},
  };
  std::uint64_t index = h.index;
  for (const auto& [caller, command] : script) {
    ++index;
    EXPECT_EQ(copy.apply(index, caller, command), h.sm.apply(index, caller, command))
        << command_name(command);
  }
  EXPECT_EQ(copy.snapshot(), h.sm.snapshot());
}

TEST(LockSnapshot, RestoreRefusesInconsistentStateAndKeepsItsOwn) {
  Harness h;
  const SessionId s = h.open();
  h.create_ok(s, p("/a"));
  const Bytes good = h.sm.snapshot();

  LockStateMachine other(test_config());
  const Bytes empty = other.snapshot();
  // Truncated, and from another cell.
  EXPECT_FALSE(other.restore(ByteView(good).first(good.size() - 1)));
  LockConfig elsewhere = test_config();
  elsewhere.cell = "elsewhere";
  LockStateMachine foreign(elsewhere);
  EXPECT_FALSE(foreign.restore(good));
  EXPECT_EQ(other.snapshot(), empty);

  // Decodes, but a node names an owner session that does not exist.
  Harness ephemeral;
  const SessionId owner = ephemeral.open();
  ASSERT_EQ(ephemeral.code(owner, Create{p("/e"), {}, true, false}), Code::ok);
  Bytes dangling = ephemeral.sm.snapshot();
  // The ephemeral owner id is the only 8-byte field equal to the session id after the path "/e".
  const std::string marker = p("/e");
  const std::string as_text = lockstep::to_string(dangling);
  const std::size_t at = as_text.find(marker) + marker.size() + 4 + 8 * 4;  // content, 4 numbers
  ASSERT_EQ(static_cast<std::uint64_t>(dangling[at]), owner.value);
  dangling[at] = std::byte{99};
  EXPECT_FALSE(other.restore(dangling));
  EXPECT_EQ(other.snapshot(), empty);
  EXPECT_TRUE(other.restore(good));
  EXPECT_EQ(other.snapshot(), good);
}

TEST(LockService, RunsCommandsThroughTheStateMachineInterface) {
  LockService service(test_config());
  auto apply = [&](std::uint64_t client, std::uint64_t request, Command c) {
    const Bytes reply = service.apply(service.machine().applied_index() + 1,
                                      LoggedCommand{client, request, encode(RequestPayload{0, c})});
    return *decode_result(reply);
  };
  const Result opened = apply(kOpenTokenBit | 1, 1, OpenSession{seconds(5)});
  ASSERT_EQ(opened.code, Code::ok);
  const SessionId a = std::get<SessionInfo>(opened.value).session;
  const SessionId b2 =
      std::get<SessionInfo>(apply(kOpenTokenBit | 2, 1, OpenSession{seconds(5)}).value).session;
  ASSERT_EQ(apply(a.value, 1, Create{p("/l"), {}}).code, Code::ok);
  ASSERT_EQ(apply(a.value, 2, Acquire{p("/l"), LockMode::exclusive, true}).code, Code::ok);
  ASSERT_EQ(apply(b2.value, 1, Acquire{p("/l"), LockMode::exclusive, true}).code, Code::waiting);
  ASSERT_EQ(apply(a.value, 3, Release{p("/l")}).code, Code::ok);

  // Everything since the last take, in commit order, each under its own index (as a host that
  // applied these six commands in one step would find them).
  const std::vector<AppliedEffects> effects = service.take_effects();
  ASSERT_EQ(effects.size(), 3u);  // the two openings and the release
  EXPECT_EQ(effects[0].index, 1u);
  EXPECT_EQ(effects[0].timers, (std::vector<LeaderTimer>{LeaseTimer{a, 1, seconds(5)}}));
  EXPECT_EQ(effects[1].timers, (std::vector<LeaderTimer>{LeaseTimer{b2, 2, seconds(5)}}));
  EXPECT_EQ(effects[2].index, 6u);
  ASSERT_EQ(effects[2].notifications.size(), 1u);
  EXPECT_EQ(effects[2].notifications[0].target, b2);
  EXPECT_TRUE(std::holds_alternative<Completion>(effects[2].notifications[0].body));
  EXPECT_TRUE(service.take_effects().empty());

  // Reads as queries, and anything else refused as one.
  const auto observed = decode_result(service.query(encode_command(Observe{p("/l")})));
  ASSERT_TRUE(observed);
  EXPECT_EQ(std::get<Leader>(observed->value).session, b2);
  EXPECT_EQ(decode_result(service.query(encode_command(Create{p("/x"), {}})))->code,
            Code::bad_request);

  LockService copy(test_config());
  copy.restore(service.snapshot());
  EXPECT_EQ(copy.snapshot(), service.snapshot());
  EXPECT_EQ(decode_result(copy.query(encode_command(Get{p("/l")})))->code, Code::ok);
}

TEST(LockService, KeepsABoundedBacklogOfUntakenEffects) {
  LockService service(test_config());
  std::uint64_t index = 0;
  for (std::uint64_t token = 1; token <= kEffectsKeptMax + 3; ++token) {
    // Open-and-close: each apply leaves effects (a lease timer, then its end).
    const Bytes opened =
        service.apply(++index, LoggedCommand{kOpenTokenBit | token, 1,
                                             encode(RequestPayload{0, OpenSession{seconds(1)}})});
    const SessionId s = std::get<SessionInfo>(decode_result(opened)->value).session;
    service.apply(++index, LoggedCommand{s.value, 1, encode(RequestPayload{0, CloseSession{}})});
  }
  const std::vector<AppliedEffects> kept = service.take_effects();
  EXPECT_EQ(kept.size(), kEffectsKeptMax);
  EXPECT_EQ(service.effects_dropped(), 2 * (kEffectsKeptMax + 3) - kEffectsKeptMax);
  EXPECT_EQ(kept.back().index, index);  // the newest are the ones kept
}

}  // namespace
}  // namespace snapshot_test
}  // namespace lockstep::service::lock::testing
