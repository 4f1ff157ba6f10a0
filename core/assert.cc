#include "core/assert.h"

#include <cstdio>

namespace lockstep::detail {

void assertion_failed(const char* file, int line, const char* expr, const std::string& detail) {
  std::fprintf(stderr, "lockstep: internal error (a bug in Lockstep, please report it)\n");
  std::fprintf(stderr, "  assertion failed: %s\n  at %s:%d\n", expr, file, line);
  if (!detail.empty()) std::fprintf(stderr, "  %s\n", detail.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace lockstep::detail
