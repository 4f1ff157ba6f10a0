// Chubby-style node names: "/ls/<cell>" is the cell's root (it always exists), and every other
// node is "/ls/<cell>/c1/.../cn". Components are 1+ characters of [A-Za-z0-9._-], never "." or
// ".."; the whole path is at most path_bytes_max bytes and n is at most path_depth_max.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "service/lock/lock_types.h"

namespace lockstep::service::lock {

std::string cell_root(const LockConfig& config);  // "/ls/<cell>"
bool valid_path(std::string_view path, const LockConfig& config);
bool is_cell_root(std::string_view path, const LockConfig& config);
// A valid component (also used for the cell name).
bool valid_component(std::string_view name);
// For a valid path below the root: its parent, and its last component.
std::string_view parent_of(std::string_view path);
std::string_view name_of(std::string_view path);
// `path` is `ancestor` or lies below it.
bool is_within(std::string_view path, std::string_view ancestor);

// std::less<> on paths (bytes compared unsigned, a prefix before what extends it), eight bytes at
// a time and inline. The namespace's paths share long prefixes ("/ls/<cell>/config/key3/item-"),
// so an ordered lookup compares ~30 equal bytes a dozen times; through string::compare and memcmp
// that was ~40 instructions a comparison, more than the tree walk itself.
struct PathLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept {
    const std::size_t common = a.size() < b.size() ? a.size() : b.size();
    if (common < 8) {
      for (std::size_t i = 0; i < common; ++i) {
        if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
      }
      return a.size() < b.size();
    }
    std::size_t i = 0;
    for (; i + 8 < common; i += 8) {
      if (const auto order = compare_words(a.data() + i, b.data() + i)) return order < 0;
    }
    // The last word ends at `common` and may overlap bytes already found equal, which cannot
    // change the order: no byte-by-byte tail.
    if (const auto order = compare_words(a.data() + common - 8, b.data() + common - 8)) {
      return order < 0;
    }
    return a.size() < b.size();
  }

 private:
  // -1, 0 or 1 as memcmp on eight bytes: byte-swapped, the first byte is the most significant.
  static int compare_words(const char* a, const char* b) noexcept {
    static_assert(std::endian::native == std::endian::little);
    std::uint64_t x = 0;
    std::uint64_t y = 0;
    std::memcpy(&x, a, 8);
    std::memcpy(&y, b, 8);
    if (x == y) return 0;
    return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
  }
};

// A path's hash for an unordered index (never iterated, so its order cannot leak into behaviour):
// FxHash over eight-byte words, finished so that the last bytes (a sequential node's digits)
// reach the low bits too. Deterministic: no seed.
struct PathHash {
  std::size_t operator()(std::string_view path) const noexcept {
    constexpr std::uint64_t kSeed = 0x517cc1b727220a95;
    std::uint64_t h = path.size();
    std::size_t i = 0;
    for (; i + 8 <= path.size(); i += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, path.data() + i, 8);
      h = (std::rotl(h, 5) ^ word) * kSeed;
    }
    if (i < path.size()) {
      // The last eight bytes (overlapping the words before) when there are that many: a
      // fixed-size load, where copying just the rest was a call to memcpy.
      std::uint64_t word = 0;
      if (path.size() >= 8) {
        std::memcpy(&word, path.data() + path.size() - 8, 8);
      } else {
        std::memcpy(&word, path.data(), path.size());
      }
      h = (std::rotl(h, 5) ^ word) * kSeed;
    }
    return static_cast<std::size_t>(h ^ (h >> 32));
  }
};

}  // namespace lockstep::service::lock
