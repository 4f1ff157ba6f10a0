#include "reports/msc.h"

#include <cstdlib>
#include <map>
#include <set>

#include <fmt/format.h>

#include "core/assert.h"

namespace lockstep::reports {

namespace {

using Kind = harness::WindowEvent::Kind;

// A string as a DOT double-quoted ID.
std::string dot_id(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// A path for a shell command, in single quotes.
std::string shell_quoted(const std::filesystem::path& path) {
  std::string out = "'";
  for (char c : path.string()) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string time_text(Nanos at) { return fmt::format("{:.3f}ms", at.millis()); }

bool is_message(Kind k) { return k == Kind::send || k == Kind::deliver || k == Kind::drop; }

}  // namespace

std::string message_sequence_dot(const harness::RunTimeline& t, std::string_view title) {
  const auto& events = t.window;
  // The lanes: every node the window mentions, by id.
  std::set<std::uint32_t> nodes;
  for (const harness::WindowEvent& e : events) {
    if (e.kind == Kind::fault) continue;  // faults belong to the run, not to node 0
    nodes.insert(e.node);
    if (is_message(e.kind)) nodes.insert(e.peer);
  }
  std::map<std::uint32_t, std::size_t> lane;
  for (std::uint32_t n : nodes) lane.emplace(n, lane.size());
  const auto name = [&](std::uint32_t n) {
    return n < t.node_names.size() ? t.node_names[n] : fmt::format("node{}", n);
  };
  const auto point = [](std::size_t row, std::size_t l) { return fmt::format("r{}_{}", row, l); };
  const std::size_t rows = events.size();

  std::string out = "digraph msc {\n";
  out += fmt::format(
      "  graph [rankdir=TB, nodesep=0.9, ranksep=0.16, splines=line, forcelabels=true, fontname=\"Helvetica\", "
      "fontsize=12, labelloc=t, label={}];\n",
      dot_id(title));
  out += "  node [shape=point, width=0.06, fontname=\"Helvetica\", fontsize=10];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  // Heads: the time column, then one per lane, in order.
  out += "  { rank=same; time [shape=plaintext, label=\"true time\"];";
  for (const auto& [n, l] : lane) {
    out += fmt::format(" h{} [shape=box, style=filled, fillcolor=\"#e8eef7\", label={}];", l,
                       dot_id(name(n)));
  }
  out += " }\n";
  out += "  time";
  for (const auto& [n, l] : lane) out += fmt::format(" -> h{}", l);
  out += " [style=invis];\n";

  // Rows: a time label (with the fault, if the row is one) and a point on each lane.
  for (std::size_t r = 0; r < rows; ++r) {
    const harness::WindowEvent& e = events[r];
    std::string label = time_text(e.at);
    std::string color = "#555555";
    if (e.kind == Kind::fault) {
      label += "  " + e.label;
      color = "#c0392b";
    }
    out += fmt::format("  {{ rank=same; t{} [shape=plaintext, fontcolor={}, label={}];", r,
                       dot_id(color), dot_id(label));
    for (const auto& [n, l] : lane) {
      const bool fault_here = !is_message(e.kind) && e.kind != Kind::fault && e.node == n;
      if (fault_here) {
        out += fmt::format(" {} [shape=box, style=filled, fillcolor=\"#f8d7da\", fontcolor=\"#a12622\", "
                           "width=0, height=0, label={}];",
                           point(r, l), dot_id(e.label));
      } else {
        out += fmt::format(" {};", point(r, l));
      }
    }
    out += " }\n";
    out += fmt::format("  t{}", r);
    for (const auto& [n, l] : lane) out += " -> " + point(r, l);
    out += " [style=invis];\n";
  }
  if (t.violation_at) {
    out += fmt::format(
        "  {{ rank=same; tv [shape=box, style=filled, fillcolor=\"#a12622\", fontcolor=white, "
        "label={}]; }}\n",
        dot_id(fmt::format("{} invariant broken: the run stopped here", time_text(*t.violation_at))));
  }
  // Lane lines, top to bottom; the time column likewise (invisible), to keep rows in order.
  for (const auto& [n, l] : lane) {
    out += fmt::format("  h{}", l);
    for (std::size_t r = 0; r < rows; ++r) out += " -> " + point(r, l);
    out += " [arrowhead=none, color=\"#bbbbbb\", weight=100];\n";
  }
  out += "  time";
  for (std::size_t r = 0; r < rows; ++r) out += fmt::format(" -> t{}", r);
  if (t.violation_at) out += " -> tv";
  out += " [style=invis, weight=100];\n";

  // Messages: pair each delivery or drop with the earliest unpaired send of the same bytes on the
  // same link in the window.
  std::vector<bool> paired(rows, false);
  const auto find_send = [&](const harness::WindowEvent& e, std::size_t before) {
    for (std::size_t s = 0; s < before; ++s) {
      const harness::WindowEvent& x = events[s];
      if (!paired[s] && x.kind == Kind::send && x.node == (e.kind == Kind::deliver ? e.peer : e.node) &&
          x.peer == (e.kind == Kind::deliver ? e.node : e.peer) && x.message == e.message) {
        return std::optional<std::size_t>(s);
      }
    }
    return std::optional<std::size_t>();
  };
  for (std::size_t r = 0; r < rows; ++r) {
    const harness::WindowEvent& e = events[r];
    if (e.kind != Kind::deliver && e.kind != Kind::drop) continue;
    const std::uint32_t from = e.kind == Kind::deliver ? e.peer : e.node;
    const std::uint32_t to = e.kind == Kind::deliver ? e.node : e.peer;
    const auto send = find_send(e, r + 1);
    if (send) paired[*send] = true;
    const std::string source = send ? point(*send, lane.at(from)) : point(r, lane.at(from));
    if (e.kind == Kind::deliver) {
      out += fmt::format("  {} -> {} [xlabel={}, constraint=false, color=\"#1f5fa8\"{}];\n", source,
                         point(r, lane.at(to)),
                         dot_id(send ? e.label : e.label + " (sent earlier)"),
                         send ? "" : ", style=dashed");
    } else {
      out += fmt::format(
          "  {} -> {} [xlabel={}, constraint=false, color=\"#c0392b\", fontcolor=\"#c0392b\", "
          "arrowhead=tee, style=dashed];\n",
          source, point(r, lane.at(to)), dot_id(e.label + " dropped"));
    }
  }
  // Sends still in flight when the window ends.
  for (std::size_t s = 0; s < rows; ++s) {
    const harness::WindowEvent& e = events[s];
    if (e.kind != Kind::send || paired[s]) continue;
    out += fmt::format(
        "  {} -> {} [xlabel={}, constraint=false, color=\"#888888\", fontcolor=\"#888888\", "
        "style=dotted];\n",
        point(s, lane.at(e.node)), point(rows - 1, lane.at(e.peer)),
        dot_id(e.label + " (in flight)"));
  }
  out += "}\n";
  return out;
}

bool dot_available() {
  static const bool available = std::system("dot -V >/dev/null 2>&1") == 0;
  return available;
}

std::optional<std::string> render_dot(const std::filesystem::path& dot_file,
                                      const std::filesystem::path& svg_file) {
  if (!dot_available()) return "Graphviz dot is not installed (scripts/setup.sh installs it)";
  const std::string command = fmt::format("dot -Tsvg {} -o {} 2>/dev/null", shell_quoted(dot_file),
                                          shell_quoted(svg_file));
  if (std::system(command.c_str()) != 0) {
    return fmt::format("dot failed on {}", dot_file.string());
  }
  return std::nullopt;
}

}  // namespace lockstep::reports
