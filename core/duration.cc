#include "core/duration.h"

#include <charconv>
#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace lockstep {

namespace {

struct Unit {
  std::string_view suffix;
  std::int64_t ns;
};

// Longest suffixes first so that "ms" is not read as "m" followed by garbage.
constexpr Unit kUnits[] = {
    {"ns", 1}, {"us", 1'000}, {"ms", 1'000'000}, {"s", 1'000'000'000},
    {"m", 60'000'000'000}, {"h", 3'600'000'000'000},
};

}  // namespace

std::optional<Nanos> parse_duration(std::string_view text) {
  std::size_t digits_end = 0;
  while (digits_end < text.size() &&
         ((text[digits_end] >= '0' && text[digits_end] <= '9') || text[digits_end] == '.')) {
    ++digits_end;
  }
  if (digits_end == 0) return std::nullopt;
  const std::string_view number = text.substr(0, digits_end);
  const std::string_view suffix = text.substr(digits_end);
  const Unit* unit = nullptr;
  for (const Unit& u : kUnits) {
    if (u.suffix == suffix) unit = &u;
  }
  if (unit == nullptr) return std::nullopt;

  const std::size_t dot = number.find('.');
  if (dot == std::string_view::npos) {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc{} || ptr != number.data() + number.size()) return std::nullopt;
    if (value > std::numeric_limits<std::int64_t>::max() / unit->ns) return std::nullopt;
    return Nanos{value * unit->ns};
  }
  // Fractional: integer part and fraction parsed separately so "1.5s" is exact.
  if (number.find('.', dot + 1) != std::string_view::npos || dot == number.size() - 1) {
    return std::nullopt;
  }
  std::int64_t whole = 0;
  if (dot > 0) {
    auto [p, ec] = std::from_chars(number.data(), number.data() + dot, whole);
    if (ec != std::errc{} || p != number.data() + dot) return std::nullopt;
  }
  if (whole > std::numeric_limits<std::int64_t>::max() / unit->ns - 1) return std::nullopt;
  std::int64_t frac_ns = 0;
  std::int64_t scale = unit->ns;
  for (std::size_t i = dot + 1; i < number.size(); ++i) {
    scale /= 10;
    if (scale == 0) {
      if (number[i] != '0') return std::nullopt;  // finer than a nanosecond
      continue;
    }
    frac_ns += (number[i] - '0') * scale;
  }
  return Nanos{whole * unit->ns + frac_ns};
}

std::string format_duration(Nanos d) {
  std::int64_t n = d.count;
  std::string sign;
  if (n < 0) {
    sign = "-";
    n = -n;
  }
  if (n == 0) return "0s";
  for (auto it = std::rbegin(kUnits); it != std::rend(kUnits); ++it) {
    if (it->ns > 1'000'000'000) continue;  // minutes and hours read worse than seconds
    if (n >= it->ns) {
      std::int64_t whole = n / it->ns;
      std::int64_t rest = n % it->ns;
      std::string out = sign + std::to_string(whole);
      if (rest != 0) {
        std::string frac = std::to_string(rest);
        std::int64_t width = 0;
        for (std::int64_t s = it->ns; s > 1; s /= 10) ++width;
        frac.insert(0, static_cast<std::size_t>(width) - frac.size(), '0');
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
        out += "." + frac;
      }
      return out + std::string(it->suffix);
    }
  }
  return sign + std::to_string(n) + "ns";
}

std::ostream& operator<<(std::ostream& os, Nanos n) { return os << format_duration(n); }

std::string format_duration_approx(Nanos d) {
  if (d < microseconds(1)) return fmt::format("{}ns", d.count);
  if (d < milliseconds(1)) return fmt::format("{:.1f}us", static_cast<double>(d.count) / 1e3);
  if (d < seconds(1)) return fmt::format("{:.2f}ms", d.millis());
  return fmt::format("{:.3f}s", d.seconds());
}

}  // namespace lockstep
