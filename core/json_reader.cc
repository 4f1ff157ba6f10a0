#include "core/json_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "core/duration.h"

namespace lockstep {

namespace {

constexpr std::size_t kShownStringMax = 40;
constexpr std::string_view kDurationUnits =
    "a duration with a unit (ns, us, ms, s, m, h) like \"150ms\"";

[[noreturn]] void throw_error(std::string pointer, std::string message) {
  throw JsonReadError(JsonError{std::move(pointer), std::move(message)});
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The known field closest to a misspelt one, if it is close enough to be the likely intent.
std::optional<std::string> closest(std::string_view unknown,
                                   const std::vector<std::string>& known) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, unknown.size() / 3) + 1;
  for (const std::string& k : known) {
    const std::size_t d = edit_distance(unknown, k);
    if (d < best_distance && d < unknown.size()) {
      best_distance = d;
      best = k;
    }
  }
  return best;
}

// Tracks the path of the value being parsed so that a duplicate key can be reported with its
// pointer; nlohmann's parser callback sees events, not paths.
class DuplicateKeyCheck {
 public:
  bool operator()(int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
        frames_.push_back(Frame{false, 0, {}, {}});
        break;
      case Event::array_start:
        frames_.push_back(Frame{true, 0, {}, {}});
        break;
      case Event::key: {
        Frame& frame = frames_.back();
        frame.key = parsed.get<std::string>();
        if (!frame.keys.insert(frame.key).second) {
          throw_error(path(),
                      fmt::format("expected each field once, got \"{}\" a second time", frame.key));
        }
        break;
      }
      case Event::object_end:
      case Event::array_end:
        frames_.pop_back();
        element_done();
        break;
      case Event::value:
        element_done();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool is_array;
    std::size_t index;  // elements completed so far, when is_array
    std::string key;    // the current key, when an object
    std::set<std::string, std::less<>> keys;
  };

  void element_done() {
    if (!frames_.empty() && frames_.back().is_array) ++frames_.back().index;
  }

  std::string path() const {
    std::string out;
    for (const Frame& f : frames_) {
      out = f.is_array ? json_pointer_child(out, f.index) : json_pointer_child(out, f.key);
    }
    return out;
  }

  std::vector<Frame> frames_;
};

// nlohmann writes "[json.exception.parse_error.101] parse error at line 3, column 5: syntax
// error while parsing object - unexpected '}'; expected string literal". Its line and column
// point past a newline it has just read ("line 3, column 0"), so they are recomputed from the
// byte offset of the last character read.
std::string syntax_message(const nlohmann::json::parse_error& e, std::string_view text) {
  std::string_view what = e.what();
  const std::size_t column_at = what.find("column ");
  const std::size_t colon = what.find(": ", column_at == std::string_view::npos ? 0 : column_at);
  if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
  const std::size_t last = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
  const std::string_view before = text.substr(0, last);
  const std::size_t line =
      1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
  const std::size_t line_start = before.rfind('\n');
  const std::size_t column = line_start == std::string_view::npos ? last + 1 : last - line_start;
  return fmt::format("line {}, column {}: {}", line, column, what);
}

}  // namespace

std::string join_names(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::optional<std::uint64_t> unsigned_value(const nlohmann::json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  return std::nullopt;
}

std::string JsonError::to_string() const {
  if (syntax) return message;
  return (pointer.empty() ? std::string("/") : pointer) + ": " + message;
}

JsonReadError::JsonReadError(JsonError error)
    : error_(std::move(error)), text_(error_.to_string()) {}

JsonResult<nlohmann::json> parse_json_strict(std::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end(), DuplicateKeyCheck{});
  } catch (const nlohmann::json::parse_error& e) {
    return JsonError{"", syntax_message(e, text), true};
  } catch (const JsonReadError& e) {
    return e.error();
  }
}

std::string json_pointer_child(std::string_view parent, std::string_view key) {
  std::string out(parent);
  out += '/';
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string json_pointer_child(std::string_view parent, std::size_t index) {
  return std::string(parent) + "/" + std::to_string(index);
}

std::string describe_json(const nlohmann::json& value) {
  if (value.is_array()) return value.empty() ? "[]" : "an array";
  if (value.is_object()) return value.empty() ? "{}" : "an object";
  std::string shown = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (value.is_string() && shown.size() > kShownStringMax + 2) {
    std::size_t cut = kShownStringMax + 1;
    while (cut > 1 && (static_cast<unsigned char>(shown[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    shown = shown.substr(0, cut) + "...\"";
  }
  return shown;
}

std::string duration_text(Nanos d) {
  const std::int64_t hour = seconds(3600).count;
  const std::int64_t minute = seconds(60).count;
  if (d.count != 0 && d.count % hour == 0) return std::to_string(d.count / hour) + "h";
  if (d.count != 0 && d.count % minute == 0) return std::to_string(d.count / minute) + "m";
  return format_duration(d);
}

JsonReader::JsonReader(const nlohmann::json& value, std::string pointer)
    : value_(&value), pointer_(std::move(pointer)) {}

void JsonReader::fail_expected(std::string_view expectation) const {
  throw_error(pointer_, fmt::format("expected {}, got {}", expectation, describe_json(*value_)));
}

void JsonReader::fail(std::string message) const { throw_error(pointer_, std::move(message)); }

template <>
bool JsonReader::as<bool>() const {
  if (!value_->is_boolean()) fail_expected(type_expectation<bool>());
  return value_->get<bool>();
}

template <>
std::string JsonReader::as<std::string>() const {
  if (!value_->is_string()) fail_expected(type_expectation<std::string>());
  return value_->get<std::string>();
}

template <>
std::int64_t JsonReader::as<std::int64_t>() const {
  return as_integer(std::numeric_limits<std::int64_t>::min(),
                    std::numeric_limits<std::int64_t>::max());
}

template <>
std::uint64_t JsonReader::as<std::uint64_t>() const {
  return as_unsigned(0, std::numeric_limits<std::uint64_t>::max());
}

template <>
double JsonReader::as<double>() const {
  return as_number(-std::numeric_limits<double>::max(), std::numeric_limits<double>::max());
}

std::string JsonReader::integer_expectation(std::int64_t min, std::int64_t max) {
  if (min == std::numeric_limits<std::int64_t>::min() &&
      max == std::numeric_limits<std::int64_t>::max()) {
    return std::string(type_expectation<std::int64_t>());
  }
  return fmt::format("an integer in {}..{}", min, max);
}

std::int64_t JsonReader::as_integer(std::int64_t min, std::int64_t max) const {
  const bool fits = value_->is_number_integer() &&
                    (value_->is_number_unsigned()
                         ? value_->get<std::uint64_t>() <=
                               static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                         : true);
  if (!fits) fail_expected(integer_expectation(min, max));
  const auto v = value_->get<std::int64_t>();
  if (v < min || v > max) fail_expected(integer_expectation(min, max));
  return v;
}

std::uint64_t JsonReader::as_unsigned(std::uint64_t min, std::uint64_t max) const {
  const std::string expectation = max == std::numeric_limits<std::uint64_t>::max()
                                      ? (min == 0 ? std::string(type_expectation<std::uint64_t>())
                                                  : fmt::format("an integer of at least {}", min))
                                      : fmt::format("an integer in {}..{}", min, max);
  const std::optional<std::uint64_t> v = unsigned_value(*value_);
  if (!v || *v < min || *v > max) fail_expected(expectation);
  return *v;
}

double JsonReader::as_number(double min, double max) const {
  const bool whole_range =
      min == -std::numeric_limits<double>::max() && max == std::numeric_limits<double>::max();
  const std::string expectation = whole_range ? std::string(type_expectation<double>())
                                              : fmt::format("a number in {}..{}", min, max);
  if (!value_->is_number()) fail_expected(expectation);
  const auto v = value_->get<double>();
  if (!(v >= min && v <= max)) fail_expected(expectation);
  return v;
}

double JsonReader::as_probability() const {
  if (!value_->is_number()) fail_expected("a probability in 0..1");
  const auto v = value_->get<double>();
  if (!(v >= 0.0 && v <= 1.0)) fail_expected("a probability in 0..1");
  return v;
}

std::string JsonReader::duration_expectation(Nanos min, Nanos max) {
  if (max == Nanos::max()) {
    if (min == Nanos::zero()) return "a non-negative duration";
    if (min == nanoseconds(1)) return "a positive duration";
    return "a duration of at least " + duration_text(min);
  }
  return "a duration in " + duration_text(min) + ".." + duration_text(max);
}

Nanos JsonReader::as_duration(Nanos min, Nanos max) const {
  if (!value_->is_string()) fail_expected(kDurationUnits);
  std::string_view text = value_->get_ref<const std::string&>();
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  const std::optional<Nanos> magnitude = parse_duration(text);
  if (!magnitude) fail_expected(kDurationUnits);
  const Nanos d = negative ? -*magnitude : *magnitude;
  if (d < min || d > max) fail_expected(duration_expectation(min, max));
  return d;
}

std::string JsonReader::enum_expectation(std::span<const std::string_view> allowed) {
  return "one of " + join_names(allowed);
}

std::size_t JsonReader::as_enum(std::span<const std::string_view> allowed) const {
  if (value_->is_string()) {
    const auto& s = value_->get_ref<const std::string&>();
    for (std::size_t i = 0; i < allowed.size(); ++i) {
      if (allowed[i] == s) return i;
    }
  }
  fail_expected(enum_expectation(allowed));
}

std::size_t JsonReader::as_enum(std::initializer_list<std::string_view> allowed) const {
  return as_enum(std::span<const std::string_view>(allowed.begin(), allowed.size()));
}

std::vector<JsonReader> JsonReader::as_array(std::size_t size_min, std::size_t size_max) const {
  if (!value_->is_array()) fail_expected("an array");
  if (value_->size() < size_min || value_->size() > size_max) {
    if (size_max == std::numeric_limits<std::size_t>::max()) {
      fail_expected(size_min == 1 ? std::string("a non-empty array")
                                  : fmt::format("an array of at least {} elements", size_min));
    }
    fail_expected(fmt::format("an array of {}..{} elements", size_min, size_max));
  }
  std::vector<JsonReader> out;
  out.reserve(value_->size());
  for (std::size_t i = 0; i < value_->size(); ++i) {
    out.emplace_back((*value_)[i], json_pointer_child(pointer_, i));
  }
  return out;
}

void JsonReader::expect_object() const {
  if (!value_->is_object()) fail_expected("an object");
}

std::optional<JsonReader> JsonReader::find(std::string_view key) {
  expect_object();
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  const auto it = value_->find(key);
  if (it == value_->end()) return std::nullopt;
  return JsonReader(*it, json_pointer_child(pointer_, key));
}

JsonReader JsonReader::require(std::string_view key, std::string_view expectation) {
  auto field = find(key);
  if (!field) {
    throw_error(json_pointer_child(pointer_, key),
                fmt::format("expected {}, got nothing: the field is required", expectation));
  }
  return *std::move(field);
}

std::int64_t JsonReader::integer(std::string_view key, std::int64_t min, std::int64_t max,
                                 std::int64_t default_value) {
  auto field = find(key);
  return field ? field->as_integer(min, max) : default_value;
}

std::int64_t JsonReader::required_integer(std::string_view key, std::int64_t min,
                                          std::int64_t max) {
  return require(key, integer_expectation(min, max)).as_integer(min, max);
}

std::uint64_t JsonReader::unsigned_integer(std::string_view key, std::uint64_t min,
                                           std::uint64_t max, std::uint64_t default_value) {
  auto field = find(key);
  return field ? field->as_unsigned(min, max) : default_value;
}

double JsonReader::number(std::string_view key, double min, double max, double default_value) {
  auto field = find(key);
  return field ? field->as_number(min, max) : default_value;
}

double JsonReader::probability(std::string_view key, double default_value) {
  auto field = find(key);
  return field ? field->as_probability() : default_value;
}

Nanos JsonReader::duration(std::string_view key, Nanos default_value, Nanos min, Nanos max) {
  auto field = find(key);
  return field ? field->as_duration(min, max) : default_value;
}

Nanos JsonReader::required_duration(std::string_view key, Nanos min, Nanos max) {
  return require(key, kDurationUnits).as_duration(min, max);
}

std::size_t JsonReader::enum_of(std::string_view key, std::span<const std::string_view> allowed,
                                std::size_t default_index) {
  auto field = find(key);
  return field ? field->as_enum(allowed) : default_index;
}

std::size_t JsonReader::required_enum(std::string_view key,
                                      std::span<const std::string_view> allowed) {
  return require(key, enum_expectation(allowed)).as_enum(allowed);
}

JsonReader JsonReader::object(std::string_view key) {
  JsonReader field = require(key, "an object");
  field.expect_object();
  return field;
}

std::optional<JsonReader> JsonReader::optional_object(std::string_view key) {
  auto field = find(key);
  if (field) field->expect_object();
  return field;
}

std::vector<JsonReader> JsonReader::array(std::string_view key, std::size_t size_min,
                                          std::size_t size_max) {
  auto field = find(key);
  if (!field) return {};
  return field->as_array(size_min, size_max);
}

std::vector<std::pair<std::string, JsonReader>> JsonReader::members() {
  expect_object();
  std::vector<std::pair<std::string, JsonReader>> out;
  for (const auto& [key, v] : value_->items()) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.push_back(key);
    out.emplace_back(key, JsonReader(v, json_pointer_child(pointer_, key)));
  }
  return out;
}

void JsonReader::finish() const {
  expect_object();
  for (const auto& [key, v] : value_->items()) {
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string expected;
    for (const std::string& k : known_) expected += (expected.empty() ? "" : ", ") + k;
    std::string message =
        known_.empty()
            ? fmt::format("expected no fields here, got unknown field \"{}\"", key)
            : fmt::format("expected one of the fields {}, got unknown field \"{}\"", expected, key);
    if (auto guess = closest(key, known_))
      message += fmt::format(" (did you mean \"{}\"?)", *guess);
    throw_error(json_pointer_child(pointer_, key), std::move(message));
  }
}

}  // namespace lockstep
