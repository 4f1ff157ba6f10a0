#include "core/packed_bytes.h"

#include <gtest/gtest.h>

#include "core/codec.h"

namespace lockstep {
namespace packed_bytes_test {
namespace {

struct Sent {
  std::uint32_t to = 0;
  ByteView payload;
};

TEST(PackedBytes, KeepsElementsAndKeysInOrder) {
  PackedBytes<std::uint32_t, Sent> list;
  list.add(7, to_bytes("alpha"));
  Writer w(list.open(9));
  w.u8(1).u8(2);
  list.close();
  list.add(3, {});  // empty elements are elements too
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].to, 7u);
  EXPECT_EQ(to_string(list[0].payload), "alpha");
  EXPECT_EQ(list[1].to, 9u);
  EXPECT_EQ(list[1].payload.size(), 2u);
  EXPECT_EQ(list[2].payload.size(), 0u);
  std::vector<std::uint32_t> keys;
  for (const Sent& s : list) keys.push_back(s.to);
  EXPECT_EQ(keys, (std::vector<std::uint32_t>{7, 9, 3}));
}

TEST(PackedBytes, CopiesAnElementEvenWhenTheBufferMoves) {
  PackedBytes<std::uint32_t, Sent> list;
  list.add(1, to_bytes("payload"));
  for (std::uint32_t i = 2; i < 200; ++i) list.add_copy(i, 0);  // grows past any capacity
  ASSERT_EQ(list.size(), 199u);
  EXPECT_EQ(to_string(list.back().payload), "payload");
  EXPECT_EQ(list.back().to, 199u);
}

TEST(PackedBytes, EraseIfKeepsTheRestInOrder) {
  PackedBytes<std::uint64_t> list;
  for (std::uint64_t i = 1; i <= 5; ++i) list.add(i, to_bytes(std::to_string(i)));
  list.erase_if([](const KeyedBytes<std::uint64_t>& e) { return e.key % 2 == 0; });
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(to_string(list[0].bytes), "1");
  EXPECT_EQ(to_string(list[1].bytes), "3");
  EXPECT_EQ(to_string(list[2].bytes), "5");
}

TEST(PackedBytes, ClearEmptiesAndSwapExchanges) {
  PackedBytes<> a;
  PackedBytes<> b;
  a.add(to_bytes("x"));
  b.add(to_bytes("y"));
  b.add(to_bytes("z"));
  swap(a, b);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(to_string(a[1]), "z");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(to_string(b[0]), "x");
  a.clear();
  EXPECT_TRUE(a.empty());
  a.add(to_bytes("again"));
  EXPECT_EQ(to_string(a[0]), "again");
}

}  // namespace
}  // namespace packed_bytes_test
}  // namespace lockstep
