// The small text and byte helpers hot paths use instead of fmt and std::vector's ==.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "core/bytes.h"
#include "core/decimal.h"

namespace lockstep {
namespace {

TEST(AppendDecimal, WritesWhatFmtWrites) {
  for (const std::uint64_t n : {std::uint64_t{0}, std::uint64_t{7}, std::uint64_t{10},
                                std::uint64_t{1234567890},
                                std::numeric_limits<std::uint64_t>::max()}) {
    std::string out = "key";
    append_decimal(out, n);
    EXPECT_EQ(out, fmt::format("key{}", n));
  }
}

TEST(SameBytes, ComparesSizeAndEveryByte) {
  EXPECT_TRUE(same_bytes(Bytes{}, Bytes{}));
  EXPECT_TRUE(same_bytes(to_bytes("snapshot"), to_bytes("snapshot")));
  EXPECT_FALSE(same_bytes(to_bytes("snapshot"), to_bytes("snapshoT")));
  EXPECT_FALSE(same_bytes(to_bytes("snap"), to_bytes("snapshot")));
  EXPECT_FALSE(same_bytes(Bytes{}, to_bytes("x")));
}

}  // namespace
}  // namespace lockstep
