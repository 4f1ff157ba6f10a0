#include "checkers/history.h"

#include <fmt/format.h>

#include <sstream>

namespace lockstep::checkers {

std::string describe_value(const Value& value) {
  if (std::holds_alternative<std::monostate>(value)) return "nil";
  if (const auto* i = std::get_if<std::int64_t>(&value)) return fmt::format("{}", *i);
  std::string out = "\"";
  for (char c : std::get<std::string>(value)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::failed: return "failed";
    case Outcome::unknown: return "unknown";
  }
  return "?";
}

std::string describe_operation(const Operation& op, bool with_key) {
  std::string out = op.f;
  // Appended piece by piece: `" " + std::string` makes GCC 12 warn falsely (-Wrestrict) at -O3.
  if (with_key && !op.key.empty()) out.append(" key=").append(describe_value(Value(op.key)));
  if (op.args.size() == 1) {
    out.append(" ").append(describe_value(op.args[0]));
  } else if (op.args.size() > 1) {
    out += " [";
    for (std::size_t i = 0; i < op.args.size(); ++i) {
      if (i > 0) out += ' ';
      out += describe_value(op.args[i]);
    }
    out += "]";
  }
  // A result is worth showing when there is one, or when the call exists to read it.
  const bool has_result = !std::holds_alternative<std::monostate>(op.result) || op.args.empty();
  if (op.outcome == Outcome::ok && has_result) out += " -> " + describe_value(op.result);
  if (op.outcome == Outcome::failed && std::holds_alternative<std::string>(op.result)) {
    out += fmt::format(" (failed: {})", std::get<std::string>(op.result));  // the error it got
  } else if (op.outcome != Outcome::ok) {
    out += fmt::format(" ({})", outcome_name(op.outcome));
  }
  return out;
}

std::string describe_time(Nanos t, TimeAxis axis) {
  if (t == Nanos::max()) return "the end";
  if (axis == TimeAxis::line) return fmt::format("line {}", t.count);
  std::ostringstream os;
  os << t;
  return os.str();
}

}  // namespace lockstep::checkers
