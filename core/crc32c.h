// CRC-32C (Castagnoli, polynomial 0x1EDC6F41, reflected 0x82F63B78), the checksum of iSCSI, ext4
// metadata, LevelDB and RocksDB. Software, table-driven, slicing-by-8: eight bytes per step from
// eight 256-entry tables computed at compile time. Portable and deterministic; it is not the
// bottleneck of a simulation, so there is no SSE4.2 path.
//
// The mask (LevelDB's) is applied to a CRC that is stored next to the data it covers: computing
// the CRC of a string that itself contains CRCs is prone to give trivial results, and a masked
// CRC of all-zero bytes is not zero, so a zero-filled region never passes as a valid record.
#pragma once

#include <cstdint>

#include "core/bytes.h"

namespace lockstep {

// The CRC-32C of `data`. crc32c("123456789") == 0xE3069283.
std::uint32_t crc32c(ByteView data);

// The CRC-32C of a ++ data, given crc == crc32c(a): checksums a buffer in pieces.
std::uint32_t crc32c_extend(std::uint32_t crc, ByteView data);
// The portable table-driven implementation; crc32c_extend uses the CPU's CRC32C instruction when
// it has one. Exposed so that tests can hold the two to the same answers.
std::uint32_t crc32c_software(std::uint32_t crc, ByteView data);

constexpr std::uint32_t kCrc32cMaskDelta = 0xa282ead8u;

constexpr std::uint32_t crc32c_mask(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + kCrc32cMaskDelta;
}

constexpr std::uint32_t crc32c_unmask(std::uint32_t masked) {
  const std::uint32_t rotated = masked - kCrc32cMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace lockstep
