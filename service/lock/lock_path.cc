#include "service/lock/lock_path.h"

#include <array>
#include <cstddef>

#include "core/assert.h"

namespace lockstep::service::lock {

namespace {

constexpr std::string_view kPrefix = "/ls/";

// The characters a name may hold: letters, digits, '.', '_' and '-'. A table, since every path
// of every command is checked character by character.
constexpr std::array<bool, 256> kNameChars = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                         (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                                         c == '-';
  }
  return table;
}();

bool valid_char(char c) { return kNameChars[static_cast<unsigned char>(c)]; }

}  // namespace

std::string cell_root(const LockConfig& config) { return std::string(kPrefix) + config.cell; }

bool valid_component(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    if (!valid_char(c)) return false;
  }
  return true;
}

// One pass over the characters: every command's path is checked on every replica, and splitting
// it into components first (a search for each '/', then a second look at each name) cost twice
// as much.
bool valid_path(std::string_view path, const LockConfig& config) {
  if (path.size() > config.path_bytes_max) return false;
  if (!path.starts_with(kPrefix)) return false;
  std::string_view rest = path.substr(kPrefix.size());
  if (!rest.starts_with(config.cell)) return false;
  if (rest.size() == config.cell.size()) return true;  // the cell root
  if (rest[config.cell.size()] != '/') return false;
  rest.remove_prefix(config.cell.size() + 1);
  std::size_t depth = 0;
  std::size_t start = 0;  // of the component being read
  for (std::size_t i = 0; i <= rest.size(); ++i) {
    if (i < rest.size() && rest[i] != '/') {
      if (!valid_char(rest[i])) return false;
      continue;
    }
    const std::string_view name = rest.substr(start, i - start);
    if (name.empty() || name == "." || name == "..") return false;
    if (++depth > config.path_depth_max) return false;
    start = i + 1;
  }
  return true;
}

bool is_cell_root(std::string_view path, const LockConfig& config) {
  return path.size() == kPrefix.size() + config.cell.size() && path.starts_with(kPrefix) &&
         path.substr(kPrefix.size()) == config.cell;
}

std::string_view parent_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  LS_ASSERT(slash != std::string_view::npos && slash > 0);
  return path.substr(0, slash);
}

std::string_view name_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  LS_ASSERT(slash != std::string_view::npos);
  return path.substr(slash + 1);
}

bool is_within(std::string_view path, std::string_view ancestor) {
  return path.starts_with(ancestor) &&
         (path.size() == ancestor.size() || path[ancestor.size()] == '/');
}

}  // namespace lockstep::service::lock
