#include "core/record_log.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/crc32c.h"
#include "sim/disk.h"

namespace lockstep {
namespace record_log_test {
namespace {

using sim::SimDisk;

std::vector<std::string> as_strings(const std::vector<Bytes>& records) {
  std::vector<std::string> out;
  for (const Bytes& r : records) out.push_back(to_string(r));
  return out;
}

TEST(Crc32c, MatchesTheKnownCheckValue) {
  EXPECT_EQ(crc32c(to_bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(to_bytes("")), 0u);
  // RFC 3720, B.4: 32 bytes of zeros and 32 bytes of 0xff.
  EXPECT_EQ(crc32c(Bytes(32, std::byte{0})), 0x8A9136AAu);
  EXPECT_EQ(crc32c(Bytes(32, std::byte{0xff})), 0x62A8AB43u);
}

TEST(Crc32c, ExtendingEqualsChecksummingTheWhole) {
  const Bytes data = to_bytes("The quick brown fox jumps over the lazy dog, twice over.");
  for (std::size_t cut = 0; cut <= data.size(); ++cut) {
    const ByteView all(data);
    EXPECT_EQ(crc32c_extend(crc32c(all.first(cut)), all.subspan(cut)), crc32c(all)) << cut;
  }
}

TEST(Crc32c, HardwareAndSoftwarePathsAgree) {
  // crc32c_extend may take the CPU's instruction; the table-driven code must give the same
  // answers, at every length (the word loop and the byte tail) and from any starting crc.
  Bytes data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<std::byte>((i * 131 + 7) & 0xff));
  for (std::size_t len = 0; len <= data.size(); len += 7) {
    for (std::uint32_t start : {0u, 0xE3069283u}) {
      const ByteView part = ByteView(data).first(len);
      EXPECT_EQ(crc32c_extend(start, part), crc32c_software(start, part)) << len;
    }
  }
  EXPECT_EQ(crc32c_software(0, to_bytes("123456789")), 0xE3069283u);
}

TEST(Crc32c, MaskRoundTripsAndMasksZero) {
  for (std::uint32_t crc : {0u, 1u, 0xE3069283u, 0xffffffffu}) {
    EXPECT_EQ(crc32c_unmask(crc32c_mask(crc)), crc);
    EXPECT_NE(crc32c_mask(crc), crc);
  }
}

TEST(RecordLog, RoundTripsRecordsOfEverySize) {
  SimDisk disk;
  const std::vector<std::string> written = {"", "x", "hello", std::string(1000, 'z'), "last"};
  for (const auto& r : written) append_record(disk, "log", to_bytes(r));
  const Recovered got = read_records(disk, "log");
  EXPECT_TRUE(got.clean()) << got.problem;
  EXPECT_EQ(as_strings(got.records), written);
  EXPECT_EQ(got.valid_bytes, disk.size("log"));
  EXPECT_EQ(got.discarded_bytes, 0u);
}

TEST(RecordLog, MissingFileReadsAsEmptyAndClean) {
  SimDisk disk;
  const Recovered got = recover_records(disk, "nothing");
  EXPECT_TRUE(got.clean());
  EXPECT_TRUE(got.records.empty());
  EXPECT_FALSE(disk.exists("nothing"));
}

TEST(RecordLog, FramingIsLengthThenMaskedChecksumThenPayload) {
  const Bytes framed = encode_record(to_bytes("abc"));
  ASSERT_EQ(framed.size(), kRecordHeaderBytes + 3);
  EXPECT_EQ(framed[0], std::byte{3});
  EXPECT_EQ(framed[1], std::byte{0});
  EXPECT_EQ(to_string(ByteView(framed).subspan(8)), "abc");
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= static_cast<std::uint32_t>(framed[4 + i]) << (8 * i);
  const std::uint32_t length_crc = crc32c(ByteView(framed).first(4));
  EXPECT_EQ(stored, crc32c_mask(crc32c_extend(length_crc, to_bytes("abc"))));
}

TEST(RecordLog, TornTailAtEveryByteRecoversExactlyTheEarlierRecords) {
  const std::vector<std::string> earlier = {"first", "second record", "3"};
  const Bytes last = encode_record(to_bytes("the last record, torn"));
  for (std::size_t cut = 0; cut < last.size(); ++cut) {
    SimDisk disk;
    for (const auto& r : earlier) append_record(disk, "log", to_bytes(r));
    const std::uint64_t earlier_bytes = disk.size("log");
    disk.append("log", ByteView(last).first(cut));
    disk.sync("log");
    const Recovered got = recover_records(disk, "log");
    ASSERT_EQ(as_strings(got.records), earlier) << "cut " << cut;
    ASSERT_EQ(got.valid_bytes, earlier_bytes);
    ASSERT_EQ(got.discarded_bytes, cut);
    ASSERT_EQ(got.clean(), cut == 0);
    // Recovery cut the tail off durably, so a record appended now is readable after a crash.
    ASSERT_EQ(disk.size("log"), earlier_bytes);
    append_record(disk, "log", to_bytes("after recovery"));
    disk.sync("log");
    Rng rng(cut);
    disk.crash(rng);
    ASSERT_EQ(read_records(disk, "log").records.size(), earlier.size() + 1);
  }
}

TEST(RecordLog, BitFlipAnywhereIsDetected) {
  const std::vector<std::string> written = {"alpha", "beta gamma", "delta"};
  Bytes image;
  std::vector<std::uint64_t> starts;
  for (const auto& r : written) {
    starts.push_back(image.size());
    const Bytes framed = encode_record(to_bytes(r));
    image.insert(image.end(), framed.begin(), framed.end());
  }
  for (std::uint64_t bit = 0; bit < image.size() * 8; ++bit) {
    Bytes damaged = image;
    damaged[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
    std::size_t hit = 0;
    while (hit + 1 < starts.size() && starts[hit + 1] <= bit / 8) ++hit;
    const Recovered got = decode_records(damaged);
    ASSERT_FALSE(got.clean()) << "bit " << bit;
    ASSERT_EQ(got.records.size(), hit) << "bit " << bit;
    ASSERT_EQ(got.valid_bytes, starts[hit]);
    ASSERT_EQ(as_strings(got.records),
              std::vector<std::string>(written.begin(), written.begin() + static_cast<long>(hit)));
  }
}

TEST(RecordLog, ZeroFilledTailIsNotARecord) {
  Bytes image = encode_record(to_bytes("real"));
  image.resize(image.size() + 64, std::byte{0});
  const Recovered got = decode_records(image);
  EXPECT_EQ(as_strings(got.records), std::vector<std::string>{"real"});
  EXPECT_EQ(got.discarded_bytes, 64u);
  EXPECT_NE(got.problem.find("checksum"), std::string::npos) << got.problem;
}

TEST(RecordLog, AbsurdLengthIsCorruptionNotAnAllocation) {
  Bytes image(16, std::byte{0xff});
  const Recovered got = decode_records(image);
  EXPECT_TRUE(got.records.empty());
  EXPECT_EQ(got.discarded_bytes, 16u);
  EXPECT_NE(got.problem.find("exceeds the limit"), std::string::npos) << got.problem;
}

// Records are appended, the first `synced` of them synced, then the disk crashes with torn writes
// and torn corruption: whatever survives, recovery yields a prefix of what was written that holds
// every synced record, and records appended after recovery survive the next crash.
RC_GTEST_PROP(RecordLog, RecoveredRecordsAreAPrefixHoldingEverySyncedRecord, ()) {
  const auto written =
      *rc::gen::container<std::vector<std::string>>(rc::gen::string<std::string>());
  const auto synced = *rc::gen::inRange<std::size_t>(0, written.size() + 1);
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  SimDisk disk(sim::DiskConfig{.torn_writes = true, .torn_corruption = 0.5});
  Rng rng(seed);
  for (std::size_t i = 0; i < written.size(); ++i) {
    append_record(disk, "log", to_bytes(written[i]));
    if (i + 1 == synced) disk.sync("log");
  }
  disk.crash(rng);
  const Recovered got = recover_records(disk, "log");
  const auto recovered = as_strings(got.records);
  RC_ASSERT(recovered.size() >= synced);
  RC_ASSERT(recovered.size() <= written.size());
  RC_ASSERT(std::equal(recovered.begin(), recovered.end(), written.begin()));

  append_record(disk, "log", to_bytes("after"));
  disk.sync("log");
  disk.crash(rng);
  const Recovered again = read_records(disk, "log");
  RC_ASSERT(again.clean());
  RC_ASSERT(again.records.size() == recovered.size() + 1);
  RC_ASSERT(to_string(again.records.back()) == "after");
}

}  // namespace
}  // namespace record_log_test
}  // namespace lockstep
