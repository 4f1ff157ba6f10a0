#include "core/crc32c.h"

#include <array>
#include <cstddef>
#include <cstring>

namespace lockstep {
namespace {

constexpr std::uint32_t kPolynomialReflected = 0x82F63B78u;

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC of byte b followed by
// k zero bytes, which lets one step fold eight input bytes with eight independent look-ups.
constexpr Tables make_tables() {
  Tables tables{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kPolynomialReflected : 0u);
    tables[0][b] = crc;
  }
  for (std::size_t k = 1; k < 8; ++k) {
    for (std::size_t b = 0; b < 256; ++b) {
      const std::uint32_t prev = tables[k - 1][b];
      tables[k][b] = (prev >> 8) ^ tables[0][prev & 0xffu];
    }
  }
  return tables;
}

constexpr Tables kTables = make_tables();

constexpr std::uint32_t byte_at(ByteView data, std::size_t i) {
  return static_cast<std::uint32_t>(data[i]);
}

#if defined(__x86_64__)
// SSE4.2 has a CRC32C instruction: eight bytes per instruction. Chosen at run time, so the binary
// still runs on a CPU without it; both paths compute the same function (tested against vectors).
__attribute__((target("sse4.2"))) std::uint32_t crc32c_hardware(std::uint32_t crc, ByteView data) {
  std::uint64_t state = ~crc;
  const std::byte* p = data.data();
  std::size_t n = data.size();
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);  // x86 is little-endian, as CRC32C's byte order wants
    state = __builtin_ia32_crc32di(state, word);
  }
  auto s32 = static_cast<std::uint32_t>(state);
  for (; n > 0; ++p, --n) s32 = __builtin_ia32_crc32qi(s32, static_cast<unsigned char>(*p));
  return ~s32;
}

const bool kHaveHardwareCrc = __builtin_cpu_supports("sse4.2");
#endif

}  // namespace

std::uint32_t crc32c_software(std::uint32_t crc, ByteView data) {
  std::uint32_t state = ~crc;
  std::size_t i = 0;
  const std::size_t n = data.size();
  for (; i + 8 <= n; i += 8) {
    // Little-endian assembly of the first word, independent of the host's byte order.
    const std::uint32_t low = state ^ (byte_at(data, i) | (byte_at(data, i + 1) << 8) |
                                       (byte_at(data, i + 2) << 16) | (byte_at(data, i + 3) << 24));
    state = kTables[7][low & 0xffu] ^ kTables[6][(low >> 8) & 0xffu] ^
            kTables[5][(low >> 16) & 0xffu] ^ kTables[4][low >> 24] ^
            kTables[3][byte_at(data, i + 4)] ^ kTables[2][byte_at(data, i + 5)] ^
            kTables[1][byte_at(data, i + 6)] ^ kTables[0][byte_at(data, i + 7)];
  }
  for (; i < n; ++i) state = (state >> 8) ^ kTables[0][(state ^ byte_at(data, i)) & 0xffu];
  return ~state;
}

std::uint32_t crc32c_extend(std::uint32_t crc, ByteView data) {
#if defined(__x86_64__)
  if (kHaveHardwareCrc) return crc32c_hardware(crc, data);
#endif
  return crc32c_software(crc, data);
}

std::uint32_t crc32c(ByteView data) { return crc32c_extend(0, data); }

}  // namespace lockstep
