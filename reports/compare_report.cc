#include "reports/compare_report.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/duration.h"
#include "reports/html.h"
#include "reports/run_plots.h"
#include "reports/run_report.h"
#include "reports/svg_plot.h"

namespace lockstep::reports {

namespace {

using Rows = std::vector<std::vector<std::string>>;

// A table for the terminal: columns padded to their widest cell, two spaces apart.
std::string text_table(const Rows& rows) {
  std::vector<std::size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line = " ";
    for (std::size_t c = 0; c < row.size(); ++c) {
      line += " " + row[c];
      if (c + 1 < row.size()) line += std::string(width[c] - row[c].size() + 1, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string md_table(const Rows& rows) {
  std::string out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out += "|";
    for (const std::string& cell : rows[r]) {
      std::string escaped;
      for (char ch : cell) {
        if (ch == '|') escaped += '\\';
        escaped += ch;
      }
      out += " " + escaped + " |";
    }
    out += "\n";
    if (r == 0) {
      out += "|";
      for (std::size_t c = 0; c < rows[r].size(); ++c) out += "---|";
      out += "\n";
    }
  }
  return out;
}

void html_table(HtmlPage& page, const Rows& rows, bool verdicts) {
  std::vector<std::vector<Cell>> body;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    std::vector<Cell> row;
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      if (verdicts && c > 0) {
        row.emplace_back(rows[r][c], std::string(verdict_class(rows[r][c])));
      } else {
        row.emplace_back(rows[r][c]);
      }
    }
    body.push_back(std::move(row));
  }
  page.table(rows.front(), body);
}

// property x protocol; the leadership expectation as a row when any protocol has one.
Rows compare_verdict_rows(const CompareResult& c) {
  Rows rows{{"property"}};
  for (const CompareRun& run : c.runs) rows[0].push_back(run.result.protocol);
  if (c.runs.empty()) return rows;
  for (std::size_t i = 0; i < c.runs.front().result.properties.size(); ++i) {
    std::vector<std::string> row{
        std::string(harness::property_name(c.runs.front().result.properties[i].property))};
    for (const CompareRun& run : c.runs) {
      row.emplace_back(harness::to_string(run.result.properties[i].verdict));
    }
    rows.push_back(std::move(row));
  }
  const bool leadership = std::any_of(c.runs.begin(), c.runs.end(), [](const CompareRun& r) {
    return r.result.leadership.has_value();
  });
  if (leadership) {
    std::vector<std::string> row{"leadership"};
    for (const CompareRun& run : c.runs) {
      row.emplace_back(run.result.leadership ? harness::to_string(run.result.leadership->verdict)
                                             : "n/a");
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string failover_list(const RunMetrics& m) {
  if (m.failovers.empty()) return "none";
  std::string out;
  for (const FailoverEpisode& e : m.failovers) {
    if (!out.empty()) out += ", ";
    out += e.took() ? ms_text(e.took()) : "unsettled";
  }
  return out;
}

Rows compare_metric_rows(const CompareResult& c) {
  Rows rows{{"metric"}};
  for (const CompareRun& run : c.runs) rows[0].push_back(run.result.protocol);
  const auto row = [&](std::string name, auto value) {
    std::vector<std::string> r{std::move(name)};
    for (const CompareRun& run : c.runs) r.push_back(value(run));
    rows.push_back(std::move(r));
  };
  row("availability", [](const CompareRun& r) { return percent_text(r.metrics.availability.fraction()); });
  row("failovers (ms)", [](const CompareRun& r) { return failover_list(r.metrics); });
  row("leader changes", [](const CompareRun& r) { return fmt::format("{}", r.result.leader_changes); });
  row("latency p50", [](const CompareRun& r) { return ms_text(r.metrics.latency.p50); });
  row("latency p99", [](const CompareRun& r) { return ms_text(r.metrics.latency.p99); });
  row("latency max", [](const CompareRun& r) { return ms_text(r.metrics.latency.max); });
  row("throughput (ok calls/s)",
      [](const CompareRun& r) { return fmt::format("{:.1f}", r.metrics.throughput_per_s); });
  row("committed entries", [](const CompareRun& r) { return fmt::format("{}", r.metrics.committed); });
  row("messages per commit", [](const CompareRun& r) {
    return r.metrics.messages_per_commit ? fmt::format("{:.1f}", *r.metrics.messages_per_commit)
                                         : std::string("-");
  });
  row("bytes per commit", [](const CompareRun& r) {
    return r.metrics.bytes_per_commit ? fmt::format("{:.0f}", *r.metrics.bytes_per_commit)
                                      : std::string("-");
  });
  row("events", [](const CompareRun& r) { return fmt::format("{}", r.result.events); });
  row("trace hash", [](const CompareRun& r) { return fmt::format("{:016x}", r.result.trace_hash); });
  return rows;
}

Rows failover_rows(const CompareResult& c) {
  Rows rows{{"protocol", "trials", "failed_over", "timeouts", "no_leader", "invalid", "min",
             "median", "p99", "max"}};
  for (const CompareFailover& f : c.failovers) {
    if (!f.result) {
      rows.push_back({f.protocol, "-", "-", "-", "-", "-", "-", "-", "-", "-"});
      continue;
    }
    const harness::FailoverSummary& s = f.result->summary;
    const bool any = s.failed_over > 0;
    const auto t = [&](Nanos d) { return any ? ms_text(d) : std::string("-"); };
    rows.push_back({f.protocol, fmt::format("{}", s.trials), fmt::format("{}", s.failed_over),
                    fmt::format("{}", s.timeouts), fmt::format("{}", s.no_leader),
                    fmt::format("{}", s.invalid), t(s.min), t(s.median), t(s.p99), t(s.max)});
  }
  return rows;
}

Rows outcome_rows(const CompareResult& c) {
  Rows rows{{"protocol", "outcome", "expected", ""}};
  for (const CompareRun& run : c.runs) {
    rows.push_back({run.result.protocol, run.result.observed, run.result.expected,
                    run.result.as_expected ? "as expected" : "NOT AS EXPECTED"});
  }
  return rows;
}

std::string failover_caption(const CompareResult& c) {
  const harness::FailoverSettings& s = c.failover_settings;
  return fmt::format(
      "The failover experiment: {} trials per protocol on {} servers (the scenario's cluster, "
      "network latency and protocol options), master seed {}; each trial crashes the leader at a "
      "random moment of a fresh cluster and measures the true time until every live server names "
      "the same new leader in a higher term and that server leads.",
      s.trials, s.nodes, s.seed);
}

Plot failover_cdf(const CompareResult& c) {
  Plot p;
  p.id = "failover-cdf";
  p.title = fmt::format("Failover time after a leader crash ({} trials per protocol)",
                        c.failover_settings.trials);
  p.x_label = "failover time (ms): crash until every live server names the new leader";
  p.y_label = "fraction of trials";
  p.x_min = 0;
  p.y_min = 0;
  p.y_max = 1;
  p.width_px = 1000;
  for (const CompareFailover& f : c.failovers) {
    if (!f.result) continue;
    std::vector<double> times;
    for (const harness::FailoverTrial& t : f.result->trials) {
      if (t.failover) times.push_back(t.failover->millis());
    }
    const std::size_t crashed = f.result->summary.failed_over + f.result->summary.timeouts;
    p.series.push_back(cdf_series(f.protocol, std::move(times), crashed));
  }
  return p;
}

}  // namespace

bool CompareResult::as_expected() const {
  for (const CompareRun& r : runs) {
    if (!r.result.as_expected) return false;
  }
  for (const CompareFailover& f : failovers) {
    if (f.result && f.result->summary.invalid > 0) return false;
  }
  return true;
}

void print_compare(std::ostream& out, const CompareResult& c) {
  std::vector<std::string> protocols;
  for (const CompareRun& r : c.runs) protocols.push_back(r.result.protocol);
  std::string names;
  for (const std::string& p : protocols) names += (names.empty() ? "" : ", ") + p;
  out << fmt::format("scenario   {} ({})\n", c.scenario, c.file);
  out << fmt::format("protocols  {}   seed {}\n", names, c.seed);
  if (!c.runs.empty()) {
    const harness::RunResult& first = c.runs.front().result;
    out << fmt::format("simulated  {} run + settle, each\n\n", format_duration(first.duration));
  }
  out << text_table(compare_verdict_rows(c)) << "\n";
  out << text_table(compare_metric_rows(c)) << "\n";
  if (!c.failovers.empty()) {
    out << fmt::format("failover experiment: {} trials per protocol, {} servers, seed {}\n",
                       c.failover_settings.trials, c.failover_settings.nodes,
                       c.failover_settings.seed);
    out << text_table(failover_rows(c));
    for (const CompareFailover& f : c.failovers) {
      if (!f.result) out << fmt::format("  {}: not run: {}\n", f.protocol, f.skipped);
    }
    out << "\n";
  }
  for (const CompareRun& r : c.runs) {
    out << fmt::format("outcome    {:<6} {} (expected {}): {}\n", r.result.protocol,
                       r.result.observed, r.result.expected,
                       r.result.as_expected ? "as expected" : "NOT AS EXPECTED");
  }
}

std::optional<std::string> write_compare_report(const std::filesystem::path& dir,
                                                const CompareResult& c) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("{}: cannot create the report directory: {}", dir.string(), ec.message());
  for (const CompareRun& r : c.runs) {
    if (auto e = write_run_report(dir / r.result.protocol, r.result, c.file)) return e;
  }
  for (const CompareFailover& f : c.failovers) {
    if (!f.result) continue;
    if (auto e = write_text_file(dir / fmt::format("failover-{}.csv", f.protocol),
                                 harness::failover_csv(*f.result))) {
      return e;
    }
  }
  std::string names;
  for (const CompareRun& r : c.runs) names += (names.empty() ? "" : ", ") + r.result.protocol;
  const std::string heading = fmt::format("{}: {} compared (seed {})", c.scenario, names, c.seed);

  std::string md = fmt::format("# {}\n\n", heading);
  md += fmt::format("**Outcome:** {}\n\n", c.as_expected() ? "every protocol as expected"
                                                           : "**not as expected**");
  md += md_table(compare_verdict_rows(c)) + "\n## Metrics\n\n" + md_table(compare_metric_rows(c));
  if (!c.failovers.empty()) {
    md += "\n## Failover experiment\n\n" + failover_caption(c) + "\n\n" + md_table(failover_rows(c));
  }
  md += "\n## Outcomes\n\n" + md_table(outcome_rows(c));
  md += "\nEach protocol's own report (plots, faults, violation diagram): `<protocol>/report.html`.\n";
  if (auto e = write_text_file(dir / "summary.md", md)) return e;

  HtmlPage page(heading);
  page.heading(1, heading);
  page.markup(fmt::format("<span class=\"{}\">{}</span> — scenario file <code>{}</code>",
                          c.as_expected() ? "pass" : "fail",
                          c.as_expected() ? "every protocol as expected" : "NOT AS EXPECTED",
                          escape_html(c.file)));
  html_table(page, compare_verdict_rows(c), true);
  page.heading(2, "Metrics");
  html_table(page, compare_metric_rows(c), false);
  page.paragraph(
      "Availability: the share of 100ms buckets with an outstanding client call in which the "
      "replicated log advanced. Failovers: from losing the leader (crash, pause or isolation) "
      "until every live server names one new leader in one term and that server leads. Latency "
      "over successful calls that do not wait by design; throughput over the scenario's duration; "
      "messages and bytes (peer and client traffic) per committed log entry.");
  if (!c.failovers.empty()) {
    page.heading(2, "Failover experiment");
    html_table(page, failover_rows(c), false);
    page.figure(render_svg(failover_cdf(c)), failover_caption(c));
  }
  for (const CompareRun& r : c.runs) {
    if (!r.result.timeline) continue;
    page.heading(2, fmt::format("{}: {}", r.result.protocol, r.result.observed));
    Plot latency = latency_plot(*r.result.timeline,
                                fmt::format("{}: client latency over time", r.result.protocol),
                                "latency-" + r.result.protocol);
    page.figure(render_svg(latency), "Shaded: fault windows as they fell over this protocol.");
    page.figure(render_lanes(leader_chart(*r.result.timeline,
                                          fmt::format("{}: who believed it led", r.result.protocol),
                                          "leaders-" + r.result.protocol)),
                fmt::format("The full report of this run: {}/report.html", r.result.protocol));
  }
  page.heading(2, "Outcomes");
  html_table(page, outcome_rows(c), false);
  return write_text_file(dir / "report.html", page.finish());
}

}  // namespace lockstep::reports
