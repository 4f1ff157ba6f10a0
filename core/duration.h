// Durations with units, as written in scenario files and on the command line: "150ms", "2s",
// "1.5s", "250us", "10ns", "1m". A bare number is rejected: a unit must always be written.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/types.h"

namespace lockstep {

// Parses a non-negative duration. Returns nullopt when the text is not "<number><unit>" with unit
// one of ns, us, ms, s, m, h, or when the value does not fit in 64-bit nanoseconds.
std::optional<Nanos> parse_duration(std::string_view text);

// The shortest exact rendering with a unit that parse_duration accepts back ("1.5s", "150ms").
std::string format_duration(Nanos d);

// For people reading measurements: rounded to a few digits ("2.97ms", "455.6us", "2.587s").
std::string format_duration_approx(Nanos d);

}  // namespace lockstep
