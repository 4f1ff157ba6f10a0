#include "reports/run_report.h"

#include <fstream>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "core/duration.h"

namespace lockstep::reports {

namespace {

// The row of the leader-change expectation, beside the properties.
constexpr std::string_view kLeadershipRow = "leadership";

std::string hash_text(std::uint64_t hash) { return fmt::format("{:016x}", hash); }

std::string faults_line(const harness::RunResult& r) {
  std::string line = fmt::format("{} applied", r.faults_applied);
  const std::size_t skipped = r.faults.size() - r.faults_applied;
  if (skipped > 0) line += fmt::format(", {} skipped", skipped);
  if (!r.nemesis.empty()) line += " (" + r.nemesis + ")";
  return line;
}

}  // namespace

void print_summary(std::ostream& out, const harness::RunResult& r, std::string_view file) {
  out << fmt::format("scenario   {} ({})\n", r.scenario, file);
  out << fmt::format("protocol   {}   seed {}\n", r.protocol, r.seed);
  out << fmt::format("simulated  {} ({} run + settle){}\n", format_duration(r.simulated),
                     format_duration(r.duration),
                     r.stop == sim::StopReason::time_reached
                         ? ""
                         : fmt::format(", stopped early: {}", sim::to_string(r.stop)));
  out << fmt::format("events     {}\n", r.events);
  out << fmt::format("messages   {} sent, {} delivered, {} bytes\n", r.messages_sent,
                     r.messages_delivered, r.bytes_sent);
  out << fmt::format("faults     {}\n", faults_line(r));
  out << fmt::format("leaders    {} leader changes\n", r.leader_changes);
  out << fmt::format("clients    {} clients, {} calls: {} ok, {} unknown; latency p50 {} p99 {} max {}\n",
                     r.clients.clients, r.clients.calls, r.clients.ok, r.clients.unknown,
                     format_duration_approx(r.clients.latency_p50),
                     format_duration_approx(r.clients.latency_p99),
                     format_duration_approx(r.clients.latency_max));
  for (const auto& [op, l] : r.clients.operations) {
    out << fmt::format("           {:<14} {:>7} ok; p50 {} p99 {} max {}\n", op, l.count,
                       format_duration_approx(l.p50), format_duration_approx(l.p99),
                       format_duration_approx(l.max));
  }
  out << fmt::format("trace      hash {}\n\n", hash_text(r.trace_hash));
  out << fmt::format("  {:<17} {:<8} {}\n", "property", "verdict", "detail");
  for (const harness::PropertyVerdict& p : r.properties) {
    out << fmt::format("  {:<17} {:<8} {}\n", harness::property_name(p.property),
                       harness::to_string(p.verdict), p.detail);
  }
  if (r.leadership) {
    out << fmt::format("  {:<17} {:<8} {}\n", kLeadershipRow,
                       harness::to_string(r.leadership->verdict), r.leadership->detail);
  }
  out << fmt::format("\noutcome    {} (expected {}): {}\n", r.observed, r.expected,
                     r.as_expected ? "as expected" : "NOT AS EXPECTED");
}

nlohmann::ordered_json to_json(const harness::RunResult& r) {
  nlohmann::ordered_json j;
  j["scenario"] = r.scenario;
  j["protocol"] = r.protocol;
  j["seed"] = r.seed;
  j["duration_ns"] = r.duration.count;
  j["simulated_ns"] = r.simulated.count;
  j["stop"] = sim::to_string(r.stop);
  j["events"] = r.events;
  j["messages_sent"] = r.messages_sent;
  j["messages_delivered"] = r.messages_delivered;
  j["bytes_sent"] = r.bytes_sent;
  j["trace_hash"] = hash_text(r.trace_hash);
  j["leader_changes"] = r.leader_changes;
  j["nemesis"] = r.nemesis;
  auto& faults = j["faults"] = nlohmann::ordered_json::array();
  for (const auto& f : r.faults) {
    faults.push_back({{"at_ns", f.at.count}, {"description", f.description}, {"skipped", f.skipped}});
  }
  j["clients"] = {{"clients", r.clients.clients},
                  {"calls", r.clients.calls},
                  {"ok", r.clients.ok},
                  {"unknown", r.clients.unknown},
                  {"latency_p50_ns", r.clients.latency_p50.count},
                  {"latency_p99_ns", r.clients.latency_p99.count},
                  {"latency_max_ns", r.clients.latency_max.count}};
  auto& operations = j["clients"]["operations"] = nlohmann::ordered_json::object();
  for (const auto& [op, l] : r.clients.operations) {
    operations[op] = {{"ok", l.count},
                      {"latency_p50_ns", l.p50.count},
                      {"latency_p99_ns", l.p99.count},
                      {"latency_max_ns", l.max.count}};
  }
  auto& props = j["properties"] = nlohmann::ordered_json::array();
  for (const auto& p : r.properties) {
    props.push_back({{"property", harness::property_name(p.property)},
                     {"verdict", harness::to_string(p.verdict)},
                     {"detail", p.detail}});
  }
  if (r.leadership) {
    j["leadership"] = {{"verdict", harness::to_string(r.leadership->verdict)},
                       {"leader_changes", r.leadership->leader_changes},
                       {"detail", r.leadership->detail}};
  }
  j["expected"] = r.expected;
  j["observed"] = r.observed;
  j["as_expected"] = r.as_expected;
  return j;
}

std::optional<std::string> write_run_report(const std::filesystem::path& dir,
                                            const harness::RunResult& r, std::string_view file) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("{}: cannot create the report directory: {}", dir.string(), ec.message());
  const auto write = [&](const std::filesystem::path& path,
                         const std::string& text) -> std::optional<std::string> {
    std::ofstream out(path);
    out << text;
    out.close();
    if (!out) return fmt::format("{}: cannot write the report file", path.string());
    return std::nullopt;
  };
  if (auto e = write(dir / "summary.json", to_json(r).dump(2) + "\n")) return e;
  std::string md = fmt::format("# {} over {} (seed {})\n\n", r.scenario, r.protocol, r.seed);
  md += fmt::format("**Outcome:** {} (expected {}) — {}\n\n", r.observed, r.expected,
                    r.as_expected ? "as expected" : "**not as expected**");
  md += "| property | verdict | detail |\n|---|---|---|\n";
  for (const auto& p : r.properties) {
    md += fmt::format("| {} | {} | {} |\n", harness::property_name(p.property),
                      harness::to_string(p.verdict), p.detail);
  }
  if (r.leadership) {
    md += fmt::format("| {} | {} | {} |\n", kLeadershipRow,
                      harness::to_string(r.leadership->verdict), r.leadership->detail);
  }
  md += fmt::format(
      "\n| run | |\n|---|---|\n| scenario file | `{}` |\n| simulated | {} |\n| events | {} |\n"
      "| messages | {} sent, {} delivered |\n| leader changes | {} |\n| trace hash | `{}` |\n",
      file, format_duration(r.simulated), r.events, r.messages_sent, r.messages_delivered,
      r.leader_changes, hash_text(r.trace_hash));
  if (!r.faults.empty()) {
    md += "\n## Faults\n\n| at | fault |\n|---|---|\n";
    for (const auto& f : r.faults) {
      md += fmt::format("| {} | {}{} |\n", format_duration(f.at), f.description,
                        f.skipped ? " (skipped)" : "");
    }
  }
  return write(dir / "summary.md", md);
}

}  // namespace lockstep::reports
