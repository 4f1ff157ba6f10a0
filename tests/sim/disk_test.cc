#include "sim/disk.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <bit>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lockstep::sim {
namespace disk_test {
namespace {

std::string read_str(const SimDisk& disk, std::string_view file) {
  return lockstep::to_string(disk.read(file));
}

void append_str(SimDisk& disk, std::string_view file, std::string_view text) {
  disk.append(file, to_bytes(text));
}

std::uint64_t bits_differing(const Bytes& a, const Bytes& b) {
  EXPECT_EQ(a.size(), b.size());
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    bits += static_cast<std::uint64_t>(std::popcount(static_cast<unsigned>(a[i] ^ b[i])));
  }
  return bits;
}

TEST(Disk, ReadsSeeUnsyncedWrites) {
  SimDisk disk;
  EXPECT_FALSE(disk.exists("log"));
  EXPECT_EQ(disk.size("log"), 0u);
  EXPECT_TRUE(disk.read("log").empty());
  append_str(disk, "log", "abc");
  append_str(disk, "log", "de");
  EXPECT_TRUE(disk.exists("log"));
  EXPECT_EQ(disk.size("log"), 5u);
  EXPECT_EQ(read_str(disk, "log"), "abcde");
  EXPECT_FALSE(disk.durably_exists("log"));
}

TEST(Disk, CrashLosesExactlyTheUnsyncedWrites) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "log", "synced-1;");
  append_str(disk, "log", "synced-2;");
  disk.sync("log");
  append_str(disk, "log", "lost-1;");
  append_str(disk, "other", "lost-2;");
  disk.crash(rng);
  EXPECT_EQ(read_str(disk, "log"), "synced-1;synced-2;");
  EXPECT_FALSE(disk.exists("other"));
  // The disk keeps working after the crash.
  append_str(disk, "log", "again;");
  disk.sync("log");
  disk.crash(rng);
  EXPECT_EQ(read_str(disk, "log"), "synced-1;synced-2;again;");
}

TEST(Disk, SyncOfOneFileLeavesAnotherFilesDataVolatile) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "a", "a1");
  append_str(disk, "b", "b1");
  disk.sync("a");
  disk.sync("b");
  append_str(disk, "a", "a2");
  append_str(disk, "b", "b2");
  disk.sync("b");
  disk.crash(rng);
  EXPECT_EQ(read_str(disk, "a"), "a1");
  EXPECT_EQ(read_str(disk, "b"), "b1b2");
}

TEST(Disk, TruncateIsVolatileUntilSynced) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "log", "0123456789");
  disk.sync("log");
  disk.truncate("log", 4);
  append_str(disk, "log", "xy");
  EXPECT_EQ(read_str(disk, "log"), "0123xy");
  disk.crash(rng);
  EXPECT_EQ(read_str(disk, "log"), "0123456789");

  disk.truncate("log", 4);
  append_str(disk, "log", "xyz");
  disk.truncate("log", 6);    // cuts into the pending tail only
  disk.truncate("log", 100);  // longer than the file: no-op
  EXPECT_EQ(read_str(disk, "log"), "0123xy");
  disk.sync("log");
  disk.crash(rng);
  EXPECT_EQ(read_str(disk, "log"), "0123xy");
}

TEST(Disk, RemoveIsVolatileUntilSynced) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "old", "data");
  disk.sync("old");
  disk.remove("old");
  disk.remove("never-existed");
  EXPECT_FALSE(disk.exists("old"));
  disk.crash(rng);
  EXPECT_EQ(read_str(disk, "old"), "data");
  disk.remove("old");
  disk.sync("old");
  disk.crash(rng);
  EXPECT_FALSE(disk.exists("old"));
  EXPECT_TRUE(disk.list().empty());
}

TEST(Disk, RenameIsAtomicAndCommittedBySyncOfTheDestination) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "snap", "old snapshot");
  disk.sync("snap");
  append_str(disk, "snap.tmp", "new snapshot");
  disk.sync("snap.tmp");
  disk.rename("snap.tmp", "snap");
  EXPECT_EQ(disk.list(), std::vector<std::string>{"snap"});
  EXPECT_EQ(read_str(disk, "snap"), "new snapshot");

  SimDisk before_sync = disk;
  before_sync.crash(rng);
  EXPECT_EQ(read_str(before_sync, "snap"), "old snapshot");
  EXPECT_EQ(read_str(before_sync, "snap.tmp"), "new snapshot");

  disk.sync("snap");
  disk.crash(rng);
  EXPECT_EQ(disk.list(), std::vector<std::string>{"snap"});
  EXPECT_EQ(read_str(disk, "snap"), "new snapshot");
}

TEST(Disk, SyncOfTheRenameSourceCommitsTheRenameButNoData) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "a", "durable;");
  disk.sync("a");
  append_str(disk, "a", "volatile;");
  disk.rename("a", "b");
  disk.sync("a");
  disk.crash(rng);
  EXPECT_EQ(disk.list(), std::vector<std::string>{"b"});
  EXPECT_EQ(read_str(disk, "b"), "durable;");
}

TEST(Disk, FileRecreatedUnderARenamedNameIsNotDurable) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "a", "first");
  disk.sync("a");
  disk.rename("a", "b");
  append_str(disk, "a", "second");
  disk.sync("b");
  disk.crash(rng);
  EXPECT_EQ(disk.list(), std::vector<std::string>{"b"});
  EXPECT_EQ(read_str(disk, "b"), "first");
}

TEST(Disk, ChainedRenamesCommitInOrder) {
  SimDisk disk;
  Rng rng(1);
  for (const char* name : {"a", "b", "c"}) {
    append_str(disk, name, name);
    disk.sync(name);
  }
  disk.rename("a", "b");
  disk.rename("b", "c");
  disk.sync("c");
  disk.crash(rng);
  EXPECT_EQ(disk.list(), std::vector<std::string>{"c"});
  EXPECT_EQ(read_str(disk, "c"), "a");
}

TEST(Disk, CommittingTheJournalAlsoCommitsEarlierCreatesButNotTheirData) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "log", "never synced");
  append_str(disk, "meta", "synced");
  disk.sync("meta");
  disk.crash(rng);
  EXPECT_EQ(disk.list(), (std::vector<std::string>{"log", "meta"}));
  EXPECT_EQ(disk.size("log"), 0u);
  EXPECT_EQ(read_str(disk, "meta"), "synced");
}

TEST(Disk, ListIsInNameOrder) {
  SimDisk disk;
  for (const char* name : {"zeta", "alpha", "log.10", "log.2", "Beta"}) append_str(disk, name, "x");
  EXPECT_EQ(disk.list(), (std::vector<std::string>{"Beta", "alpha", "log.10", "log.2", "zeta"}));
}

TEST(Disk, TornWriteKeepsOnlyAPrefixOfTheUnsyncedBytes) {
  const std::string synced = "synced part|";
  const std::string unsynced = "unsynced bytes that may be torn anywhere";
  std::uint64_t partial = 0;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    SimDisk disk(DiskConfig{.torn_writes = true});
    Rng rng(seed);
    append_str(disk, "log", synced);
    disk.sync("log");
    append_str(disk, "log", unsynced);
    disk.crash(rng);
    const std::string after = read_str(disk, "log");
    ASSERT_GE(after.size(), synced.size());
    ASSERT_EQ(after, (synced + unsynced).substr(0, after.size()));
    if (after.size() > synced.size() && after.size() < synced.size() + unsynced.size()) ++partial;
  }
  EXPECT_GT(partial, 150u);
}

TEST(Disk, TornWriteSparesFilesWithAPendingTruncateOrNoDurableName) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    SimDisk disk(DiskConfig{.torn_writes = true, .torn_corruption = 1.0});
    Rng rng(seed);
    append_str(disk, "log", "0123456789");
    disk.sync("log");
    disk.truncate("log", 5);
    append_str(disk, "log", "abcdef");
    append_str(disk, "fresh", "never named durably");
    disk.crash(rng);
    ASSERT_EQ(read_str(disk, "log"), "0123456789");
    ASSERT_FALSE(disk.exists("fresh"));
  }
}

TEST(Disk, TornCorruptionFlipsExactlyOneBitOfTheTornPart) {
  const Bytes synced = to_bytes("synced part|");
  const Bytes unsynced = to_bytes("unsynced bytes that may be torn and flipped");
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    SimDisk disk(DiskConfig{.torn_writes = true, .torn_corruption = 1.0});
    Rng rng(seed);
    disk.append("log", synced);
    disk.sync("log");
    disk.append("log", unsynced);
    disk.crash(rng);
    const Bytes after = disk.read("log");
    ASSERT_GE(after.size(), synced.size());
    const Bytes kept(after.begin() + static_cast<std::ptrdiff_t>(synced.size()), after.end());
    const Bytes expected(unsynced.begin(),
                         unsynced.begin() + static_cast<std::ptrdiff_t>(kept.size()));
    ASSERT_EQ(Bytes(after.begin(), after.begin() + static_cast<std::ptrdiff_t>(synced.size())),
              synced);
    ASSERT_EQ(bits_differing(kept, expected), kept.empty() ? 0u : 1u);
  }
}

TEST(Disk, CorruptBitFlipsExactlyOneDurableBit) {
  SimDisk disk;
  Rng rng(7);
  EXPECT_EQ(disk.corrupt_bit(rng, "missing"), std::nullopt);
  append_str(disk, "log", "durable");
  EXPECT_EQ(disk.corrupt_bit(rng, "log"), std::nullopt);  // nothing durable yet
  disk.sync("log");
  append_str(disk, "log", "+pending");
  const Bytes before = disk.read_durable("log");
  const auto bit = disk.corrupt_bit(rng, "log");
  ASSERT_TRUE(bit.has_value());
  EXPECT_LT(*bit, before.size() * 8);
  EXPECT_EQ(bits_differing(disk.read_durable("log"), before), 1u);
  EXPECT_EQ(bits_differing(disk.read("log"), to_bytes("durable+pending")), 1u);
  EXPECT_EQ(disk.stats().bits_flipped, 1u);
}

TEST(Disk, CrashesWithTheSameSeedLeaveTheSameDisk) {
  const auto run = [](std::uint64_t seed) {
    SimDisk disk(DiskConfig{.torn_writes = true, .torn_corruption = 0.5});
    Rng rng(seed);
    for (const char* name : {"c", "a", "b"}) {
      append_str(disk, name, "synced;");
      disk.sync(name);
      append_str(disk, name, "a long unsynced tail for each file");
    }
    disk.crash(rng);
    std::string all;
    for (const auto& name : disk.list()) all += name + "=" + read_str(disk, name) + "\n";
    return all;
  };
  EXPECT_EQ(run(42), run(42));
  EXPECT_NE(run(42), run(43));
}

TEST(Disk, StatsCountWritesSyncsAndCrashes) {
  SimDisk disk;
  Rng rng(1);
  append_str(disk, "a", "12345");
  disk.sync("a");
  append_str(disk, "a", "678");
  disk.sync("a");
  disk.sync("a");
  append_str(disk, "a", "lost");
  disk.crash(rng);
  EXPECT_EQ(disk.stats().bytes_written, 12u);
  EXPECT_EQ(disk.stats().bytes_synced, 8u);
  EXPECT_EQ(disk.stats().syncs, 3u);
  EXPECT_EQ(disk.stats().crashes, 1u);
  EXPECT_EQ(disk.stored_bytes(), 8u);
}

TEST(Disk, StoredBytesCountDurableAndPendingBytesOfLiveFiles) {
  SimDisk disk;
  append_str(disk, "a", "1234");
  EXPECT_EQ(disk.stored_bytes(), 4u);
  disk.sync("a");
  disk.truncate("a", 1);  // the durable image still holds 4 bytes until synced
  append_str(disk, "a", "xy");
  EXPECT_EQ(disk.stored_bytes(), 6u);
  disk.sync("a");
  EXPECT_EQ(disk.stored_bytes(), 3u);
  disk.remove("a");
  EXPECT_EQ(disk.stored_bytes(), 3u);  // still durably named
  disk.sync("a");
  EXPECT_EQ(disk.stored_bytes(), 0u);
}

TEST(DiskDeathTest, WritingPastCapacityIsAnAssertion) {
  SimDisk disk(DiskConfig{.capacity_bytes = 8});
  append_str(disk, "a", "12345678");
  EXPECT_DEATH(append_str(disk, "a", "9"), "capacity_bytes");
}

// Random operations against a plain map of strings: what reads see is the obvious model, and a
// crash after syncing every name loses nothing.
RC_GTEST_PROP(Disk, ReadsFollowTheObviousModel, ()) {
  SimDisk disk;
  std::map<std::string, std::string> model;
  const auto names = std::vector<std::string>{"a", "b", "c"};
  const auto ops = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 6));
  for (int op : ops) {
    const std::string name = *rc::gen::elementOf(names);
    switch (op) {
      case 0: {
        const auto text = *rc::gen::container<std::string>(rc::gen::inRange('a', 'z'));
        append_str(disk, name, text);
        model[name] += text;
        break;
      }
      case 1: {
        const auto length = *rc::gen::inRange<std::uint64_t>(0, 20);
        disk.truncate(name, length);
        if (model.contains(name) && model[name].size() > length) model[name].resize(length);
        break;
      }
      case 2: {
        const std::string to = *rc::gen::elementOf(names);
        if (!model.contains(name)) break;
        disk.rename(name, to);
        const std::string moved = model[name];
        model.erase(name);
        model[to] = moved;
        break;
      }
      case 3:
        disk.remove(name);
        model.erase(name);
        break;
      default:
        disk.sync(name);
        break;
    }
    std::vector<std::string> listed;
    for (const auto& [file, text] : model) listed.push_back(file);
    RC_ASSERT(disk.list() == listed);
    for (const auto& [file, text] : model) RC_ASSERT(read_str(disk, file) == text);
  }
  for (const auto& name : names) disk.sync(name);
  Rng rng(1);
  disk.crash(rng);
  RC_ASSERT(disk.list().size() == model.size());
  for (const auto& [file, text] : model) RC_ASSERT(read_str(disk, file) == text);
}

}  // namespace
}  // namespace disk_test
}  // namespace lockstep::sim
