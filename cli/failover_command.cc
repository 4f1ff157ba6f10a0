// lockstep failover [--protocol raft] [--nodes 5] [--trials 100] [--seed 1]
//                   [--election-timeout 150ms-300ms] [--heartbeat 50ms] [--latency SPEC]
//                   [--options JSON] [--clients N] [--max-wait 10s] [--out DIR]
//
// Runs the failover experiment (harness/failover.h) and writes DIR/failover.csv and
// DIR/failover_cdf.svg. The timing flags are protocol options: they are written into the
// protocol's option block under that protocol's own keys, so the experiment stays protocol-neutral.
#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/duration.h"
#include "core/json_reader.h"
#include "harness/failover.h"
#include "harness/protocols.h"
#include "reports/svg_plot.h"
#include "sim/network.h"

namespace lockstep::cli {

namespace {

constexpr std::array<FlagSpec, 11> kFlags = {{
    {"--protocol", "P", "consensus protocol (default raft)"},
    {"--nodes", "N", "servers in the cluster, 3..9 (default 5)"},
    {"--trials", "N", "leader crashes, each in a fresh world (default 100)"},
    {"--seed", "N", "master seed; trial i runs with a seed derived from it (default 1)"},
    {"--election-timeout", "MIN-MAX", "election timeout range, e.g. 150ms-300ms (protocol option)"},
    {"--heartbeat", "D", "leader heartbeat interval, e.g. 50ms (protocol option)"},
    {"--latency", "SPEC",
     "one-way latency: constant:500us | uniform:200us-2ms | lognormal:MEDIAN,P99,MAX"},
    {"--options", "JSON", "the protocol's option block, as in a scenario's protocol_options"},
    {"--clients", "N", "append clients loading the cluster during each trial (default 0)"},
    {"--max-wait", "D", "give up on a trial this long after the crash (default 10s)"},
    {"--out", "DIR", "where to write failover.csv and failover_cdf.svg"},
}};

// Where a protocol keeps its timing knobs in its option block. A protocol without a row takes the
// timing flags only through --options.
struct TimingKeys {
  std::string_view protocol;
  std::string_view election_timeout_min;
  std::string_view election_timeout_max;
  std::string_view heartbeat_interval;
};
constexpr std::array<TimingKeys, 2> kTimingKeys = {{
    {"raft", "election_timeout_min", "election_timeout_max", "heartbeat_interval"},
    {"paxos", "election_timeout_min", "election_timeout_max", "heartbeat_interval"},
}};

constexpr std::string_view kLatencyExpectation =
    "constant:D, uniform:MIN-MAX or lognormal:MEDIAN,P99,MAX with durations like 500us";

void print_help() {
  std::cout
      << "usage: lockstep failover [flags]\n\n"
         "Crashes the leader at a random moment in each of N fresh simulated clusters and\n"
         "measures the failover time: true time from the crash until every live server names the\n"
         "same new leader in a term above the crashed leader's, and that node says it leads.\n"
         "Prints trials, timeouts and min/median/p99/max; writes one CSV row per trial and an\n"
         "SVG plot of the CDF (default DIR: reports/out/failover-<protocol>). Protocol invariants\n"
         "are checked after every event. Exit code: 0 when every trial kept the invariants, 1 when\n"
         "one broke, 2 for a bad argument.\n\nflags:\n"
      << format_flags(kFlags);
}

[[noreturn]] void bad(std::string_view flag, std::string_view expectation, std::string_view got) {
  throw UsageError(
      fmt::format("lockstep failover: {}: expected {}, got \"{}\"", flag, expectation, got));
}

std::uint64_t integer_flag(const ParsedArgs& args, std::string_view flag, std::uint64_t min,
                           std::uint64_t max, std::uint64_t fallback) {
  const auto text = args.value(flag);
  if (!text) return fallback;
  std::uint64_t out = 0;
  const char* end = text->data() + text->size();
  const auto [ptr, ec] = std::from_chars(text->data(), end, out);
  if (text->empty() || ec != std::errc{} || ptr != end || out < min || out > max) {
    bad(flag, fmt::format("an integer in {}..{}", min, max), *text);
  }
  return out;
}

constexpr std::string_view kDurationExpectation = "a duration with a unit, like 150ms, 2s or 500us";

Nanos duration_text(std::string_view flag, std::string_view text, std::string_view whole,
                    std::string_view expectation = kDurationExpectation) {
  const auto d = parse_duration(text);
  if (!d) bad(flag, expectation, whole);
  return *d;
}

sim::LatencyDistribution parse_latency(const std::string& text) {
  using Kind = sim::LatencyDistribution::Kind;
  sim::LatencyDistribution l;
  const auto colon = text.find(':');
  const std::string_view kind =
      colon == std::string::npos ? "constant" : std::string_view(text).substr(0, colon);
  const std::string_view rest =
      colon == std::string::npos ? std::string_view(text) : std::string_view(text).substr(colon + 1);
  const auto duration = [&](std::string_view part) {
    return duration_text("--latency", part, text, kLatencyExpectation);
  };
  const auto split = [&](char sep, std::size_t parts) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
      const auto at = rest.find(sep, start);
      out.push_back(rest.substr(start, at == std::string_view::npos ? at : at - start));
      if (at == std::string_view::npos) break;
      start = at + 1;
    }
    if (out.size() != parts) bad("--latency", kLatencyExpectation, text);
    return out;
  };
  if (kind == "constant") {
    l.kind = Kind::constant;
    l.value = duration(rest);
  } else if (kind == "uniform") {
    const auto parts = split('-', 2);
    l.kind = Kind::uniform;
    l.min = duration(parts[0]);
    l.max = duration(parts[1]);
  } else if (kind == "lognormal") {
    const auto parts = split(',', 3);
    l.kind = Kind::lognormal;
    l.median = duration(parts[0]);
    l.p99 = duration(parts[1]);
    l.max = duration(parts[2]);
  } else {
    bad("--latency", kLatencyExpectation, text);
  }
  sim::NetworkConfig config;
  config.latency = l;
  if (const auto problem = sim::validate(config)) {
    throw UsageError(fmt::format("lockstep failover: --latency: {} (got \"{}\")", *problem, text));
  }
  return l;
}

// "/field: message", or the bare message for a problem with the block as a whole.
std::string describe(const JsonError& error) {
  return error.syntax || !error.pointer.empty() ? error.to_string() : error.message;
}

// Checks the option block as it stands against the protocol; a problem is blamed on `flag`.
void check_options(const harness::ProtocolModule& module, const nlohmann::json& block,
                   std::string_view flag) {
  const harness::ProtocolOptions options{block, ""};
  const auto configured = module.configure(&options);
  if (const auto* error = std::get_if<JsonError>(&configured)) {
    throw UsageError(fmt::format("lockstep failover: {}: {}", flag, describe(*error)));
  }
}

nlohmann::json protocol_options(const ParsedArgs& args, const harness::ProtocolModule& module) {
  nlohmann::json block = nlohmann::json::object();
  if (const auto text = args.value("--options")) {
    auto parsed = parse_json_strict(*text);
    if (const auto* error = std::get_if<JsonError>(&parsed)) {
      throw UsageError(fmt::format("lockstep failover: --options: {}", describe(*error)));
    }
    block = std::get<nlohmann::json>(std::move(parsed));
    if (!block.is_object()) bad("--options", "a JSON object like {\"prevote\":false}", *text);
    check_options(module, block, "--options");
  }
  const TimingKeys* keys = nullptr;
  for (const TimingKeys& k : kTimingKeys) {
    if (k.protocol == module.name) keys = &k;
  }
  const auto set = [&](std::string_view flag, std::string_view key, const std::string& value) {
    if (keys == nullptr) {
      throw UsageError(fmt::format("lockstep failover: {}: protocol {} has no such option; pass "
                                   "its own keys with --options",
                                   flag, module.name));
    }
    if (block.contains(key)) {
      throw UsageError(fmt::format("lockstep failover: {}: --options also sets {}; give it once",
                                   flag, key));
    }
    block[std::string(key)] = value;
  };
  if (const auto text = args.value("--election-timeout")) {
    const auto dash = text->find('-');
    const std::string lo = dash == std::string::npos ? *text : text->substr(0, dash);
    const std::string hi = dash == std::string::npos ? *text : text->substr(dash + 1);
    const std::string_view expectation = "MIN-MAX durations like 150ms-300ms";
    if (!parse_duration(lo) || !parse_duration(hi)) bad("--election-timeout", expectation, *text);
    set("--election-timeout", keys ? keys->election_timeout_min : "", lo);
    set("--election-timeout", keys ? keys->election_timeout_max : "", hi);
    check_options(module, block, "--election-timeout");
  }
  if (const auto text = args.value("--heartbeat")) {
    duration_text("--heartbeat", *text, *text);
    set("--heartbeat", keys ? keys->heartbeat_interval : "", *text);
    check_options(module, block, "--heartbeat");
  }
  return block;
}

std::string ms(Nanos d) { return fmt::format("{:.1f}ms", d.millis()); }

void print_summary(const harness::FailoverSettings& s, const harness::FailoverResult& r,
                   std::string_view latency) {
  const harness::FailoverSummary& sum = r.summary;
  std::cout << fmt::format("failover   {}, {} nodes, {} trials, seed {}\n", s.protocol, s.nodes,
                           s.trials, s.seed);
  std::cout << fmt::format("options    {}\n", s.protocol_options.empty()
                                                 ? std::string("(protocol defaults)")
                                                 : s.protocol_options.dump());
  std::cout << fmt::format("network    latency {}; clients {}; max wait {}\n\n", latency,
                           s.clients, format_duration(s.max_wait));
  std::cout << fmt::format("  {:>6} {:>11} {:>8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}\n", "trials",
                           "failed_over", "timeouts", "no_leader", "invalid", "min", "median",
                           "p99", "max");
  const bool any = sum.failed_over > 0;
  std::cout << fmt::format("  {:>6} {:>11} {:>8} {:>9} {:>7} {:>9} {:>9} {:>9} {:>9}\n",
                           sum.trials, sum.failed_over, sum.timeouts, sum.no_leader, sum.invalid,
                           any ? ms(sum.min) : "-", any ? ms(sum.median) : "-",
                           any ? ms(sum.p99) : "-", any ? ms(sum.max) : "-");
  for (const harness::FailoverTrial& t : r.trials) {
    if (t.outcome == harness::TrialOutcome::failed_over) continue;
    std::cout << fmt::format("\n  trial {} (seed {}): {}: {}", t.trial, t.seed,
                             harness::to_string(t.outcome), t.detail);
  }
  if (sum.failed_over != sum.trials) std::cout << "\n";
}

std::optional<std::string> write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return fmt::format("cannot write \"{}\"", path.string());
  return std::nullopt;
}

}  // namespace

int failover_command(std::span<const std::string> args) {
  const ParsedArgs parsed("failover", kFlags, args);
  if (parsed.help()) {
    print_help();
    return kExitExpected;
  }
  if (!parsed.positional().empty()) {
    throw UsageError(fmt::format("lockstep failover: takes no file, got \"{}\" (see lockstep "
                                 "failover --help)",
                                 parsed.positional()[0]));
  }
  harness::FailoverSettings s;
  s.protocol = parsed.value("--protocol").value_or("raft");
  const harness::ProtocolModule* module = harness::find_protocol(s.protocol);
  if (module == nullptr) {
    std::vector<std::string_view> runnable;
    for (const harness::ProtocolModule& m : harness::runnable_protocols()) runnable.push_back(m.name);
    bad("--protocol", fmt::format("one of the protocols this build runs ({})", join_names(runnable)),
        s.protocol);
  }
  s.nodes = static_cast<std::uint32_t>(
      integer_flag(parsed, "--nodes", harness::kFailoverNodesMin, harness::kNodesMax, s.nodes));
  s.trials = static_cast<std::uint32_t>(
      integer_flag(parsed, "--trials", 1, harness::kFailoverTrialsMax, s.trials));
  s.seed = integer_flag(parsed, "--seed", 0, ~0ULL, s.seed);
  s.clients = static_cast<std::uint32_t>(
      integer_flag(parsed, "--clients", 0, harness::kFailoverClientsMax, s.clients));
  if (const auto text = parsed.value("--max-wait")) {
    s.max_wait = duration_text("--max-wait", *text, *text);
    if (s.max_wait <= Nanos::zero() || s.max_wait > harness::kFailoverWaitMax) {
      bad("--max-wait", fmt::format("a duration in 1ns..{}", format_duration(harness::kFailoverWaitMax)),
          *text);
    }
  }
  const std::string latency = parsed.value("--latency").value_or("constant:500us");
  s.network.latency = parse_latency(latency);
  s.protocol_options = protocol_options(parsed, *module);
  if (const auto problem = harness::check_failover_settings(s)) {
    throw UsageError("lockstep failover: " + *problem);
  }
  const std::filesystem::path dir =
      parsed.value("--out").value_or("reports/out/failover-" + s.protocol);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw UsageError(fmt::format("lockstep failover: --out: cannot create \"{}\": {}",
                                 dir.string(), ec.message()));
  }

  const harness::FailoverResult result = harness::run_failover(s);
  print_summary(s, result, latency);

  std::vector<double> times_ms;
  for (const harness::FailoverTrial& t : result.trials) {
    if (t.failover) times_ms.push_back(t.failover->millis());
  }
  reports::Plot plot;
  plot.title = fmt::format("Failover time after a leader crash ({} trials, seed {})", s.trials,
                           s.seed);
  plot.x_label = "failover time (ms): crash until every live server names the new leader";
  plot.y_label = "fraction of trials";
  plot.x_min = 0;
  plot.y_min = 0;
  plot.y_max = 1;
  const std::size_t crashed = result.summary.failed_over + result.summary.timeouts;
  plot.series.push_back(reports::cdf_series(
      fmt::format("{}, {} nodes, latency {}", s.protocol, s.nodes, latency), times_ms, crashed));

  const std::filesystem::path csv = dir / "failover.csv";
  const std::filesystem::path svg = dir / "failover_cdf.svg";
  for (const auto& [path, text] : {std::pair{csv, harness::failover_csv(result)},
                                   std::pair{svg, reports::render_svg(plot)}}) {
    if (const auto error = write_file(path, text)) {
      std::cerr << "lockstep failover: --out: " << *error << "\n";
      return kExitBadInput;
    }
  }
  std::cout << fmt::format("\ncsv        {}\nplot       {}\n", csv.string(), svg.string());
  return result.summary.invalid == 0 ? kExitExpected : kExitUnexpected;
}

}  // namespace lockstep::cli
