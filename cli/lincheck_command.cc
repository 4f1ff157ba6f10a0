// lockstep lincheck FILE [--format lockstep|jepsen-etcd|edn-kv] [--model M] [--json]
//                        [--svg FILE] [--budget N] [--time-limit D]
//
// Checks one recorded history for linearizability (checkers/linearizability.h) and exits 0 when
// it is linearizable, 1 when it is not, 3 when the search gave up (budget or time limit), and 2
// for bad input: a bad flag, or a file that cannot be read, which is reported as FILE:LINE (or
// FILE: /json/pointer) with what was expected there.
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "checkers/history_formats.h"
#include "checkers/lincheck_report.h"
#include "checkers/linearizability.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/duration.h"
#include "core/json_reader.h"

namespace lockstep::cli {

namespace {

constexpr int kExitLinearizable = 0;
constexpr int kExitNotLinearizable = 1;
constexpr int kExitUndecided = 3;  // the budget or the time limit ran out first

constexpr std::array<FlagSpec, 6> kFlags = {{
    {"--format", "F", "lockstep (default), jepsen-etcd or edn-kv"},
    {"--model", "M", "register, kv, lock, namespace or lock-service; default: the file's (lockstep) or the format's"},
    {"--json", "", "print the result as JSON instead of text"},
    {"--svg", "FILE", "for a violation, write a timeline of the calls around it to FILE"},
    {"--budget", "N", "search steps before giving up with exit 3; default 200000000"},
    {"--time-limit", "D", "wall-clock limit such as 30s before giving up with exit 3; default none"},
}};

void print_help() {
  std::cout << "usage: lockstep lincheck FILE [flags]\n\n"
               "Checks the history in FILE for linearizability against a model (a register, a\n"
               "key-value store, the lock service's locks or nodes; each key is checked on its own). For a violation it names the call\n"
               "that cannot be placed, what it needed and what it could have seen, and the shortest\n"
               "illegal prefix. Formats: lockstep (our JSON history, see README.md), jepsen-etcd\n"
               "(Jepsen etcd logs), edn-kv (EDN maps, one per line).\n"
               "Exit code: 0 linearizable, 1 not linearizable, 3 unknown (gave up), 2 bad input.\n\n"
               "flags:\n"
            << format_flags(kFlags);
}

template <typename T>
T named_value(const ParsedArgs& parsed, std::string_view flag,
              std::span<const std::string_view> names,
              std::optional<T> (*from_name)(std::string_view), T fallback) {
  const auto text = parsed.value(flag);
  if (!text) return fallback;
  if (const auto v = from_name(*text)) return *v;
  throw UsageError(fmt::format("lockstep lincheck: {} expects one of {}, got \"{}\"", flag,
                               join_names(names), *text));
}

}  // namespace

int lincheck_command(std::span<const std::string> args) {
  using namespace checkers;
  const ParsedArgs parsed("lincheck", kFlags, args);
  if (parsed.help()) {
    print_help();
    return kExitLinearizable;
  }
  if (parsed.positional().size() != 1) {
    throw UsageError(fmt::format(
        "lockstep lincheck: expected one history file, got {} (see lockstep lincheck --help)",
        parsed.positional().size()));
  }
  const std::string file = parsed.positional()[0];
  const HistoryFormat format = named_value<HistoryFormat>(
      parsed, "--format", history_format_names(), history_format_from_name, HistoryFormat::lockstep);
  std::optional<ModelKind> model;
  if (parsed.has("--model")) {
    model = named_value<ModelKind>(parsed, "--model", model_names(), model_from_name,
                                   ModelKind::register_);
  }
  CheckOptions options;
  if (const auto budget = parsed.unsigned_value("--budget")) {
    if (*budget == 0) throw UsageError("lockstep lincheck: --budget expects an integer >= 1, got \"0\"");
    options.search_steps_max = *budget;
  }
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (const auto limit = parsed.value("--time-limit")) {
    const auto d = parse_duration(*limit);
    if (!d || *d == Nanos::zero()) {
      throw UsageError(fmt::format(
          "lockstep lincheck: --time-limit expects a duration with a unit such as 30s or 500ms, "
          "got \"{}\"",
          *limit));
    }
    deadline = std::chrono::steady_clock::now() + std::chrono::nanoseconds(d->count);
    options.stop_requested = [deadline] { return std::chrono::steady_clock::now() >= *deadline; };
  }

  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << fmt::format("{}: cannot open: {}\n", file, std::strerror(errno));
    return kExitBadInput;
  }
  std::ostringstream text;
  text << in.rdbuf();
  HistoryResult loaded = parse_history(text.str(), format, model);
  if (const auto* error = std::get_if<FormatError>(&loaded)) {
    if (error->line > 0) {
      std::cerr << fmt::format("{}:{}: {}\n", file, error->line, error->message);
    } else {
      std::cerr << fmt::format("{}: {}\n", file, error->message);
    }
    return kExitBadInput;
  }
  const LoadedHistory& history = std::get<LoadedHistory>(loaded);

  const auto start = std::chrono::steady_clock::now();
  const CheckResult result = check_linearizability(history.history, history.model, options);
  const double elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  const LincheckReport report{file, std::string(history_format_names()[static_cast<std::size_t>(format)]),
                              history.model, &history.history, &result};
  std::string svg_note;
  if (const auto svg = parsed.value("--svg")) {
    if (result.violation) {
      std::ofstream out(*svg, std::ios::binary);
      out << render_violation_svg(history.history, *result.violation, history.model);
      if (!out) {
        std::cerr << fmt::format("lockstep lincheck: --svg: cannot write \"{}\"\n", *svg);
        return kExitBadInput;
      }
      svg_note = fmt::format("timeline   {}\n", *svg);
    } else {
      svg_note = fmt::format("timeline   not written: there is no violation to draw\n");
    }
  }
  if (parsed.has("--json")) {
    std::cout << lincheck_json(report).dump(2) << "\n";
  } else {
    print_lincheck_text(std::cout, report);
    std::cout << fmt::format("time       {:.1f} ms\n", elapsed_ms) << svg_note;
  }
  switch (result.verdict) {
    case Verdict::linearizable: return kExitLinearizable;
    case Verdict::not_linearizable: return kExitNotLinearizable;
    case Verdict::unknown: return kExitUndecided;
  }
  return kExitUndecided;
}

}  // namespace lockstep::cli
