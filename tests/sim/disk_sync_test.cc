// Syncs that take time (sim/disk.h, "Syncs take time"): what is durable when, and what a crash
// inside a sync window keeps. The file model itself is tested in disk_test.cc on a disk without a
// clock, where every sync completes at once.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/record_log.h"
#include "sim/disk.h"

namespace lockstep::sim {
namespace disk_sync_test {
namespace {

DiskConfig constant_sync(Nanos latency, bool torn_writes = false, double torn_corruption = 0.0) {
  DiskConfig config;
  config.sync_latency = LatencyDistribution{.kind = LatencyDistribution::Kind::constant,
                                            .value = latency};
  config.torn_writes = torn_writes;
  config.torn_corruption = torn_corruption;
  return config;
}

// A disk on a clock the test moves by hand.
struct TimedDisk {
  Nanos now = Nanos::zero();
  SimDisk disk;

  explicit TimedDisk(DiskConfig config, std::uint64_t latency_seed = 1)
      : disk(config, &now, Rng(latency_seed)) {}
  TimedDisk(const TimedDisk&) = delete;
  TimedDisk& operator=(const TimedDisk&) = delete;

  void append(std::string_view file, std::string_view text) { disk.append(file, to_bytes(text)); }
  std::string read(std::string_view file) const { return lockstep::to_string(disk.read(file)); }
  std::string read_durable(std::string_view file) {
    return lockstep::to_string(disk.read_durable(file));
  }
};

TEST(SimDiskSync, DataIsDurableOnlyWhenItsSyncCompletes) {
  TimedDisk t(constant_sync(milliseconds(1)));
  t.now = milliseconds(10);
  t.append("log", "abc");
  t.disk.sync("log");
  EXPECT_EQ(t.disk.sync_done_at(), milliseconds(11));
  EXPECT_EQ(t.read("log"), "abc");  // the node sees its write at once
  EXPECT_FALSE(t.disk.durably_exists("log"));
  t.now = milliseconds(11) - nanoseconds(1);
  EXPECT_EQ(t.read_durable("log"), "");
  t.now = milliseconds(11);
  EXPECT_TRUE(t.disk.durably_exists("log"));
  EXPECT_EQ(t.read_durable("log"), "abc");
}

TEST(SimDiskSync, CrashBeforeCompletionLosesWhatTheSyncCaptured) {
  TimedDisk t(constant_sync(milliseconds(1)));
  Rng rng(1);
  t.append("log", "durable;");
  t.disk.sync("log");
  t.now = milliseconds(5);
  t.append("log", "in flight;");
  t.disk.sync("log");
  t.append("log", "never synced;");
  t.now = milliseconds(6) - nanoseconds(1);
  const CrashLoss loss = t.disk.crash(rng);
  EXPECT_EQ(t.read("log"), "durable;");
  EXPECT_EQ(loss.syncs_cut, 1u);
  EXPECT_EQ(loss.in_flight_bytes, 10u);
  EXPECT_EQ(loss.unsynced_bytes, 23u);
  EXPECT_EQ(loss.bytes_lost(), 23u);
  EXPECT_EQ(t.disk.stats().syncs_cut, 1u);
  // The disk forgets the sync it never finished: nothing is in flight any more.
  EXPECT_LE(t.disk.sync_done_at(), t.now);
}

TEST(SimDiskSync, CrashAtOrAfterCompletionKeepsTheData) {
  for (const Nanos crash_at : {milliseconds(6), milliseconds(9)}) {
    TimedDisk t(constant_sync(milliseconds(1)));
    Rng rng(1);
    t.now = milliseconds(5);
    t.append("log", "synced;");
    t.disk.sync("log");
    t.append("log", "never synced;");
    t.now = crash_at;
    const CrashLoss loss = t.disk.crash(rng);
    EXPECT_EQ(t.read("log"), "synced;");
    EXPECT_EQ(loss.syncs_cut, 0u);
    EXPECT_EQ(loss.unsynced_bytes, 13u);
  }
}

TEST(SimDiskSync, CrashInsideASyncCanTearWhatItCaptured) {
  const std::string durable = "durable|";
  const std::string in_flight = "bytes a sync had captured when the power went";
  const std::string tail = "|and some never synced";
  std::uint64_t torn_inside_the_sync = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    TimedDisk t(constant_sync(milliseconds(1), /*torn_writes=*/true));
    Rng rng(seed);
    t.append("log", durable);
    t.disk.sync("log");
    t.now = milliseconds(2);
    t.append("log", in_flight);
    t.disk.sync("log");
    t.append("log", tail);
    t.now = milliseconds(2) + microseconds(500);
    const CrashLoss loss = t.disk.crash(rng);
    const std::string after = t.read("log");
    ASSERT_GE(after.size(), durable.size());
    ASSERT_EQ(after, (durable + in_flight + tail).substr(0, after.size()));
    ASSERT_EQ(loss.torn_bytes_kept, after.size() - durable.size());
    if (after.size() < durable.size() + in_flight.size()) ++torn_inside_the_sync;
  }
  // A sync cut short is no more durable than a write never synced: a crash can tear it.
  EXPECT_GT(torn_inside_the_sync, 100u);
}

TEST(SimDiskSync, ConsecutiveSyncsCompleteInIssueOrder) {
  TimedDisk t(constant_sync(milliseconds(5)));
  Rng rng(1);
  t.append("a", "first");
  t.disk.sync("a");  // done at 5ms
  t.now = milliseconds(1);
  t.append("b", "second");
  t.disk.sync("b");  // queued behind the first: done at 10ms, not 6ms
  EXPECT_EQ(t.disk.sync_done_at(), milliseconds(10));
  t.now = milliseconds(7);
  t.disk.crash(rng);
  EXPECT_EQ(t.read("a"), "first");
  EXPECT_FALSE(t.disk.exists("b"));
}

TEST(SimDiskSync, CompletionTimesNeverDecreaseWhateverTheLatenciesDrawn) {
  DiskConfig config;
  config.sync_latency = LatencyDistribution{.kind = LatencyDistribution::Kind::uniform,
                                            .min = Nanos::zero(), .max = milliseconds(10)};
  TimedDisk t(config);
  std::vector<Nanos> done;
  for (int i = 0; i < 200; ++i) {
    t.now = microseconds(100) * i;
    t.append("log", "x");
    t.disk.sync("log");
    done.push_back(t.disk.sync_done_at());
    ASSERT_GE(done.back(), t.now);
  }
  EXPECT_TRUE(std::is_sorted(done.begin(), done.end()));
}

TEST(SimDiskSync, LatenciesAreDrawnFromTheConfiguredDistribution) {
  DiskConfig config;  // the default: uniform in [100us, 1ms]
  TimedDisk t(config);
  std::vector<Nanos> latencies;
  for (int i = 0; i < 100; ++i) {
    t.now = milliseconds(10) * i;  // far apart: no sync waits for another
    t.disk.sync("log");
    latencies.push_back(t.disk.sync_done_at() - t.now);
  }
  for (const Nanos l : latencies) {
    EXPECT_GE(l, microseconds(100));
    EXPECT_LE(l, milliseconds(1));
  }
  EXPECT_GT(std::count_if(latencies.begin(), latencies.end(),
                          [&](Nanos l) { return l != latencies.front(); }),
            90);
}

TEST(SimDiskSync, SameSeedSameLatencies) {
  const auto latencies = [](std::uint64_t seed) {
    TimedDisk t(DiskConfig{}, seed);
    std::vector<Nanos> out;
    for (int i = 0; i < 20; ++i) {
      t.now = milliseconds(10) * i;
      t.disk.sync("log");
      out.push_back(t.disk.sync_done_at());
    }
    return out;
  };
  EXPECT_EQ(latencies(7), latencies(7));
  EXPECT_NE(latencies(7), latencies(8));
}

// rename(tmp, snap) + sync(snap) is atomic as before, but only from the sync's completion on.
TEST(SimDiskSync, RenameIsDurableWhenItsSyncCompletes) {
  const auto after_crash_at = [](Nanos crash_at) {
    TimedDisk t(constant_sync(milliseconds(1)));
    Rng rng(1);
    t.append("snap", "old");
    t.disk.sync("snap");
    t.now = milliseconds(10);
    t.append("snap.tmp", "new");
    t.disk.sync("snap.tmp");  // done at 11ms: data and the create of snap.tmp
    t.disk.rename("snap.tmp", "snap");
    t.disk.sync("snap");  // done at 12ms: the rename
    t.now = crash_at;
    t.disk.crash(rng);
    std::string files;
    for (const std::string& name : t.disk.list()) files += name + "=" + t.read(name) + ";";
    return files;
  };
  EXPECT_EQ(after_crash_at(milliseconds(10) + microseconds(500)), "snap=old;");
  EXPECT_EQ(after_crash_at(milliseconds(11) + microseconds(500)), "snap=old;snap.tmp=new;");
  EXPECT_EQ(after_crash_at(milliseconds(12)), "snap=new;");
}

TEST(SimDiskSync, ATruncateInFlightSparesTheFileFromTearing) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    TimedDisk t(constant_sync(milliseconds(1), /*torn_writes=*/true, /*torn_corruption=*/1.0));
    Rng rng(seed);
    t.append("log", "0123456789");
    t.disk.sync("log");
    t.now = milliseconds(5);
    t.disk.truncate("log", 5);
    t.append("log", "abcdef");
    t.disk.sync("log");
    t.append("log", "ghi");
    t.disk.crash(rng);
    ASSERT_EQ(t.read("log"), "0123456789");
  }
}

// Records are appended and some synced, at growing times, with random sync latencies; the disk
// crashes at a random time. Without torn writes exactly the records of the syncs completed by
// then survive; with them, recovery still yields a prefix holding every one of those.
RC_GTEST_PROP(SimDiskSync, RecoveryKeepsExactlyWhatCompletedSyncsCaptured, ()) {
  const auto count = *rc::gen::inRange<std::size_t>(1, 40);
  const bool torn = *rc::gen::arbitrary<bool>();
  DiskConfig config;
  config.torn_writes = torn;
  config.torn_corruption = torn ? 0.5 : 0.0;
  config.sync_latency = LatencyDistribution{.kind = LatencyDistribution::Kind::uniform,
                                            .min = Nanos::zero(), .max = milliseconds(3)};
  TimedDisk t(config, *rc::gen::arbitrary<std::uint64_t>());
  // (when a sync completes, how many records it captured)
  std::vector<std::pair<Nanos, std::size_t>> completions;
  for (std::size_t i = 0; i < count; ++i) {
    t.now += Nanos{*rc::gen::inRange<std::int64_t>(0, 2'000'000)};
    append_record(t.disk, "log", to_bytes(std::to_string(i)));
    if (*rc::gen::arbitrary<bool>()) {
      t.disk.sync("log");
      completions.emplace_back(t.disk.sync_done_at(), i + 1);
    }
  }
  t.now += Nanos{*rc::gen::inRange<std::int64_t>(0, 4'000'000)};
  std::size_t durable = 0;
  for (const auto& [done_at, records] : completions) {
    if (done_at <= t.now) durable = std::max(durable, records);
  }
  Rng rng(*rc::gen::arbitrary<std::uint64_t>());
  t.disk.crash(rng);
  const Recovered got = recover_records(t.disk, "log");
  RC_ASSERT(got.records.size() >= durable);
  RC_ASSERT(got.records.size() <= count);
  for (std::size_t i = 0; i < got.records.size(); ++i) {
    RC_ASSERT(lockstep::to_string(got.records[i]) == std::to_string(i));
  }
  if (!torn) {
    RC_ASSERT(got.records.size() == durable);
    RC_ASSERT(got.clean());
  }
}

}  // namespace
}  // namespace disk_sync_test
}  // namespace lockstep::sim
