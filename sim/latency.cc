#include "sim/latency.h"

#include <array>
#include <cmath>

#include "core/assert.h"
#include "core/duration.h"

namespace lockstep::sim {
namespace {

// Portable math for latency sampling. libm's exp and log may differ in the last bit between
// library versions, which would change a rounded nanosecond now and then and break "same seed,
// same trace" across machines. These use only +, -, *, / (correctly rounded by IEEE 754, as long
// as the compiler does not fuse a * b + c: GCC does not in ISO mode, -std=c++20; Clang is told
// below), sqrt (correctly rounded) and frexp/ldexp (exact).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
constexpr double kLn2 = 0.6931471805599453094;
// ln 2 = kLn2High + kLn2Low, kLn2High with its low 17 bits zero (Cody & Waite), so k * kLn2High
// is exact for every k that portable_exp meets.
constexpr double kLn2High = 0x1.62e42fefa0000p-1;
constexpr double kLn2Low = 0x1.cf79abc9e3b3ap-40;
constexpr double kSqrtHalf = 0.7071067811865475244;
// The standard normal's 99th percentile: a lognormal's p99 is median * exp(sigma * kZ99).
constexpr double kZ99 = 2.3263478740408408;

// Coefficients of the series below, computed at compile time (IEEE division is exact-rounded,
// so the table is the same on every compiler) to keep divisions off the hot path.
constexpr std::array<double, 16> kInverseFactorial = [] {
  std::array<double, 16> t{};
  double f = 1.0;
  for (std::size_t n = 0; n < t.size(); ++n) {
    if (n > 0) f *= static_cast<double>(n);
    t[n] = 1.0 / f;
  }
  return t;
}();
constexpr std::array<double, 12> kInverseOdd = [] {
  std::array<double, 12> t{};
  for (std::size_t k = 0; k < t.size(); ++k) t[k] = 1.0 / static_cast<double>(2 * k + 1);
  return t;
}();

// Natural log for x > 0: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
// ln(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...) with s = (m - 1) / (m + 1), |s| < 0.172;
// twelve terms leave an error below 1e-19.
double portable_log(double x) {
  LS_ASSERT(x > 0.0);
  int exponent = 0;
  double m = std::frexp(x, &exponent);
  if (m < kSqrtHalf) {
    m *= 2.0;
    --exponent;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double sum = kInverseOdd.back();
  for (std::size_t k = kInverseOdd.size() - 1; k-- > 0;) sum = sum * s2 + kInverseOdd[k];
  return static_cast<double>(exponent) * kLn2 + 2.0 * s * sum;
}

// e^x: x = k ln2 + r with |r| <= ln2 / 2 (ln2 split in two so that k ln2 is exact), e^r by its
// Taylor series (16 terms leave an error below 1e-17), then scaled by 2^k.
double portable_exp(double x) {
  if (x > 709.0) return HUGE_VAL;
  if (x < -745.0) return 0.0;
  const double k = std::floor(x / kLn2 + 0.5);
  const double r = (x - k * kLn2High) - k * kLn2Low;
  // Even and odd terms as two independent Horner chains in r^2: half the latency of one chain.
  const double r2 = r * r;
  double even = kInverseFactorial[14];
  double odd = kInverseFactorial[15];
  for (std::size_t n = 14; n >= 2; n -= 2) {
    even = even * r2 + kInverseFactorial[n - 2];
    odd = odd * r2 + kInverseFactorial[n - 1];
  }
  return std::ldexp(even + r * odd, static_cast<int>(k));
}

// The standard normal quantile for p in (0, 1): Acklam's rational approximation (relative error
// below 1.2e-9, far finer than a nanosecond of latency).
double normal_quantile(double p) {
  LS_ASSERT(p > 0.0 && p < 1.0);
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  const auto tail = [&](double q) {
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0);
  };
  if (p < p_low) return tail(std::sqrt(-2.0 * portable_log(p)));
  if (p > 1.0 - p_low) return -tail(std::sqrt(-2.0 * portable_log(1.0 - p)));
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0);
}

}  // namespace

std::optional<std::string> check_delay(std::string_view field, Nanos delay) {
  if (delay >= Nanos::zero() && delay <= kLatencyLimit) return std::nullopt;
  return std::string(field) + " is " + format_duration(delay) + "; it must be between 0s and " +
         format_duration(kLatencyLimit);
}

std::optional<std::string> validate(std::string_view field, const LatencyDistribution& l) {
  const std::string f(field);
  switch (l.kind) {
    case LatencyDistribution::Kind::constant:
      return check_delay(f + ".value", l.value);
    case LatencyDistribution::Kind::uniform:
      if (auto error = check_delay(f + ".min", l.min)) return error;
      if (auto error = check_delay(f + ".max", l.max)) return error;
      if (l.min > l.max) {
        return f + ".min (" + format_duration(l.min) + ") is above " + f + ".max (" +
               format_duration(l.max) + "); a uniform latency needs min <= max";
      }
      return std::nullopt;
    case LatencyDistribution::Kind::lognormal:
      if (auto error = check_delay(f + ".median", l.median)) return error;
      if (auto error = check_delay(f + ".p99", l.p99)) return error;
      if (auto error = check_delay(f + ".max", l.max)) return error;
      if (l.median <= Nanos::zero()) {
        return f + ".median is 0s; a lognormal latency needs a median above 0";
      }
      if (l.p99 < l.median || l.max < l.median) {
        return "a lognormal latency needs median <= p99 and median <= max; found median " +
               format_duration(l.median) + ", p99 " + format_duration(l.p99) + ", max " +
               format_duration(l.max);
      }
      return std::nullopt;
  }
  return f + ".kind is not one of constant, uniform, lognormal";
}

LatencySampler::LatencySampler(const LatencyDistribution& distribution)
    : distribution_(distribution) {
  const std::optional<std::string> error = validate("latency", distribution_);
  LS_ASSERT_MSG(!error, *error);
  if (distribution_.kind == LatencyDistribution::Kind::lognormal) {
    sigma_ = portable_log(static_cast<double>(distribution_.p99.count) /
                          static_cast<double>(distribution_.median.count)) /
             kZ99;
  }
}

Nanos LatencySampler::sample_lognormal(Rng& rng) const {
  const LatencyDistribution& l = distribution_;
  LS_ASSERT_MSG(l.kind == LatencyDistribution::Kind::lognormal, "unknown latency kind");
  // unit() is in [0, 1); the half-step shift keeps p strictly inside (0, 1).
  const double p = rng.unit() + 0x1.0p-54;
  const double x = static_cast<double>(l.median.count) * portable_exp(sigma_ * normal_quantile(p));
  if (!(x < static_cast<double>(l.max.count))) return l.max;
  return Nanos{static_cast<std::int64_t>(x + 0.5)};
}

}  // namespace lockstep::sim
