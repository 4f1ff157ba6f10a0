#include "checkers/models.h"

#include <array>

#include <fmt/format.h>

#include "checkers/lock_models.h"
#include "checkers/model_support.h"
#include "core/assert.h"

namespace lockstep::checkers {

namespace {

using namespace model_support;

constexpr std::array<std::string_view, 5> kModelNames = {"register", "kv", "lock", "namespace",
                                                        "lock-service"};
constexpr std::size_t kShownStateMax = 60;  // characters of a long string state in messages
constexpr std::uint64_t kStringHashBase = 0x100000001b3ULL;  // odd, so powers never vanish

// Arguments and result common to both models: f is one of `functions`; reads take no arguments
// and the others one or two.
std::optional<OperationProblem> check_shape(const Operation& op, std::string_view model,
                                            std::string_view read_f, bool strings_only) {
  const std::string_view what = strings_only ? "string" : "value";
  const auto arity = [&](std::size_t n, std::string_view expected) -> std::optional<OperationProblem> {
    if (op.args.size() != n) return problem("args", fmt::format("{} for {}", expected, op.f));
    for (const Value& v : op.args) {
      if (strings_only && !is_string(v)) {
        return problem("args", fmt::format("{} (strings) for {}", expected, op.f));
      }
    }
    return std::nullopt;
  };
  if (op.f == read_f) {
    if (auto p = arity(0, "no arguments")) return p;
    if (strings_only && !is_string(op.result) && !is_nil(op.result)) {
      return problem("result", fmt::format("a string or nil for {}", op.f));
    }
    return std::nullopt;
  }
  const bool is_cas = op.f == "cas";
  const bool is_write = op.f == "write" || op.f == "put" || op.f == "append";
  if (!is_cas && !is_write) {
    return problem("f", model == "register" ? "one of read, write, cas" : "one of get, put, append, cas");
  }
  if (auto p = is_cas ? arity(2, "[expected new]") : arity(1, fmt::format("one {}", what))) {
    return p;
  }
  if (!is_nil(op.result)) return problem("result", fmt::format("nil for {} (it returns nothing)", op.f));
  return std::nullopt;
}

std::string shorten(std::string text) {
  if (text.size() <= kShownStateMax) return text;
  return fmt::format("{}... ({} characters)", text.substr(0, kShownStateMax), text.size());
}

}  // namespace

std::span<const std::string_view> model_names() { return kModelNames; }

std::string_view model_name(ModelKind kind) { return kModelNames[static_cast<std::size_t>(kind)]; }

std::optional<ModelKind> model_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kModelNames.size(); ++i) {
    if (kModelNames[i] == name) return static_cast<ModelKind>(i);
  }
  return std::nullopt;
}

std::optional<OperationProblem> check_operation(ModelKind kind, const Operation& op) {
  switch (kind) {
    case ModelKind::register_: return RegisterModel::check(op);
    case ModelKind::kv: return KvModel::check(op);
    case ModelKind::lock: return LockModel::check(op);
    case ModelKind::namespace_: return NamespaceModel::check(op);
    case ModelKind::lock_service:
      return is_lock_function(op.f) ? LockModel::check(op) : NamespaceModel::check(op);
  }
  return problem("f", "a known model");
}

bool is_lock_function(std::string_view f) {
  return f == "acquire" || f == "try_acquire" || f == "campaign" || f == "release" ||
         f == "resign" || f == "expire";
}

ValueTable::ValueTable(Value first) { intern(first); }

std::uint32_t ValueTable::intern(const Value& value) {
  const auto [it, inserted] = ids_.try_emplace(value, static_cast<std::uint32_t>(values_.size()));
  if (inserted) values_.push_back(value);
  return it->second;
}

// ---- register ---------------------------------------------------------------------------------

RegisterModel::RegisterModel(std::string key)
    : key_(std::move(key)), values_(Value{}), write_sets_(1, 0), cas_sets_(1, 0) {}

std::optional<OperationProblem> RegisterModel::check(const Operation& op) {
  if (op.f == "write" || op.f == "read" || op.f == "cas") {
    return check_shape(op, "register", "read", false);
  }
  return problem("f", "one of read, write, cas");
}

std::uint32_t RegisterModel::intern(const Value& value) {
  const std::uint32_t id = values_.intern(value);
  if (id >= write_sets_.size()) {
    write_sets_.resize(id + 1, 0);
    cas_sets_.resize(id + 1, 0);
  }
  return id;
}

Compiled<RegisterModel::Op> RegisterModel::compile(const Operation& op) {
  LS_ASSERT_MSG(!check(op).has_value(), op.f);
  using Code = Op::Code;
  if (op.f == "read") {
    // A read that failed or whose result never arrived observed nothing.
    if (op.outcome != Outcome::ok) return {};
    return {Op{Code::read, intern(op.result), 0}, Role::observe};
  }
  if (op.f == "write") {
    if (op.outcome == Outcome::failed) return {};
    const std::uint32_t value = intern(op.args[0]);
    write_sets_[value] = 1;
    return {Op{Code::write, value, 0}, Role::reset};
  }
  const std::uint32_t expected = intern(op.args[0]);
  const std::uint32_t replacement = intern(op.args[1]);
  if (op.outcome != Outcome::failed) cas_sets_[replacement] = 1;
  switch (op.outcome) {
    case Outcome::ok: return {Op{Code::cas_ok, expected, replacement}, Role::update};
    case Outcome::failed: return {Op{Code::cas_failed, expected, 0}, Role::observe};
    case Outcome::unknown: return {Op{Code::cas_unknown, expected, replacement}, Role::update};
  }
  return {};
}

std::string RegisterModel::describe_state(State state) const {
  return describe_value(values_.value(state));
}

std::string RegisterModel::describe_need(const Op& op) const {
  const std::string name = key_.empty() ? "the register" : fmt::format("register {}", describe_value(key_));
  switch (op.code) {
    case Op::Code::read:
    case Op::Code::cas_ok: return fmt::format("{} to be {}", name, describe_state(op.a));
    case Op::Code::cas_failed: return fmt::format("{} not to be {}", name, describe_state(op.a));
    case Op::Code::write:
    case Op::Code::cas_unknown: break;
  }
  return "nothing (it fits any state)";
}

// ---- key-value ----------------------------------------------------------------------------------

KvModel::KvModel(std::string key) : key_(std::move(key)) { nodes_.push_back(Node{}); }

std::optional<OperationProblem> KvModel::check(const Operation& op) {
  if (op.f == "get" || op.f == "put" || op.f == "append" || op.f == "cas") {
    return check_shape(op, "kv", "get", true);
  }
  return problem("f", "one of get, put, append, cas");
}

std::uint32_t KvModel::piece(const std::string& text) {
  const auto [it, inserted] = piece_ids_.try_emplace(text, static_cast<std::uint32_t>(pieces_.size()));
  if (inserted) {
    Piece p{text, 0, 1};
    for (const char c : text) {
      p.hash = p.hash * kStringHashBase + static_cast<unsigned char>(c);
      p.base_power *= kStringHashBase;
    }
    pieces_.push_back(std::move(p));
  }
  return it->second;
}

std::uint32_t KvModel::node(std::uint32_t parent, std::uint32_t piece_id) {
  const Piece& p = pieces_[piece_id];
  if (p.text.empty()) return parent;
  const std::uint64_t hash = nodes_[parent].hash * p.base_power + p.hash;
  const std::uint64_t length = nodes_[parent].length + p.text.size();
  for (std::uint64_t attempt = 0;; ++attempt) {
    const std::uint64_t content = mix64(hash ^ mix64(length + (attempt << 40)));
    const std::uint32_t found = by_content_.find(content);
    if (found == FlatMap64::kMissing) {
      LS_ASSERT_LT(nodes_.size(), std::size_t{FlatMap64::kMissing});
      const auto id = static_cast<std::uint32_t>(nodes_.size());
      nodes_.push_back(Node{parent, piece_id, length, hash});
      by_content_.insert(content, id);
      return id;
    }
    const Node& other = nodes_[found];
    if (other.hash == hash && other.length == length && text(found) == text(parent) + p.text) {
      return found;
    }
  }
}

std::uint32_t KvModel::append(State state, std::uint32_t piece_id) {
  const std::uint32_t id = node(state, piece_id);
  appended_.insert((std::uint64_t{state} << 32) | piece_id, id);
  return id;
}

std::string KvModel::text(std::uint32_t id) const {
  std::vector<std::uint32_t> chain;
  for (; id != 0; id = nodes_[id].parent) chain.push_back(nodes_[id].piece);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) out += pieces_[*it].text;
  return out;
}

Compiled<KvModel::Op> KvModel::compile(const Operation& op) {
  LS_ASSERT_MSG(!check(op).has_value(), op.f);
  using Code = Op::Code;
  const auto string_of = [](const Value& v) {
    return is_nil(v) ? std::string() : std::get<std::string>(v);
  };
  if (op.f == "get") {
    if (op.outcome != Outcome::ok) return {};
    const std::string result = string_of(op.result);
    std::vector<std::uint64_t> prefixes(1, 0);
    for (const char c : result) {
      prefixes.push_back(prefixes.back() * kStringHashBase + static_cast<unsigned char>(c));
    }
    get_prefix_hashes_.push_back(std::move(prefixes));
    const auto index = static_cast<std::uint32_t>(get_prefix_hashes_.size() - 1);
    return {Op{Code::get, node(0, piece(result)), index}, Role::observe};
  }
  if (op.f == "put" || op.f == "append") {
    if (op.outcome == Outcome::failed) return {};
    const std::uint32_t p = piece(string_of(op.args[0]));
    return op.f == "put" ? Compiled<Op>{Op{Code::put, node(0, p), 0}, Role::reset}
                         : Compiled<Op>{Op{Code::append, p, 0}, Role::update};
  }
  const std::uint32_t expected = node(0, piece(string_of(op.args[0])));
  const std::uint32_t replacement = node(0, piece(string_of(op.args[1])));
  if (op.outcome != Outcome::failed) has_cas_ = true;
  switch (op.outcome) {
    case Outcome::ok: return {Op{Code::cas_ok, expected, replacement}, Role::update};
    case Outcome::failed: return {Op{Code::cas_failed, expected, 0}, Role::observe};
    case Outcome::unknown: return {Op{Code::cas_unknown, expected, replacement}, Role::update};
  }
  return {};
}

std::string KvModel::describe_state(State state) const {
  return shorten(describe_value(text(state)));
}

std::string KvModel::describe_need(const Op& op) const {
  const std::string name = fmt::format("key {}", describe_value(key_));
  switch (op.code) {
    case Op::Code::get:
    case Op::Code::cas_ok: return fmt::format("{} to be {}", name, describe_state(op.a));
    case Op::Code::cas_failed: return fmt::format("{} not to be {}", name, describe_state(op.a));
    case Op::Code::put:
    case Op::Code::append:
    case Op::Code::cas_unknown: break;
  }
  return "nothing (it fits any state)";
}

}  // namespace lockstep::checkers
