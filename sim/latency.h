// Sampling a LatencyDistribution (sim/config.h): the network's message latency and the disk's
// sync latency share it.
//
// Sampling uses only Rng and portable arithmetic written in latency.cc (no std::
// distributions, no libm exp/log), so the same seed gives the same nanoseconds on every standard
// library and machine. Draws: none for constant, one for uniform and lognormal.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/rng.h"
#include "core/types.h"
#include "sim/config.h"

namespace lockstep::sim {

// No latency may exceed this, so `now + latency + reorder delay` cannot overflow in any run
// shorter than a century.
inline constexpr Nanos kLatencyLimit = seconds(3600);

// Checks a distribution that came from outside. `field` names it in the message ("latency",
// "sync_latency"): "latency.min (9ms) is above latency.max (1ms); ...". nullopt when usable.
std::optional<std::string> validate(std::string_view field, const LatencyDistribution& latency);

// "delay is 2h; it must be between 0s and 1h", or nullopt: the check every delay in a config
// gets.
std::optional<std::string> check_delay(std::string_view field, Nanos delay);

class LatencySampler {
 public:
  // The distribution must pass validate().
  explicit LatencySampler(const LatencyDistribution& distribution);

  // One latency in [0, kLatencyLimit]: constant `value`; uniform in [min, max]; lognormal with
  // median `median` and 99th percentile `p99` (sigma = ln(p99 / median) / z_0.99), clamped to
  // `max`. Inline for the first two: every message and every sync draws one.
  Nanos sample(Rng& rng) const {
    switch (distribution_.kind) {
      case LatencyDistribution::Kind::constant: return distribution_.value;
      case LatencyDistribution::Kind::uniform:
        return Nanos{rng.between(distribution_.min.count, distribution_.max.count)};
      case LatencyDistribution::Kind::lognormal: return sample_lognormal(rng);
    }
    return sample_lognormal(rng);  // not reached: the constructor validated the kind
  }

  const LatencyDistribution& distribution() const { return distribution_; }

 private:
  Nanos sample_lognormal(Rng& rng) const;

  LatencyDistribution distribution_;
  double sigma_ = 0.0;  // lognormal shape
};

}  // namespace lockstep::sim
