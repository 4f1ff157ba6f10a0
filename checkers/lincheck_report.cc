#include "checkers/lincheck_report.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "checkers/history_formats.h"
#include "core/assert.h"

namespace lockstep::checkers {

namespace {

struct Counts {
  std::size_t ok = 0;
  std::size_t failed = 0;
  std::size_t unknown = 0;
};

Counts count_outcomes(const History& history) {
  Counts c;
  for (const Operation& op : history.operations) {
    (op.outcome == Outcome::ok ? c.ok : op.outcome == Outcome::failed ? c.failed : c.unknown)++;
  }
  return c;
}

std::string join_listed(const std::vector<std::string>& items, std::size_t more) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  if (more > 0) out += fmt::format(" and {} more", more);
  return out;
}

std::string interval(const Operation& op, TimeAxis axis) {
  const std::string end = op.outcome == Outcome::unknown ? "the end" : describe_time(op.ret, axis);
  return fmt::format("between {} and {}", describe_time(op.call, axis), end);
}

std::string found_text(const Violation& v) {
  if (v.states.empty()) return "no state: no order of the calls before it reaches a point where it runs";
  return fmt::format("{} (every state it could run in, over every order of the calls before it)",
                     join_listed(v.states, v.states_more));
}

// ---- SVG ----------------------------------------------------------------------------------------

constexpr double kWidthPx = 960;
constexpr double kLeftPx = 90;
constexpr double kRightPx = 60;
constexpr double kTopPx = 104;
constexpr double kRowPx = 36;
constexpr double kBottomPx = 64;
constexpr double kBarPx = 12;
constexpr int kTicks = 6;

std::string xml(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return out;
}

std::string px(double v) { return fmt::format("{:.1f}", v); }

}  // namespace

nlohmann::ordered_json operation_json(const Operation& op) {
  nlohmann::ordered_json j = operation_to_json(op);
  j.erase("call_ns");
  j.erase("return_ns");
  j["call"] = op.call.count;
  j["return"] = op.ret == Nanos::max() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(op.ret.count);
  j["origin"] = op.origin;
  return j;
}

void print_lincheck_text(std::ostream& out, const LincheckReport& report) {
  LS_ASSERT(report.history != nullptr && report.result != nullptr);
  const History& h = *report.history;
  const CheckResult& r = *report.result;
  const Counts c = count_outcomes(h);
  out << fmt::format("history    {} ({}, {} model)\n", report.file, report.format,
                     model_name(report.model));
  if (h.operations.empty()) {
    out << "calls      none: an empty history is linearizable\n";
  } else {
    out << fmt::format("calls      {} on {} key{}: {} ok, {} failed, {} unknown\n",
                       h.operations.size(), r.keys, r.keys == 1 ? "" : "s", c.ok, c.failed,
                       c.unknown);
  }
  out << fmt::format("search     {} steps, {} memoised states; {} calls that constrain the order, "
                     "on {} of {} key{}\n",
                     r.search_steps, r.search_states, r.calls_searched, r.keys_searched, r.keys,
                     r.keys == 1 ? "" : "s");
  out << fmt::format("verdict    {}\n", verdict_name(r.verdict));
  if (r.verdict == Verdict::unknown) {
    out << fmt::format("why        {}\n", r.stopped);
    return;
  }
  if (r.verdict != Verdict::not_linearizable) return;
  if (!r.violation) {
    if (r.failed_key) out << fmt::format("key        {}\n", describe_value(*r.failed_key));
    out << fmt::format("explained  no: {}\n", r.stopped.empty() ? "not asked for" : r.stopped);
    return;
  }
  const Violation& v = *r.violation;
  const Operation& culprit = h.operations[v.operation];
  out << "\n";
  if (!v.key.empty()) out << fmt::format("key           {}\n", describe_value(v.key));
  out << fmt::format("cannot place  {} (process {}, {})\n", describe_operation(culprit, false),
                     culprit.process, culprit.origin);
  out << fmt::format("needed        {} {}\n", v.needed, interval(culprit, h.time_axis));
  out << fmt::format("found         {}\n", found_text(v));
  out << fmt::format("prefix        the shortest illegal prefix ends at {}: {} calls, {} returned, "
                     "{} in flight\n",
                     describe_time(culprit.ret, h.time_axis), v.prefix_calls, v.prefix_completed,
                     v.prefix_calls - v.prefix_completed);
  out << "around it     (by call time; > marks the call that cannot be placed)\n";
  for (const std::size_t i : v.context) {
    const Operation& op = h.operations[i];
    out << fmt::format("  {} p{:<4} {:<18} {}\n", i == v.operation ? '>' : ' ', op.process,
                       op.origin, describe_operation(op, false));
  }
}

nlohmann::ordered_json lincheck_json(const LincheckReport& report) {
  LS_ASSERT(report.history != nullptr && report.result != nullptr);
  const History& h = *report.history;
  const CheckResult& r = *report.result;
  const Counts c = count_outcomes(h);
  nlohmann::ordered_json j;
  j["file"] = report.file;
  j["format"] = report.format;
  j["model"] = model_name(report.model);
  j["time_axis"] = h.time_axis == TimeAxis::line ? "line" : "ns";
  j["verdict"] = verdict_name(r.verdict);
  j["calls"] = {{"total", h.operations.size()}, {"ok", c.ok}, {"failed", c.failed},
                {"unknown", c.unknown}, {"keys", r.keys}};
  j["search"] = {{"steps", r.search_steps}, {"states", r.search_states},
                 {"calls", r.calls_searched}, {"keys", r.keys_searched}};
  if (!r.stopped.empty()) j["stopped"] = r.stopped;
  if (r.failed_key) j["failed_key"] = *r.failed_key;
  if (r.violation) {
    const Violation& v = *r.violation;
    const Operation& culprit = h.operations[v.operation];
    nlohmann::ordered_json vj;
    vj["key"] = v.key;
    vj["operation"] = operation_json(culprit);
    vj["needed"] = v.needed;
    vj["states"] = v.states;
    vj["states_more"] = v.states_more;
    vj["prefix"] = {{"end", describe_time(culprit.ret, h.time_axis)},
                    {"end_time", culprit.ret.count},
                    {"calls", v.prefix_calls},
                    {"returned", v.prefix_completed}};
    vj["context"] = nlohmann::ordered_json::array();
    for (const std::size_t i : v.context) vj["context"].push_back(operation_json(h.operations[i]));
    j["violation"] = std::move(vj);
  }
  return j;
}

std::string render_violation_svg(const History& history, const Violation& violation,
                                 ModelKind model) {
  const Operation& culprit = history.operations[violation.operation];
  std::map<std::uint32_t, std::size_t> rows;  // process -> row
  Nanos lo = Nanos::max();
  Nanos hi = Nanos::zero();
  for (const std::size_t i : violation.context) {
    const Operation& op = history.operations[i];
    rows.emplace(op.process, 0);
    lo = std::min(lo, op.call);
    hi = std::max(hi, op.call);
    if (op.outcome != Outcome::unknown) hi = std::max(hi, op.ret);
  }
  LS_ASSERT(!rows.empty());
  std::size_t row = 0;
  for (auto& [process, r] : rows) r = row++;
  if (hi <= lo) hi = lo + Nanos{1};
  const double plot_w = kWidthPx - kLeftPx - kRightPx;
  const double height = kTopPx + static_cast<double>(rows.size()) * kRowPx + kBottomPx;
  const auto x = [&](Nanos t) {
    return kLeftPx + plot_w * static_cast<double>(t.count - lo.count) /
                         static_cast<double>(hi.count - lo.count);
  };
  const double axis_y = kTopPx + static_cast<double>(rows.size()) * kRowPx + 8;

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n",
      kWidthPx, px(height), kWidthPx, px(height));
  const std::string key = violation.key.empty() ? "" : fmt::format(" on key {}", describe_value(violation.key));
  const std::string title = fmt::format("Not linearizable ({} model){}: {} cannot be placed",
                                        model_name(model), key, describe_operation(culprit, false));
  out += fmt::format("<title>{}</title>\n", xml(title));
  out += fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"white\"/>\n", kWidthPx,
                     px(height));
  out += fmt::format("<text x=\"16\" y=\"26\" font-size=\"15\" font-weight=\"bold\">{}</text>\n", xml(title));
  out += fmt::format("<text x=\"16\" y=\"50\">needed: {} {}</text>\n", xml(violation.needed),
                     xml(interval(culprit, history.time_axis)));
  out += fmt::format("<text x=\"16\" y=\"70\">found: {}</text>\n",
                     xml(violation.states.empty() ? std::string("no state")
                                                  : join_listed(violation.states, violation.states_more)));

  // Rows, then the axis with evenly spaced ticks.
  for (const auto& [process, r] : rows) {
    const double y = kTopPx + static_cast<double>(r) * kRowPx;
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#444\">process {}</text>\n",
                       px(kLeftPx - 12), px(y + kRowPx - 10), process);
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#eeeeee\"/>\n", px(kLeftPx),
                       px(y + kRowPx - 8), px(kWidthPx - 16), px(y + kRowPx - 8));
  }
  out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>\n", px(kLeftPx),
                     px(axis_y), px(kLeftPx + plot_w), px(axis_y));
  for (int k = 0; k <= kTicks; ++k) {
    const Nanos t = lo + Nanos{(hi.count - lo.count) * k / kTicks};
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#333\"/>\n", px(x(t)),
                       px(axis_y), px(axis_y + 5));
    out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#444\">{}</text>\n",
                       px(x(t)), px(axis_y + 19), xml(describe_time(t, history.time_axis)));
  }

  // The end of the shortest illegal prefix.
  const double prefix_x = x(culprit.ret);
  out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#d62728\" "
                     "stroke-dasharray=\"4 3\"/>\n",
                     px(prefix_x), px(kTopPx - 12), px(axis_y));
  out += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#d62728\" font-size=\"11\">"
                     "shortest illegal prefix ends here</text>\n",
                     px(prefix_x - 4), px(kTopPx - 14));

  // One bar per call.
  for (const std::size_t i : violation.context) {
    const Operation& op = history.operations[i];
    const double y = kTopPx + static_cast<double>(rows.at(op.process)) * kRowPx + kRowPx - 8 - kBarPx;
    const bool open = op.outcome == Outcome::unknown;
    const double x0 = x(op.call);
    const double x1 = open ? kWidthPx - 16 : std::max(x(op.ret), x0 + 2);
    const char* color = i == violation.operation       ? "#d62728"
                        : op.outcome == Outcome::ok     ? "#1f77b4"
                        : op.outcome == Outcome::failed ? "#7f7f7f"
                                                        : "#ff7f0e";
    out += fmt::format("<g><title>{}</title>", xml(fmt::format("process {}, {}: {}", op.process, op.origin,
                                                               describe_operation(op))));
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{}\" "
                       "fill-opacity=\"{}\" stroke=\"{}\"{}/>",
                       px(x0), px(y), px(x1 - x0), px(kBarPx), color, open ? "0.25" : "0.8", color,
                       open ? " stroke-dasharray=\"5 3\"" : "");
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\"{}>{}</text></g>\n", px(x0), px(y - 3),
                       i == violation.operation ? " font-weight=\"bold\" fill=\"#d62728\"" : "",
                       xml(describe_operation(op, false)));
  }

  // Legend.
  const double legend_y = height - 16;
  double legend_x = kLeftPx;
  for (const auto& [color, label] : {std::pair{"#1f77b4", "ok"}, std::pair{"#7f7f7f", "failed"},
                                     std::pair{"#ff7f0e", "unknown outcome (open to the end)"},
                                     std::pair{"#d62728", "cannot be placed"}}) {
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"10\" fill=\"{}\"/>", px(legend_x),
                       px(legend_y - 9), color);
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>\n", px(legend_x + 16), px(legend_y), label);
    legend_x += 40 + 7.0 * static_cast<double>(std::string_view(label).size());
  }
  out += "</svg>\n";
  return out;
}

}  // namespace lockstep::checkers
