#include "service/lock/lock_path.h"

#include <array>
#include <cstddef>
#include <cstdint>

#include "core/assert.h"

namespace lockstep::service::lock {

namespace {

constexpr std::string_view kPrefix = "/ls/";

// The characters a name may hold: letters, digits, '.', '_' and '-'. A table, since every path
// of every command is checked character by character; it also marks the separator, so that
// valid_path tells the three cases apart with one load per character.
enum CharClass : std::uint8_t { kOther = 0, kNameChar = 1, kSlash = 2 };
constexpr std::array<CharClass, 256> kCharClass = [] {
  std::array<CharClass, 256> table{};
  for (int c = 0; c < 256; ++c) {
    const bool name = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-';
    table[static_cast<std::size_t>(c)] = name ? kNameChar : c == '/' ? kSlash : kOther;
  }
  return table;
}();

CharClass class_of(char c) { return kCharClass[static_cast<unsigned char>(c)]; }
bool valid_char(char c) { return class_of(c) == kNameChar; }

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
  const char* const end = rest.data() + rest.size();
  const char* start = rest.data();  // of the component being read
  for (const char* at = start;; ++at) {
    if (at != end) {
      const CharClass c = class_of(*at);
      if (c == kNameChar) continue;
      if (c == kOther) return false;
    }
    // A component ends at `at` (a '/' or the end): not empty, "." or "..". Tested on the length
    // and characters: string_view's == compares through memcmp.
    const std::size_t length = static_cast<std::size_t>(at - start);
    if (length == 0 || (length <= 2 && start[0] == '.' && (length == 1 || start[1] == '.'))) {
      return false;
    }
    if (++depth > config.path_depth_max) return false;
    if (at == end) return true;
    start = at + 1;
  }
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
