#include "checkers/history_formats.h"

#include <array>
#include <charconv>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/json_reader.h"

namespace lockstep::checkers {

namespace {

constexpr std::array<std::string_view, 3> kFormatNames = {"lockstep", "jepsen-etcd", "edn-kv"};
constexpr std::int64_t kLockstepHistoryVersion = 1;
constexpr std::size_t kShownTextMax = 60;

// Thrown inside a line parser, caught at its entry point: never leaves this file.
struct LineError {
  std::string message;
};

std::string shown(std::string_view text) {
  if (text.empty()) return "nothing";
  if (text.size() > kShownTextMax) return fmt::format("\"{}...\"", text.substr(0, kShownTextMax));
  return fmt::format("\"{}\"", text);
}

[[noreturn]] void fail(std::string_view expected, std::string_view got) {
  throw LineError{fmt::format("expected {}, got {}", expected, shown(got))};
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t v = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return v;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Splits `text` into lines, calling parse(line_number, line) for each non-blank one.
template <typename F>
std::optional<FormatError> for_each_line(std::string_view text, F&& parse) {
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
    if (line.empty()) continue;
    try {
      parse(number, line);
    } catch (const LineError& e) {
      return FormatError{number, e.message};
    }
  }
  return std::nullopt;
}

// Pairs each completion with its process's open call. A call still open at the end of the text
// crashed without a trace: its outcome is unknown.
class CallMatcher {
 public:
  explicit CallMatcher(History& history) : history_(history) {}

  void invoke(std::size_t line, std::uint32_t process, Operation op) {
    if (const auto it = open_.find(process); it != open_.end()) {
      throw LineError{fmt::format("process {} calls {} while its {} from line {} is still open; "
                                  "expected a completion of that call first",
                                  process, op.f, history_.operations[it->second].f,
                                  history_.operations[it->second].call.count)};
    }
    op.process = process;
    op.call = Nanos{static_cast<std::int64_t>(line)};
    op.ret = op.call;
    op.origin = fmt::format("line {}", line);
    open_[process] = history_.operations.size();
    history_.operations.push_back(std::move(op));
  }

  // The open call of `process`, which must be an `f`; the caller fills in the outcome.
  Operation& complete(std::size_t line, std::uint32_t process, std::string_view f) {
    const auto it = open_.find(process);
    if (it == open_.end()) {
      throw LineError{fmt::format("process {} completes a {} it never called; expected an invoke "
                                  "of process {} on an earlier line",
                                  process, f, process)};
    }
    Operation& op = history_.operations[it->second];
    if (op.f != f) {
      throw LineError{fmt::format("expected the completion of process {}'s {} from line {}, got "
                                  "a completion of {}",
                                  process, op.f, op.call.count, f)};
    }
    open_.erase(it);
    op.ret = Nanos{static_cast<std::int64_t>(line)};
    op.origin = fmt::format("lines {}-{}", op.call.count, line);
    return op;
  }

  void finish() {
    for (const auto& [process, index] : open_) {
      Operation& op = history_.operations[index];
      op.outcome = Outcome::unknown;
      op.ret = Nanos::max();
      op.origin += " (never completed)";
    }
  }

 private:
  History& history_;
  std::map<std::uint32_t, std::size_t> open_;  // process -> its open call
};

std::uint32_t parse_process(std::string_view text) {
  const auto v = parse_int(text);
  if (!v || *v < 0 || *v > std::int64_t{0xffffffff}) fail("a process id (an integer >= 0)", text);
  return static_cast<std::uint32_t>(*v);
}

// ---- jepsen-etcd --------------------------------------------------------------------------------

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    const std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    if (i > start) fields.push_back(line.substr(start, i - start));
  }
  return fields;
}

Value jepsen_value(std::string_view text, std::string_view expected) {
  if (text == "nil") return Value{};
  if (const auto v = parse_int(text)) return Value{*v};
  fail(expected, text);
}

// ARG of a :cas: "[A B]", already split into the fields "[A" and "B]".
std::vector<Value> jepsen_cas(std::span<const std::string_view> arg) {
  constexpr std::string_view kExpected = "[EXPECTED NEW] with integers or nil";
  if (arg.size() != 2 || arg[0].size() < 2 || arg[0].front() != '[' || arg[1].size() < 2 ||
      arg[1].back() != ']') {
    fail(kExpected, arg.empty() ? "" : std::string_view(arg.front().data(),
                                                          arg.back().data() + arg.back().size() -
                                                              arg.front().data()));
  }
  return {jepsen_value(arg[0].substr(1), kExpected),
          jepsen_value(arg[1].substr(0, arg[1].size() - 1), kExpected)};
}

void parse_jepsen_line(CallMatcher& matcher, std::size_t line_number, std::string_view line) {
  constexpr std::string_view kLine = "\"INFO  jepsen.util - PROC TYPE FN ARG\"";
  const std::vector<std::string_view> fields = split_fields(line);
  if (fields.size() < 7 || fields[0] != "INFO" || fields[1] != "jepsen.util" || fields[2] != "-") {
    fail(kLine, line);
  }
  const std::uint32_t process = parse_process(fields[3]);
  const std::string_view type = fields[4];
  const std::string_view fn = fields[5];
  const std::span<const std::string_view> arg(fields.begin() + 6, fields.end());
  const std::string_view arg_text(arg.front().data(),
                                  arg.back().data() + arg.back().size() - arg.front().data());
  std::string f;
  if (fn == ":read" || fn == ":write" || fn == ":cas") {
    f = std::string(fn.substr(1));
  } else {
    fail("FN :read, :write or :cas", fn);
  }
  const auto single = [&](std::string_view expected) {
    if (arg.size() != 1) fail(expected, arg_text);
    return jepsen_value(arg[0], expected);
  };

  if (type == ":invoke") {
    Operation op;
    op.f = f;
    if (f == "read") {
      if (arg_text != "nil") fail("nil as the argument of a :read invoke", arg_text);
    } else if (f == "write") {
      op.args = {single("an integer to write")};
    } else {
      op.args = jepsen_cas(arg);
    }
    matcher.invoke(line_number, process, std::move(op));
    return;
  }
  if (type != ":ok" && type != ":fail" && type != ":info") {
    fail("TYPE :invoke, :ok, :fail or :info", type);
  }
  Operation& op = matcher.complete(line_number, process, f);
  if (type == ":ok") {
    op.outcome = Outcome::ok;
    if (f == "read") {
      op.result = single("the value read (an integer or nil)");
      return;
    }
    const std::vector<Value> echoed = f == "write" ? std::vector<Value>{single("the value written")}
                                                   : jepsen_cas(arg);
    if (echoed != op.args) {
      fail(fmt::format("the argument of the invoke on line {}", op.call.count), arg_text);
    }
    return;
  }
  // A failed read says :timed-out; a failed write or cas repeats its argument (a failed cas is
  // the observation that the register did not hold A); an unknown outcome says either.
  const bool timed_out = arg_text == ":timed-out";
  const auto echo = [&](std::string_view expected) {
    const std::vector<Value> echoed = f == "write" ? std::vector<Value>{single(expected)}
                                                   : jepsen_cas(arg);
    if (echoed != op.args) fail(expected, arg_text);
  };
  const std::string invoked = fmt::format("the argument of the invoke on line {}", op.call.count);
  if (type == ":fail") {
    if (f == "read" && !timed_out) fail(":timed-out for a failed :read", arg_text);
    if (f != "read") echo(invoked);
    op.outcome = Outcome::failed;
    return;
  }
  if (!timed_out) {
    if (f == "read") fail(":timed-out", arg_text);
    echo(fmt::format(":timed-out or {}", invoked));
  }
  op.outcome = Outcome::unknown;
}

// ---- edn-kv -------------------------------------------------------------------------------------

// One EDN map of keywords to scalars, as the kv lines write it.
class EdnMapReader {
 public:
  explicit EdnMapReader(std::string_view line) : text_(line) {}

  struct Scalar {
    enum class Kind : std::uint8_t { nil, integer, keyword, string } kind = Kind::nil;
    std::string text;  // keyword without ':', string unescaped, integer digits
  };

  std::map<std::string, Scalar> read() {
    skip();
    expect('{');
    std::map<std::string, Scalar> fields;
    for (;;) {
      skip();
      if (peek() == '}') {
        ++at_;
        break;
      }
      const Scalar key = scalar();
      if (key.kind != Scalar::Kind::keyword) fail("a keyword such as :process or '}'", key.text);
      skip();
      const Scalar value = scalar();
      if (!fields.emplace(key.text, value).second) {
        throw LineError{fmt::format(":{} appears twice; expected each key once", key.text)};
      }
    }
    skip();
    if (at_ != text_.size()) fail("the end of the line after '}'", text_.substr(at_));
    return fields;
  }

 private:
  char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
  void skip() {
    while (at_ < text_.size() && (is_space(text_[at_]) || text_[at_] == ',')) ++at_;
  }
  void expect(char c) {
    if (peek() != c) fail(fmt::format("'{}'", c), text_.substr(at_));
    ++at_;
  }
  std::string_view token() {
    const std::size_t start = at_;
    while (at_ < text_.size() && !is_space(text_[at_]) && text_[at_] != ',' && text_[at_] != '}') {
      ++at_;
    }
    return text_.substr(start, at_ - start);
  }
  Scalar scalar() {
    if (peek() == '"') {
      ++at_;
      std::string out;
      for (;;) {
        if (at_ >= text_.size()) fail("a closing '\"'", "the end of the line");
        const char c = text_[at_++];
        if (c == '"') break;
        if (c == '\\') {
          if (at_ >= text_.size()) fail("an escaped character", "the end of the line");
          const char e = text_[at_++];
          out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
          continue;
        }
        out += c;
      }
      return Scalar{Scalar::Kind::string, std::move(out)};
    }
    const std::string_view t = token();
    if (t == "nil") return Scalar{Scalar::Kind::nil, "nil"};
    if (t.size() > 1 && t.front() == ':') return Scalar{Scalar::Kind::keyword, std::string(t.substr(1))};
    if (parse_int(t)) return Scalar{Scalar::Kind::integer, std::string(t)};
    fail("a keyword, a string, an integer or nil", t.empty() ? text_.substr(at_) : t);
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

void parse_edn_line(CallMatcher& matcher, std::size_t line_number, std::string_view line) {
  using Kind = EdnMapReader::Scalar::Kind;
  auto fields = EdnMapReader(line).read();
  for (const auto& [name, value] : fields) {
    if (name != "process" && name != "type" && name != "f" && name != "key" && name != "value") {
      throw LineError{fmt::format("expected only the keys :process, :type, :f, :key, :value, got "
                                  ":{}",
                                  name)};
    }
  }
  const auto field = [&](const char* name, Kind kind, std::string_view expected) {
    const auto it = fields.find(name);
    if (it == fields.end()) {
      throw LineError{fmt::format("expected :{} ({}), got nothing: the key is required", name,
                                  expected)};
    }
    if (it->second.kind != kind) {
      throw LineError{fmt::format("expected :{} to be {}, got {}", name, expected,
                                  shown(it->second.text))};
    }
    return it->second.text;
  };
  const std::uint32_t process = parse_process(field("process", Kind::integer, "an integer >= 0"));
  const std::string type = field("type", Kind::keyword, ":invoke, :ok, :fail or :info");
  const std::string f = field("f", Kind::keyword, ":get, :put or :append");
  if (f != "get" && f != "put" && f != "append") {
    throw LineError{fmt::format("expected :f to be :get, :put or :append, got :{}", f)};
  }
  const std::string key = field("key", Kind::string, "a string");
  const auto value_it = fields.find("value");
  if (value_it == fields.end()) {
    throw LineError{"expected :value (a string or nil), got nothing: the key is required"};
  }
  const EdnMapReader::Scalar& value = value_it->second;
  if (value.kind != Kind::string && value.kind != Kind::nil) {
    throw LineError{fmt::format("expected :value to be a string or nil, got {}", shown(value.text))};
  }
  const Value v = value.kind == Kind::nil ? Value{} : Value{value.text};

  if (type == "invoke") {
    Operation op;
    op.key = key;
    op.f = f;
    if (f == "get") {
      if (value.kind != Kind::nil) throw LineError{"expected :value nil in the invoke of a :get"};
    } else {
      if (value.kind != Kind::string) {
        throw LineError{fmt::format("expected :value to be the string to {}, got nil", f)};
      }
      op.args = {v};
    }
    matcher.invoke(line_number, process, std::move(op));
    return;
  }
  if (type != "ok" && type != "fail" && type != "info") {
    throw LineError{fmt::format("expected :type to be :invoke, :ok, :fail or :info, got :{}", type)};
  }
  Operation& op = matcher.complete(line_number, process, f);
  if (op.key != key) {
    throw LineError{fmt::format("expected :key {} as in the invoke on line {}, got {}",
                                describe_value(op.key), op.call.count, describe_value(key))};
  }
  op.outcome = type == "ok" ? Outcome::ok : type == "fail" ? Outcome::failed : Outcome::unknown;
  if (f == "get") {
    if (type == "ok") op.result = v;
    return;
  }
  if (value.kind == Kind::string && v != op.args[0]) {
    throw LineError{fmt::format("expected :value {} as in the invoke on line {}, got {}",
                                describe_value(op.args[0]), op.call.count, describe_value(v))};
  }
}

// ---- lockstep -----------------------------------------------------------------------------------

Value json_value(const JsonReader& r) {
  const nlohmann::json& j = r.value();
  if (j.is_null()) return Value{};
  if (j.is_string()) return Value{j.get<std::string>()};
  if (j.is_number_integer()) return Value{r.as<std::int64_t>()};
  r.fail_expected("null, an integer or a string");
}

Operation read_operation(JsonReader& r, std::size_t index) {
  Operation op;
  op.origin = json_pointer_child("/operations", index);
  op.process = static_cast<std::uint32_t>(
      r.require("process", "a process id (an integer >= 0)").as_unsigned(0, 0xffffffff));
  op.key = r.optional<std::string>("key", "");
  op.f = r.required<std::string>("f");
  for (const JsonReader& a : r.array("args")) op.args.push_back(json_value(a));
  if (const auto result = r.find("result")) op.result = json_value(*result);
  op.outcome = static_cast<Outcome>(r.required_enum("outcome", std::array<std::string_view, 3>{
                                                                   "ok", "failed", "unknown"}));
  const std::int64_t time_max = std::numeric_limits<std::int64_t>::max() - 1;
  op.call = Nanos{r.required_integer("call_ns", 0, time_max)};
  if (op.outcome == Outcome::unknown) {
    op.ret = Nanos{r.integer("return_ns", op.call.count, time_max, op.call.count)};
  } else {
    op.ret = Nanos{r.required_integer("return_ns", op.call.count, time_max)};
  }
  r.finish();
  return op;
}

std::optional<FormatError> check_models(const History& history, ModelKind model) {
  for (const Operation& op : history.operations) {
    if (const auto problem = check_operation(model, op)) {
      const std::size_t line = history.time_axis == TimeAxis::line ? static_cast<std::size_t>(op.call.count) : 0;
      return FormatError{line, fmt::format("{} does not fit the {} model: expected {} in {}",
                                           describe_operation(op), model_name(model),
                                           problem->expected, problem->field)};
    }
  }
  return std::nullopt;
}

template <typename F>
HistoryResult parse_lines(std::string_view text, ModelKind model, F&& parse_line) {
  LoadedHistory loaded;
  loaded.model = model;
  loaded.history.time_axis = TimeAxis::line;
  CallMatcher matcher(loaded.history);
  if (auto error = for_each_line(text, [&](std::size_t number, std::string_view line) {
        parse_line(matcher, number, line);
      })) {
    return *error;
  }
  matcher.finish();
  return loaded;
}

}  // namespace

std::span<const std::string_view> history_format_names() { return kFormatNames; }

std::optional<HistoryFormat> history_format_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kFormatNames.size(); ++i) {
    if (kFormatNames[i] == name) return static_cast<HistoryFormat>(i);
  }
  return std::nullopt;
}

HistoryResult parse_jepsen_etcd(std::string_view text) {
  return parse_lines(text, ModelKind::register_, parse_jepsen_line);
}

HistoryResult parse_edn_kv(std::string_view text) {
  return parse_lines(text, ModelKind::kv, parse_edn_line);
}

HistoryResult parse_lockstep_history(std::string_view text, std::optional<ModelKind> model) {
  auto parsed = parse_json_strict(text);
  if (const auto* error = std::get_if<JsonError>(&parsed)) return FormatError{0, error->to_string()};
  const nlohmann::json& json = std::get<nlohmann::json>(parsed);
  auto result = read_json([&] {
    JsonReader r(json);
    const JsonReader version = r.require("lockstep_history", "1 (the format version)");
    if (!version.value().is_number_integer() || version.as<std::int64_t>() != kLockstepHistoryVersion) {
      version.fail_expected("1 (the format version)");
    }
    LoadedHistory loaded;
    const std::size_t named = r.required_enum("model", model_names());
    loaded.model = model.value_or(static_cast<ModelKind>(named));
    const std::vector<JsonReader> operations =
        r.require("operations", "an array of operations").as_array();
    for (std::size_t i = 0; i < operations.size(); ++i) {
      JsonReader op_reader = operations[i];
      Operation op = read_operation(op_reader, i);
      if (const auto problem = check_operation(loaded.model, op)) {
        JsonReader field = op_reader.require(problem->field, problem->expected);
        field.fail_expected(fmt::format("{} (the {} model)", problem->expected,
                                        model_name(loaded.model)));
      }
      loaded.history.operations.push_back(std::move(op));
    }
    r.finish();
    return loaded;
  });
  if (const auto* error = std::get_if<JsonError>(&result)) return FormatError{0, error->to_string()};
  return std::get<LoadedHistory>(std::move(result));
}

HistoryResult parse_history(std::string_view text, HistoryFormat format,
                            std::optional<ModelKind> model) {
  if (format == HistoryFormat::lockstep) return parse_lockstep_history(text, model);
  HistoryResult result =
      format == HistoryFormat::jepsen_etcd ? parse_jepsen_etcd(text) : parse_edn_kv(text);
  auto* loaded = std::get_if<LoadedHistory>(&result);
  if (loaded == nullptr || !model) return result;
  loaded->model = *model;
  if (auto error = check_models(loaded->history, *model)) return *error;
  return result;
}

nlohmann::ordered_json operation_to_json(const Operation& op) {
  const auto value = [](const Value& v) -> nlohmann::ordered_json {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
    if (const auto* s = std::get_if<std::string>(&v)) return *s;
    return nullptr;
  };
  nlohmann::ordered_json j;
  j["process"] = op.process;
  if (!op.key.empty()) j["key"] = op.key;
  j["f"] = op.f;
  if (!op.args.empty()) {
    j["args"] = nlohmann::ordered_json::array();
    for (const Value& a : op.args) j["args"].push_back(value(a));
  }
  if (!std::holds_alternative<std::monostate>(op.result)) j["result"] = value(op.result);
  j["outcome"] = outcome_name(op.outcome);
  j["call_ns"] = op.call.count;
  if (op.ret != Nanos::max()) j["return_ns"] = op.ret.count;
  return j;
}

nlohmann::ordered_json history_to_json(const History& history, ModelKind model) {
  nlohmann::ordered_json out;
  out["lockstep_history"] = kLockstepHistoryVersion;
  out["model"] = model_name(model);
  out["operations"] = nlohmann::ordered_json::array();
  for (const Operation& op : history.operations) out["operations"].push_back(operation_to_json(op));
  return out;
}

}  // namespace lockstep::checkers
