#include "sim/trace.h"

#include <array>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "sim/network.h"

namespace lockstep::sim {

namespace {

struct KindInfo {
  std::string_view name;
  std::string_view a;  // JSON key for field a, empty when unused
  std::string_view b;
  bool a_signed = false;
};

constexpr std::array<KindInfo, static_cast<std::size_t>(TraceKind::count_)> kKinds{{
    {"start", "incarnation", ""},
    {"crash", "", ""},
    {"pause", "", ""},
    {"resume", "", ""},
    {"send", "to", "bytes"},
    {"deliver", "from", "bytes"},
    {"drop", "to", "reason"},
    {"duplicate", "to", "bytes"},
    {"timer", "timer", ""},
    {"clock_jump", "delta_ns", "", true},
    {"clock_drift", "drift_ppb", "", true},
    {"partition", "", ""},
    {"heal", "", ""},
    {"clog", "from", "to"},
    {"disk_sync", "", "bytes"},
    {"disk_corrupt", "bit", ""},
    {"fiber_wake", "fiber", ""},
    {"note", "", ""},
    {"fault", "", ""},
    {"hold", "to", "until_ns"},
    {"disk_loss", "bytes_lost", "syncs_cut"},
}};

}  // namespace

std::string_view to_string(TraceKind kind) {
  return kKinds[static_cast<std::size_t>(kind)].name;
}

std::uint64_t Trace::hash_bytes(std::string_view s) { return fnv1a64(s); }

void Trace::write_json(Nanos time, std::uint32_t node, TraceKind kind, std::uint64_t a,
                       std::uint64_t b, std::string_view detail) {
  const KindInfo& info = kKinds[static_cast<std::size_t>(kind)];
  nlohmann::ordered_json line;
  line["t_ns"] = time.count;
  line["node"] = node;
  line["kind"] = info.name;
  if (!info.a.empty()) {
    if (info.a_signed) {
      line[std::string(info.a)] = static_cast<std::int64_t>(a);
    } else {
      line[std::string(info.a)] = a;
    }
  }
  if (kind == TraceKind::drop && b < kDropReasonCount) {
    line[std::string(info.b)] = to_string(static_cast<DropReason>(b));
  } else if (!info.b.empty()) {
    line[std::string(info.b)] = b;
  }
  if (!detail.empty()) line["detail"] = detail;
  *sink_ << line.dump() << '\n';
}

}  // namespace lockstep::sim
