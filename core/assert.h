// Always-on assertions. A failed assertion is a bug in Lockstep itself: it prints where, what,
// and both operands, then aborts. Bad input from outside is never asserted on (see STYLE.md 5).
#pragma once

#include <cstdlib>
#include <sstream>
#include <string>

namespace lockstep::detail {

[[noreturn]] void assertion_failed(const char* file, int line, const char* expr,
                                   const std::string& detail);

template <typename T>
std::string describe(const T& value) {
  if constexpr (requires(std::ostream& os) { os << value; }) {
    std::ostringstream os;
    os << value;
    return os.str();
  } else {
    return "<unprintable>";
  }
}

template <typename A, typename B>
[[noreturn]] void comparison_failed(const char* file, int line, const char* expr, const A& a,
                                    const B& b) {
  assertion_failed(file, line, expr, "left = " + describe(a) + ", right = " + describe(b));
}

}  // namespace lockstep::detail

#define LS_ASSERT(cond)                                                           \
  do {                                                                            \
    if (!(cond)) [[unlikely]]                                                     \
      ::lockstep::detail::assertion_failed(__FILE__, __LINE__, #cond, {});        \
  } while (false)

#define LS_ASSERT_MSG(cond, msg)                                                  \
  do {                                                                            \
    if (!(cond)) [[unlikely]]                                                     \
      ::lockstep::detail::assertion_failed(__FILE__, __LINE__, #cond, (msg));     \
  } while (false)

#define LS_ASSERT_CMP(a, op, b)                                                            \
  do {                                                                                     \
    const auto& ls_a_ = (a);                                                               \
    const auto& ls_b_ = (b);                                                               \
    if (!(ls_a_ op ls_b_)) [[unlikely]]                                                    \
      ::lockstep::detail::comparison_failed(__FILE__, __LINE__, #a " " #op " " #b, ls_a_, ls_b_); \
  } while (false)

#define LS_ASSERT_EQ(a, b) LS_ASSERT_CMP(a, ==, b)
#define LS_ASSERT_NE(a, b) LS_ASSERT_CMP(a, !=, b)
#define LS_ASSERT_LT(a, b) LS_ASSERT_CMP(a, <, b)
#define LS_ASSERT_LE(a, b) LS_ASSERT_CMP(a, <=, b)
#define LS_ASSERT_GT(a, b) LS_ASSERT_CMP(a, >, b)
#define LS_ASSERT_GE(a, b) LS_ASSERT_CMP(a, >=, b)
