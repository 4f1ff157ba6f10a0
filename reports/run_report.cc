#include "reports/run_report.h"

#include <fstream>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "core/assert.h"
#include "core/duration.h"
#include "reports/html.h"
#include "reports/msc.h"
#include "reports/run_metrics.h"
#include "reports/run_plots.h"
#include "reports/svg_plot.h"

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

std::string counted(std::uint64_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}

// What crashes took from the servers' disks (sim/world.h): a reader reproducing a durability or
// torn-write bug looks here first.
std::string disk_line(const harness::RunResult& r) {
  if (r.crashes_losing_unsynced == 0 && r.crashes_in_sync_window == 0) {
    return "no crash found unsynced data";
  }
  std::string line = fmt::format("{} found unsynced data, {} cut a sync short: {} lost, {}",
                                 counted(r.crashes_losing_unsynced, "crash", "crashes"),
                                 r.crashes_in_sync_window,
                                 counted(r.unsynced_bytes_lost, "byte", "bytes"),
                                 counted(r.torn_tails, "torn tail", "torn tails"));
  if (r.messages_lost_in_crash > 0) {
    line += fmt::format("; {} waiting on a sync died with their sender",
                        counted(r.messages_lost_in_crash, "message", "messages"));
  }
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
  out << fmt::format("disk       {}\n", disk_line(r));
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
  j["disk"] = {{"crashes_losing_unsynced", r.crashes_losing_unsynced},
               {"crashes_in_sync_window", r.crashes_in_sync_window},
               {"unsynced_bytes_lost", r.unsynced_bytes_lost},
               {"torn_tails", r.torn_tails},
               {"messages_lost_in_crash", r.messages_lost_in_crash}};
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

std::string ms_text(std::optional<Nanos> d) {
  if (!d) return "-";
  return fmt::format("{:.1f}ms", d->millis());
}

std::string percent_text(std::optional<double> fraction) {
  if (!fraction) return "-";
  return fmt::format("{:.1f}%", *fraction * 100);
}

bool any_failed(const harness::RunResult& r) {
  for (const auto& p : r.properties) {
    if (p.verdict == harness::Verdict::fail) return true;
  }
  return r.leadership && r.leadership->verdict == harness::Verdict::fail;
}

std::optional<std::string> write_text_file(const std::filesystem::path& path,
                                           const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return fmt::format("{}: cannot write the report file", path.string());
  return std::nullopt;
}

std::variant<ViolationDiagram, std::string> write_violation_diagram(
    const std::filesystem::path& dir, const harness::RunResult& r, std::string_view stem) {
  LS_ASSERT(r.timeline.has_value());
  const harness::RunTimeline& t = *r.timeline;
  const std::string what =
      t.violation_at
          ? fmt::format("the last {} message and fault events before the invariant broke",
                        t.window.size())
          : fmt::format("the last {} message and fault events of the run (the failed property "
                        "was judged at the end, so the window shows how the run ended, not "
                        "necessarily where it went wrong)",
                        t.window.size());
  const std::string title = fmt::format("{} over {}, seed {}: {}", r.scenario, r.protocol, r.seed,
                                        r.observed);
  const std::filesystem::path dot = dir / fmt::format("{}.dot", stem);
  const std::filesystem::path svg = dir / fmt::format("{}.svg", stem);
  if (auto e = write_text_file(dot, message_sequence_dot(t, title))) return *e;
  ViolationDiagram out;
  if (const auto problem = render_dot(dot, svg)) {
    out.note = fmt::format("{}.dot: {}; not rendered: {}", stem, what, *problem);
    return out;
  }
  std::ifstream in(svg, std::ios::binary);
  out.svg.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  out.note = fmt::format("{}.dot and {}.svg: {}", stem, stem, what);
  return out;
}

namespace {

// Text for a markdown table cell: a '|' would end the cell.
std::string md_cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::vector<std::vector<Cell>> verdict_rows(const harness::RunResult& r) {
  std::vector<std::vector<Cell>> rows;
  for (const auto& p : r.properties) {
    const std::string verdict(harness::to_string(p.verdict));
    rows.push_back({std::string(harness::property_name(p.property)),
                    Cell(verdict, std::string(verdict_class(verdict))), p.detail});
  }
  if (r.leadership) {
    const std::string verdict(harness::to_string(r.leadership->verdict));
    rows.push_back({std::string(kLeadershipRow), Cell(verdict, std::string(verdict_class(verdict))),
                    r.leadership->detail});
  }
  return rows;
}

std::vector<std::pair<std::string, std::string>> run_facts(const harness::RunResult& r,
                                                           std::string_view file) {
  return {
      {"scenario file", std::string(file)},
      {"simulated", fmt::format("{} ({} run + settle){}", format_duration(r.simulated),
                                format_duration(r.duration),
                                r.stop == sim::StopReason::time_reached
                                    ? ""
                                    : fmt::format(", stopped early: {}", sim::to_string(r.stop)))},
      {"events", fmt::format("{}", r.events)},
      {"messages", fmt::format("{} sent, {} delivered, {} bytes", r.messages_sent,
                               r.messages_delivered, r.bytes_sent)},
      {"faults", faults_line(r)},
      {"disk", disk_line(r)},
      {"leader changes", fmt::format("{}", r.leader_changes)},
      {"clients", fmt::format("{} clients, {} calls: {} ok, {} unknown", r.clients.clients,
                              r.clients.calls, r.clients.ok, r.clients.unknown)},
      {"trace hash", hash_text(r.trace_hash)},
  };
}

std::string episode_text(const FailoverEpisode& e) {
  const std::string from = fmt::format("n{} term {}", e.old_leader.value, e.old_term);
  if (!e.settled_at) {
    return fmt::format("{} lost at {:.3f}s, no leader settled by the end", from,
                       e.lost_at.seconds());
  }
  return fmt::format("{}: {} lost at {:.3f}s, n{} term {} heard by every live server at {:.3f}s",
                     ms_text(e.took()), from, e.lost_at.seconds(), e.new_leader->value, e.new_term,
                     e.settled_at->seconds());
}

}  // namespace

std::vector<std::pair<std::string, std::string>> metric_rows(const RunMetrics& m) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back(
      "availability",
      fmt::format("{} ({} of {} buckets of {} with client demand saw a commit)",
                  percent_text(m.availability.fraction()), m.availability.available_buckets,
                  m.availability.demand_buckets, format_duration(kAvailabilityBucket)));
  std::string failovers = m.failovers.empty() ? "none" : "";
  for (const FailoverEpisode& e : m.failovers) {
    if (!failovers.empty()) failovers += "; ";
    failovers += episode_text(e);
  }
  rows.emplace_back("failovers", failovers);
  rows.emplace_back("client latency",
                    fmt::format("p50 {} p99 {} max {} ({} calls that do not wait)",
                                ms_text(m.latency.p50), ms_text(m.latency.p99),
                                ms_text(m.latency.max), m.latency.count));
  rows.emplace_back("throughput", fmt::format("{:.1f} successful calls per simulated second",
                                              m.throughput_per_s));
  rows.emplace_back(
      "cost per commit",
      m.messages_per_commit
          ? fmt::format("{:.1f} messages, {:.0f} bytes per committed entry ({} entries)",
                        *m.messages_per_commit, *m.bytes_per_commit, m.committed)
          : std::string("nothing committed"));
  return rows;
}

std::vector<double> failover_ms(const std::vector<FailoverEpisode>& episodes) {
  std::vector<double> out;
  for (const FailoverEpisode& e : episodes) {
    if (e.took()) out.push_back(e.took()->millis());
  }
  return out;
}

std::optional<std::string> write_run_report(const std::filesystem::path& dir,
                                            const harness::RunResult& r, std::string_view file) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("{}: cannot create the report directory: {}", dir.string(), ec.message());
  std::optional<RunMetrics> metrics;
  if (r.timeline) metrics = compute_metrics(r);
  nlohmann::ordered_json json = to_json(r);
  if (metrics) {
    auto& m = json["metrics"];
    const auto fraction = metrics->availability.fraction();
    m["availability"] = fraction ? nlohmann::ordered_json(*fraction) : nlohmann::ordered_json();
    m["availability_demand_buckets"] = metrics->availability.demand_buckets;
    m["availability_bucket_ns"] = kAvailabilityBucket.count;
    auto& episodes = m["failovers"] = nlohmann::ordered_json::array();
    for (const FailoverEpisode& e : metrics->failovers) {
      nlohmann::ordered_json j = {{"old_leader", e.old_leader.value},
                                  {"old_term", e.old_term},
                                  {"lost_at_ns", e.lost_at.count}};
      if (e.settled_at) {
        j["new_leader"] = e.new_leader->value;
        j["new_term"] = e.new_term;
        j["settled_at_ns"] = e.settled_at->count;
        j["failover_ns"] = e.took()->count;
      }
      episodes.push_back(std::move(j));
    }
    m["latency_p50_ns"] = metrics->latency.p50.count;
    m["latency_p99_ns"] = metrics->latency.p99.count;
    m["latency_max_ns"] = metrics->latency.max.count;
    m["throughput_per_s"] = metrics->throughput_per_s;
    m["committed"] = metrics->committed;
  }
  if (auto e = write_text_file(dir / "summary.json", json.dump(2) + "\n")) return e;
  std::optional<ViolationDiagram> diagram;
  if (r.timeline && any_failed(r)) {
    auto written = write_violation_diagram(dir, r, "violation");
    if (const auto* error = std::get_if<std::string>(&written)) return *error;
    diagram = std::get<ViolationDiagram>(std::move(written));
  }
  const std::string heading = fmt::format("{} over {} (seed {})", r.scenario, r.protocol, r.seed);
  const std::string outcome_text = fmt::format("{} (expected {})", r.observed, r.expected);

  // summary.md
  std::string md = fmt::format("# {}\n\n", heading);
  md += fmt::format("**Outcome:** {} — {}\n\n", outcome_text,
                    r.as_expected ? "as expected" : "**not as expected**");
  md += "| property | verdict | detail |\n|---|---|---|\n";
  for (const auto& row : verdict_rows(r)) {
    md += fmt::format("| {} | {} | {} |\n", row[0].text, row[1].text, md_cell(row[2].text));
  }
  md += "\n## Run\n\n| | |\n|---|---|\n";
  for (const auto& [k, v] : run_facts(r, file)) md += fmt::format("| {} | {} |\n", k, md_cell(v));
  if (metrics) {
    md += "\n## Metrics\n\n| | |\n|---|---|\n";
    for (const auto& [k, v] : metric_rows(*metrics)) md += fmt::format("| {} | {} |\n", k, md_cell(v));
  }
  if (!r.faults.empty()) {
    md += "\n## Faults\n\n| at | fault |\n|---|---|\n";
    for (const auto& f : r.faults) {
      md += fmt::format("| {} | {}{} |\n", format_duration(f.at), md_cell(f.description),
                        f.skipped ? " (skipped)" : "");
    }
  }
  md += "\n## Files\n\n- `report.html`: this summary with plots\n- `summary.json`\n";
  if (diagram) md += fmt::format("- {}\n", diagram->note);
  if (auto e = write_text_file(dir / "summary.md", md)) return e;

  // report.html
  HtmlPage page(heading);
  page.heading(1, heading);
  page.markup(fmt::format("<span class=\"{}\">{}</span>: {}", r.as_expected ? "pass" : "fail",
                          r.as_expected ? "as expected" : "NOT AS EXPECTED",
                          escape_html(outcome_text)));
  page.table({"property", "verdict", "detail"}, verdict_rows(r));
  page.heading(2, "Run");
  std::vector<std::vector<Cell>> facts;
  for (auto& [k, v] : run_facts(r, file)) facts.push_back({k, v});
  page.table({"run", ""}, facts);
  if (metrics) {
    page.heading(2, "Metrics");
    std::vector<std::vector<Cell>> rows;
    for (auto& [k, v] : metric_rows(*metrics)) rows.push_back({k, v});
    page.table({"metric", "value"}, rows);
    page.paragraph(
        "Availability: the share of 100ms buckets in which some client call was outstanding "
        "that also saw the replicated log advance. Failover: from losing the leader (its crash, "
        "pause or isolation, or the moment servers stopped agreeing on it) until every live "
        "server names one new leader in one term and that server leads.");
    page.heading(2, "Plots");
    const harness::RunTimeline& t = *r.timeline;
    page.figure(render_svg(latency_plot(t, "Client latency over time", "latency")),
                "Each dot a call that did not wait by design, at its invocation; shaded: fault "
                "windows (orange partitions, red crashes, purple pauses, brown clogs; dashed "
                "lines: instant faults).");
    page.figure(render_lanes(leader_chart(t, "Who believed it led", "leaders")),
                "One lane per server: bars where it believed it led, labelled with its term; grey "
                "where it was down; partitions shaded across the lanes.");
    const std::vector<double> times = failover_ms(metrics->failovers);
    if (times.size() >= 2) {
      Plot cdf;
      cdf.id = "failover";
      cdf.title = "Failover times in this run";
      cdf.x_label = "failover time (ms)";
      cdf.y_label = "fraction of failovers";
      cdf.x_min = 0;
      cdf.y_min = 0;
      cdf.y_max = 1;
      cdf.series.push_back(cdf_series(r.protocol, times, metrics->failovers.size()));
      page.figure(render_svg(cdf), "Empirical CDF over this run's failover episodes.");
    }
  }
  if (diagram) {
    page.heading(2, "Message sequence before the violation");
    page.paragraph(diagram->note);
    if (!diagram->svg.empty()) page.figure(diagram->svg, "");
  }
  if (!r.faults.empty()) {
    page.heading(2, "Faults");
    std::vector<std::vector<Cell>> rows;
    for (const auto& f : r.faults) {
      rows.push_back({format_duration(f.at), f.description + (f.skipped ? " (skipped)" : "")});
    }
    page.table({"at", "fault"}, rows);
  }
  return write_text_file(dir / "report.html", page.finish());
}

}  // namespace lockstep::reports
