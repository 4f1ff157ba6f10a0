// Appends an unsigned number in decimal, as fmt's "{}" writes it, without going through fmt's
// format-string parser: for text built on every operation of a run (paths, contents, call names).
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>

namespace lockstep {

inline void append_decimal(std::string& out, std::uint64_t n) {
  std::array<char, 20> digits;  // 2^64 - 1 has 20
  const char* end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
  out.append(digits.data(), static_cast<std::size_t>(end - digits.data()));
}

}  // namespace lockstep
