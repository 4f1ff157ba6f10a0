// Chubby-style node names: "/ls/<cell>" is the cell's root (it always exists), and every other
// node is "/ls/<cell>/c1/.../cn". Components are 1+ characters of [A-Za-z0-9._-], never "." or
// ".."; the whole path is at most path_bytes_max bytes and n is at most path_depth_max.
#pragma once

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

}  // namespace lockstep::service::lock
