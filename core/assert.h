// Always-on assertions. A failed assertion is a bug in Lockstep itself: it prints where, what,
// and both operands, then aborts. Bad input from outside is never asserted on (see STYLE.md 5).
#pragma once

#include <cstdlib>
#include <sstream>
#include <string>
#include <type_traits>

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

// Small trivially copyable operands (indices, times, ids) travel by value, so that an assertion
// on a hot path does not make the compiler keep them in memory just to pass their address to the
// cold failure branch.
template <typename T>
using Operand =
    std::conditional_t<std::is_trivially_copyable_v<T> && sizeof(T) <= 16, T, const T&>;

template <typename A, typename B>
[[noreturn, gnu::cold, gnu::noinline]] void comparison_failed(const char* file, int line,
                                                              const char* expr, Operand<A> a,
                                                              Operand<B> b) {
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
      ::lockstep::detail::comparison_failed<std::remove_cvref_t<decltype(ls_a_)>,                 \
                                            std::remove_cvref_t<decltype(ls_b_)>>(                \
          __FILE__, __LINE__, #a " " #op " " #b, ls_a_, ls_b_);                                    \
  } while (false)

#define LS_ASSERT_EQ(a, b) LS_ASSERT_CMP(a, ==, b)
#define LS_ASSERT_NE(a, b) LS_ASSERT_CMP(a, !=, b)
#define LS_ASSERT_LT(a, b) LS_ASSERT_CMP(a, <, b)
#define LS_ASSERT_LE(a, b) LS_ASSERT_CMP(a, <=, b)
#define LS_ASSERT_GT(a, b) LS_ASSERT_CMP(a, >, b)
#define LS_ASSERT_GE(a, b) LS_ASSERT_CMP(a, >=, b)
