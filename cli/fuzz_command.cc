// lockstep fuzz [--protocol raft|all] [--seeds 1-1000] [--nodes 3,5] [--duration 10s] [--jobs N]
//               [--budget 10m] [--shard K/N] [--json FILE] [--out DIR] [--verbose] ...
// lockstep fuzz --merge FILE... [--json FILE]
//
// Runs the (seed, cluster size, protocol) cases of the sweep (harness/fuzz.h) in `--jobs` worker
// processes (cli/fuzz_workers.h), handed out one at a time in case order. The parent prints
// records in case order, so standard output is byte-identical for any --jobs; progress and
// speed, which depend on the machine, go to standard error. With --budget the parent stops
// starting new seeds once the wall-clock budget is spent, lets the runs in progress and the rest
// of the current seed finish, and reports the seeds it got through, always a whole prefix of the
// sweep's seeds. --shard K/N keeps every N-th seed; --json writes the results for --merge.
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/fuzz_merge.h"
#include "cli/fuzz_output.h"
#include "cli/fuzz_workers.h"
#include "cli/shrink_output.h"
#include "core/assert.h"
#include "core/duration.h"
#include "core/join.h"
#include "harness/fuzz.h"
#include "harness/fuzz_results.h"
#include "harness/protocols.h"
#include "harness/run.h"
#include "harness/shrink.h"
#include "reports/fuzz_report.h"

namespace lockstep::cli {

namespace {

constexpr std::array<FlagSpec, 20> kFlags = {{
    {"--protocol", "P", "raft, a comma-separated list, or all (the runnable ones); default raft"},
    {"--workload", "W", "append, lock (the lock service) or append,lock: each seed draws one; "
                        "default append,lock"},
    {"--seeds", "A-B", "the seeds to run, inclusive; default 1-100 (with --budget: from 1 on; "
                       "A- runs from A on)"},
    {"--nodes", "N,M", "cluster sizes; every seed runs on each; default 3,5"},
    {"--duration", "D", "simulated time of each run; default 10s"},
    {"--liveness-bound", "D", "after the final heal, pending calls must finish within D; default 10s"},
    {"--clients", "N", "every run has N clients (1..100) instead of the 1..5 each seed draws"},
    {"--nemesis-kinds", "K", "drawn (each seed draws a subset; default) or all (every kind on)"},
    {"--protocol-options", "JSON",
     "option blocks put into every generated scenario, by protocol, like "
     "'{\"raft\":{\"prevote\":false}}' (see scenarios/README.md)"},
    {"--budget", "D", "wall-clock budget like 10m or 90s: start no seed after it is spent"},
    {"--max-failures", "N", "start no seed after N runs have failed (seeds already started "
                            "finish, so more may fail): find a first bug fast"},
    {"--shard", "K/N", "run only every N-th seed of the range, from the K-th (K in 1..N)"},
    {"--jobs", "N", "worker processes; default: the number of CPUs"},
    {"--out", "DIR", "where failing runs are written as scenarios; default reports/out/fuzz"},
    {"--shrink", "N", "shrink up to N failing runs (the first of each protocol and property first) "
                      "into small scenarios under --out; default 3, 0 for none"},
    {"--shrink-runs", "N", "re-runs each shrink may use; default 300"},
    {"--report", "DIR", "also write summary.md and report.html (failures by property and "
                        "protocol, every failing run) to DIR"},
    {"--json", "FILE", "also write the results as JSON (format lockstep-fuzz/1), for --merge"},
    {"--merge", "", "read the --json FILEs given as arguments, check that they fit together and "
                    "print them as one sweep"},
    {"--verbose", "", "print every run with its fault profile, not only the failures"},
}};
constexpr std::uint64_t kJobsMax = 256;
constexpr std::uint64_t kShrinkMax = 1000;  // failing runs one sweep shrinks
constexpr Nanos kBudgetMax = seconds(3600) * 24 * 30;  // 30 days of wall time

void print_help() {
  std::cout
      << "usage: lockstep fuzz [flags]\n"
         "       lockstep fuzz --merge FILE... [--json FILE]\n\n"
         "Runs a random-seed sweep: each seed draws its own fault profile (nemesis kinds and\n"
         "rate, network loss, duplication, reordering and latency, clock offsets and drift, torn\n"
         "writes, clients and what they do: append, or locks, elections and configuration on\n"
         "the lock service) and runs on each cluster size, expecting every property to hold.\n"
         "Each failing run is written as a scenario file that `lockstep run` reproduces.\n"
         "Results go to standard output in seed order, identical for any --jobs; progress and\n"
         "speed go to standard error (a live line on a terminal, a plain line every 5%\n"
         "otherwise).\n\n"
         "Budget: with --budget D the sweep runs seeds from the first one (1, or A of --seeds A-B\n"
         "or A-) until D of wall time is spent, or until seed B if that comes first. No seed\n"
         "starts after the budget is spent; the runs in progress and the rest of the seed being\n"
         "handed out finish, so the results cover a whole prefix of the seeds (\"seeds 1-734 in\n"
         "10m00s\"), printed in seed order.\n\n"
         "Shards: --shard K/N runs the K-th seed of the range, the (K+N)-th, the (K+2N)-th and so\n"
         "on: N machines, each with its own K and the same other flags, run the whole sweep\n"
         "between them (with --budget, each a prefix of its share). Write each one's results\n"
         "with --json and combine them with --merge, which checks that the settings match\n"
         "(apart from seeds, shard and budget) and that no seed ran twice, then prints one\n"
         "report and can write the merged results with --json.\n\n"
         "Exit code: 0 when every run passed, 1 when some failed, 2 for a bad argument or a\n"
         "results file that cannot be merged.\n\nflags:\n"
      << format_flags(kFlags);
}

std::optional<std::uint64_t> to_unsigned(std::string_view text) {
  std::uint64_t out = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return out;
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t at = text.find(sep, start);
    parts.push_back(text.substr(start, at == std::string_view::npos ? at : at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

[[noreturn]] void bad_flag(std::string_view flag, std::string_view expected, std::string_view got) {
  throw UsageError(fmt::format("lockstep fuzz: {}: expected {}, got \"{}\"", flag, expected, got));
}

std::vector<std::string> parse_protocols(const std::string& text) {
  std::vector<std::string> protocols;
  if (text == "all") {
    for (const harness::ProtocolModule& m : harness::runnable_protocols()) {
      protocols.emplace_back(m.name);
    }
    return protocols;
  }
  const auto known = harness::known_protocols();
  for (std::string_view name : split(text, ',')) {
    if (std::find(known.begin(), known.end(), name) == known.end() ||
        std::find(protocols.begin(), protocols.end(), name) != protocols.end()) {
      bad_flag("--protocol", fmt::format("all or distinct names among {}", join_names(known)), text);
    }
    protocols.emplace_back(name);
  }
  return protocols;
}

std::vector<harness::FuzzWorkload> parse_workloads(std::string_view text) {
  std::vector<harness::FuzzWorkload> workloads;
  for (std::string_view name : split(text, ',')) {
    const auto* names = std::begin(harness::kFuzzWorkloadNames);
    const auto* it = std::find(names, std::end(harness::kFuzzWorkloadNames), name);
    const auto w = static_cast<harness::FuzzWorkload>(it - names);
    if (it == std::end(harness::kFuzzWorkloadNames) ||
        std::find(workloads.begin(), workloads.end(), w) != workloads.end()) {
      bad_flag("--workload", "append, lock or append,lock", text);
    }
    workloads.push_back(w);
  }
  return workloads;
}

Nanos parse_duration_flag(const ParsedArgs& parsed, std::string_view flag, Nanos max,
                          std::string_view expected) {
  const std::string text = *parsed.value(flag);
  const auto d = parse_duration(text);
  if (!d || *d < milliseconds(1) || *d > max) bad_flag(flag, expected, text);
  return *d;
}

// Reads --seeds with --budget in mind: "A-B", "A" (A-A), or "A-" (open, with --budget only).
void parse_seeds(const ParsedArgs& parsed, bool budget, harness::FuzzSettings& s) {
  const auto seeds = parsed.value("--seeds");
  if (!seeds) {
    if (budget) s.seed_last = s.seed_first + (harness::kFuzzOpenSeedsMax - 1);
    return;
  }
  const auto parts = split(*seeds, '-');
  const auto first = to_unsigned(parts.front());
  const bool open = parts.size() == 2 && parts.back().empty();
  const auto last = open ? first : parts.size() == 2 ? to_unsigned(parts.back()) : first;
  if (parts.size() > 2 || !first || !last) {
    bad_flag("--seeds", budget ? "a range like 1-5000, or 1- (from 1 on)" : "a range like 1-5000",
             *seeds);
  }
  if (open && !budget) {
    bad_flag("--seeds", "a range like 1-5000 (an open range like 1- needs --budget)", *seeds);
  }
  if (*first > *last) bad_flag("--seeds", "a range like 1-5000 with first <= last", *seeds);
  s.seed_first = *first;
  s.seed_last = *last;
  if (open) {
    const std::uint64_t room = std::numeric_limits<std::uint64_t>::max() - 1 - s.seed_first;
    s.seed_last = s.seed_first + std::min(room, harness::kFuzzOpenSeedsMax - 1);
  }
  if (budget && s.seed_last - s.seed_first >= harness::kFuzzOpenSeedsMax) {
    bad_flag("--seeds", fmt::format("at most {} seeds", harness::kFuzzOpenSeedsMax), *seeds);
  }
}

void parse_shard(const std::string& text, harness::FuzzSettings& s) {
  const auto parts = split(text, '/');
  const auto k = to_unsigned(parts.front());
  const auto n = parts.size() == 2 ? to_unsigned(parts.back()) : std::nullopt;
  if (!k || !n || *k < 1 || *k > *n || *n > harness::kFuzzShardsMax) {
    bad_flag("--shard",
             fmt::format("K/N with 1 <= K <= N <= {}, like 2/8", harness::kFuzzShardsMax), text);
  }
  s.shard_index = *k - 1;
  s.shard_count = *n;
  if (harness::fuzz_seed_count(s) == 0) {
    throw UsageError(fmt::format("lockstep fuzz: --shard: shard {} of seeds {}-{} has no seed: use "
                                 "at most {} shards for this range",
                                 text, s.seed_first, s.seed_last, s.seed_last - s.seed_first + 1));
  }
}

// Reads --protocol-options: a JSON object of option blocks by protocol, each checked by its
// protocol module against the first generated scenario (so a misspelt option stops the sweep
// before it starts, with the pointer of what is wrong).
void parse_protocol_options(const std::string& text, harness::FuzzSettings& s) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  const auto expected = "a JSON object of option objects by protocol, like "
                        "{\"raft\":{\"prevote\":false}}";
  if (!j.is_object()) bad_flag("--protocol-options", expected, text);
  for (const auto& [name, block] : j.items()) {
    if (std::find(s.protocols.begin(), s.protocols.end(), name) == s.protocols.end()) {
      throw UsageError(fmt::format("lockstep fuzz: --protocol-options: options for {}, which the "
                                   "sweep does not run (--protocol {})",
                                   name, join(s.protocols, ",")));
    }
    if (!block.is_object()) bad_flag("--protocol-options", expected, text);
    s.protocol_options[name] = block;
  }
  for (const std::string& protocol : s.protocols) {
    const harness::FuzzCase first{s.seed_first, s.nodes.front(), protocol};
    if (const auto problem =
            harness::check_protocols(harness::fuzz_case_scenario(s, first), "--protocol-options")) {
      throw UsageError(fmt::format("lockstep fuzz: {}", *problem));
    }
  }
}

harness::FuzzSettings parse_settings(const ParsedArgs& parsed, bool budget) {
  harness::FuzzSettings s;
  s.protocols = parse_protocols(parsed.value("--protocol").value_or("raft"));
  if (const auto workload = parsed.value("--workload")) s.workloads = parse_workloads(*workload);
  parse_seeds(parsed, budget, s);
  if (const auto nodes = parsed.value("--nodes")) {
    s.nodes.clear();
    for (std::string_view part : split(*nodes, ',')) {
      const auto n = to_unsigned(part);
      if (!n || *n < 1 || *n > harness::kNodesMax ||
          std::find(s.nodes.begin(), s.nodes.end(), *n) != s.nodes.end()) {
        bad_flag("--nodes", fmt::format("distinct cluster sizes in 1..{} like 3,5",
                                        harness::kNodesMax), *nodes);
      }
      s.nodes.push_back(static_cast<std::uint32_t>(*n));
    }
  }
  if (parsed.has("--duration")) {
    s.duration = parse_duration_flag(parsed, "--duration", harness::kDurationMax,
                                     "a duration in 1ms..1h like 10s");
  }
  if (parsed.has("--liveness-bound")) {
    s.liveness_bound = parse_duration_flag(parsed, "--liveness-bound", harness::kDurationMax,
                                           "a duration in 1ms..1h like 10s");
  }
  if (const auto clients = parsed.value("--clients")) {
    const auto n = to_unsigned(*clients);
    if (!n || *n < 1 || *n > harness::kClientsMax) {
      bad_flag("--clients", fmt::format("a number of clients in 1..{}", harness::kClientsMax),
               *clients);
    }
    s.clients = static_cast<std::uint32_t>(*n);
  }
  if (const auto kinds = parsed.value("--nemesis-kinds")) {
    if (*kinds != "drawn" && *kinds != "all") bad_flag("--nemesis-kinds", "drawn or all", *kinds);
    s.all_nemesis_kinds = *kinds == "all";
  }
  const std::uint64_t seeds = s.seed_last - s.seed_first;  // + 1, without overflow
  if (!budget && (seeds >= harness::kFuzzRunsMax ||
                  (seeds + 1) * s.nodes.size() * s.protocols.size() > harness::kFuzzRunsMax)) {
    bad_flag("--seeds", "at most 100000000 runs (seeds x cluster sizes x protocols)",
             fmt::format("{}-{}", s.seed_first, s.seed_last));
  }
  if (const auto options = parsed.value("--protocol-options")) {
    parse_protocol_options(*options, s);
  }
  if (const auto shard = parsed.value("--shard")) parse_shard(*shard, s);
  return s;
}

using Clock = std::chrono::steady_clock;

// A budgeted sweep without an upper seed (no --seeds, or --seeds A-).
bool open_ended(const harness::FuzzSettings& s, const std::optional<Nanos>& budget) {
  return budget && s.seed_last - s.seed_first >= harness::kFuzzOpenSeedsMax - 1;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Progress on standard error: one live line on a terminal, a plain line every 5% otherwise (of
// the seeds, or of the budget when that ends first).
class Progress {
 public:
  // `seeds_total`: the sweep's seeds (`open`: only a bound); `budget_s`: the wall-clock budget.
  Progress(std::uint64_t seeds_total, bool open, std::optional<double> budget_s,
           Clock::time_point start)
      : seeds_total_(seeds_total),
        open_(open),
        budget_s_(budget_s),
        tty_(isatty(STDERR_FILENO) == 1),
        start_(start) {}

  void update(std::uint64_t seeds_done, std::uint64_t runs_done, std::uint64_t failed) {
    const auto now = Clock::now();
    if (tty_) {
      if (now - last_ < std::chrono::milliseconds(200)) return;
      last_ = now;
      std::cerr << "\r\033[K" << line(seeds_done, runs_done, failed) << std::flush;
      shown_ = true;
      return;
    }
    const auto step = static_cast<std::uint64_t>(fraction(seeds_done) * 20.0);
    if (step > step_) {
      step_ = step;
      std::cerr << line(seeds_done, runs_done, failed) << "\n";
    }
  }
  // Clears the live line so that a result printed to standard output starts on a clean line.
  void clear() {
    if (tty_ && shown_) std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
  }

 private:
  double fraction(std::uint64_t seeds_done) const {
    double f = static_cast<double>(seeds_done) / static_cast<double>(seeds_total_);
    if (budget_s_) f = std::max(f, seconds_since(start_) / *budget_s_);
    return std::min(f, 1.0);
  }

  std::string line(std::uint64_t seeds_done, std::uint64_t runs_done, std::uint64_t failed) const {
    const double secs = std::max(seconds_since(start_), 1e-9);
    const double seed_rate = static_cast<double>(seeds_done) / secs;
    std::string text = open_ ? fmt::format("fuzz: {} seeds", seeds_done)
                           : fmt::format("fuzz: {}/{} seeds ({:.0f}%)", seeds_done, seeds_total_,
                                         100.0 * static_cast<double>(seeds_done) /
                                             static_cast<double>(seeds_total_));
    text += fmt::format(", {:.1f} seeds/s, {:.1f} runs/s, {} failed", seed_rate,
                        static_cast<double>(runs_done) / secs, failed);
    std::optional<double> eta;
    if (seed_rate > 0) eta = static_cast<double>(seeds_total_ - seeds_done) / seed_rate;
    if (budget_s_ && (!eta || *budget_s_ - secs < *eta)) {
      return text + fmt::format(", budget ends in {}",
                                format_wall_seconds(std::max(0.0, *budget_s_ - secs)));
    }
    return text + ", ETA " + (eta ? format_wall_seconds(*eta) : std::string("?"));
  }

  std::uint64_t seeds_total_;
  bool open_;
  std::optional<double> budget_s_;
  bool tty_;
  Clock::time_point start_;
  Clock::time_point last_{};
  std::uint64_t step_ = 0;
  bool shown_ = false;
};

// Writes a failing run's scenario and checks that loading it back reproduces the run. Returns
// the lines to print; `file` gets the path written ("" when it could not be).
std::string write_reproducer(const harness::FuzzSettings& settings,
                             const harness::FuzzRecord& record, const std::filesystem::path& dir,
                             bool* reproduced, std::string* file_written) {
  const harness::Scenario scenario = harness::fuzz_case_scenario(settings, record.run);
  const std::filesystem::path file = dir / (harness::fuzz_case_name(record.run) + ".json");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream out(file);
  out << harness::to_json(scenario).dump(2) << "\n";
  out.close();
  if (!out) {
    *reproduced = false;
    return fmt::format("  could not write {}\n", file.string());
  }
  *file_written = file.string();
  std::string text = fmt::format("  reproduce: lockstep run {}\n", file.string());
  if (record.failures.front().property == "crash") return text;  // re-running would crash us
  auto loaded = harness::load_scenario_file(file.string(), harness::known_protocols());
  const auto* again = std::get_if<harness::Scenario>(&loaded);
  const harness::RunResult result =
      harness::run_scenario(again != nullptr ? *again : scenario,
                            harness::RunOptions{std::nullopt, record.run.protocol, nullptr});
  if (again == nullptr || *again != scenario || result.trace_hash != record.trace_hash) {
    *reproduced = false;
    text += fmt::format("  WARNING: the file does not reproduce the run (trace hash {:016x}, "
                        "expected {:016x}): a bug in lockstep, please report it\n",
                        result.trace_hash, record.trace_hash);
  }
  return text;
}

// Shrinks up to `limit` failing runs into small scenarios beside the reproducers: first the first
// failure of each (protocol, property), so that different bugs come first, then the others, in
// case order. Prints each shrink and the scenario it wrote (CI logs then show a small reproducer
// of every distinct failure). Returns false when a written file does not fail when loaded back.
bool shrink_failures(const harness::FuzzSettings& settings, const harness::FuzzOutcome& outcome,
                     std::uint64_t limit, std::uint64_t max_runs, const std::filesystem::path& dir) {
  std::vector<const harness::FuzzRecord*> chosen;
  std::set<std::pair<std::string, std::string>> kinds;
  for (const harness::FuzzRecord& r : outcome.failures) {
    if (kinds.emplace(r.run.protocol, r.failures.front().property).second) chosen.push_back(&r);
  }
  for (const harness::FuzzRecord& r : outcome.failures) {
    if (std::find(chosen.begin(), chosen.end(), &r) == chosen.end()) chosen.push_back(&r);
  }
  if (chosen.size() > limit) chosen.resize(limit);
  bool all_fail = true;
  for (const harness::FuzzRecord* r : chosen) {
    const std::string name = harness::fuzz_case_name(r->run);
    const std::string& failed = r->failures.front().property;
    std::cout << fmt::format("\nshrink     {}: {}\n", name, failed);
    const auto property = harness::property_from_name(failed);  // not "crash", "event_limit"
    if (!property) {
      std::cout << fmt::format("  not shrunk: the run {}\n", failed == "crash"
                                                                 ? "crashed the process"
                                                                 : "hit its event limit");
      continue;
    }
    const std::filesystem::path out = dir / (name + "-shrunk.json");
    const auto shrunk =
        harness::shrink(harness::fuzz_case_scenario(settings, r->run), r->run.protocol, *property,
                        harness::ShrinkOptions{max_runs, out.string()});
    if (const auto* refused = std::get_if<harness::ShrinkRefused>(&shrunk)) {
      std::cout << fmt::format("  not shrunk: {}\n", refused->reason);
      continue;
    }
    const harness::ShrinkResult& result = std::get<harness::ShrinkResult>(shrunk);
    const WrittenShrink written = write_shrunk(result, out, r->run.protocol, "  ");
    all_fail = all_fail && written.still_fails;
    std::cout << describe_shrink(result, max_runs, "  ") << written.text;
    if (written.still_fails) {
      std::cout << harness::to_json(result.scenario).dump(2) << "\n";
    }
    std::cout << std::flush;
  }
  return all_fail;
}

// "seeds 1-100", "seeds 2-98 step 3 (shard 2/3 of 1-100)", "seeds from 1 while 10m lasts".
std::string describe_plan(const harness::FuzzSettings& s, const std::optional<Nanos>& budget) {
  std::string text = open_ended(s, budget) ? fmt::format("seeds from {}", s.seed_first)
                          : fmt::format("seeds {}-{}", s.seed_first, s.seed_last);
  if (s.shard_count > 1) {
    std::vector<std::string> some;
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(3, harness::fuzz_seed_count(s)); ++i) {
      some.push_back(fmt::format("{}", harness::fuzz_seed_at(s, i)));
    }
    if (harness::fuzz_seed_count(s) > some.size()) some.emplace_back("...");
    text += fmt::format(" shard {}/{} ({})", s.shard_index + 1, s.shard_count, join(some, ", "));
  }
  if (budget) text += fmt::format(" for at most {} of wall time", format_duration(*budget));
  return text;
}

int fuzz_run(const ParsedArgs& parsed) {
  const Clock::time_point start = Clock::now();
  std::optional<Nanos> budget;
  if (parsed.has("--budget")) {
    budget = parse_duration_flag(parsed, "--budget", kBudgetMax,
                                 "a wall-clock duration in 1ms..720h like 10m or 90s");
  }
  const harness::FuzzSettings settings = parse_settings(parsed, budget.has_value());
  std::uint64_t jobs = std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  if (const auto text = parsed.value("--jobs")) {
    const auto n = to_unsigned(*text);
    if (!n || *n < 1 || *n > kJobsMax) bad_flag("--jobs", "a number of processes in 1..256", *text);
    jobs = *n;
  }
  const std::filesystem::path out_dir = parsed.value("--out").value_or("reports/out/fuzz");
  const bool verbose = parsed.has("--verbose");
  std::optional<std::uint64_t> max_failures;
  if (const auto text = parsed.value("--max-failures")) {
    const auto n = to_unsigned(*text);
    if (!n || *n < 1) bad_flag("--max-failures", "a number of failed runs, at least 1", *text);
    max_failures = *n;
  }
  std::uint64_t shrink_limit = 3;
  if (const auto text = parsed.value("--shrink")) {
    const auto n = to_unsigned(*text);
    if (!n || *n > kShrinkMax) {
      bad_flag("--shrink", fmt::format("a number of runs to shrink in 0..{}", kShrinkMax), *text);
    }
    shrink_limit = *n;
  }
  std::uint64_t shrink_runs = harness::kShrinkRunsDefault;
  if (const auto text = parsed.value("--shrink-runs")) {
    const auto n = to_unsigned(*text);
    if (!n || *n < 2 || *n > harness::kShrinkRunsMax) {
      bad_flag("--shrink-runs",
               fmt::format("a number of re-runs in 2..{} (two check the input)",
                           harness::kShrinkRunsMax),
               *text);
    }
    shrink_runs = *n;
  }
  const std::optional<std::string> report_dir = parsed.value("--report");
  const std::optional<std::string> json_path = parsed.value("--json");
  std::ofstream json;
  if (json_path) {
    json.open(*json_path);  // now, so that a bad path fails before the sweep rather than after
    if (!json) throw UsageError(fmt::format("lockstep fuzz: --json: cannot write {}", *json_path));
  }

  const std::uint64_t seeds_total = harness::fuzz_seed_count(settings);
  const std::uint64_t per_seed = settings.nodes.size() * settings.protocols.size();
  jobs = std::min<std::uint64_t>(jobs, seeds_total * per_seed);
  std::cout << fmt::format("fuzz       {}, {}", describe_sweep(settings),
                           describe_plan(settings, budget));
  std::cout << (budget ? std::string("\n")
                       : fmt::format(": {} runs\n", seeds_total * per_seed));

  // Hands out the cases seed by seed; once the budget is spent, no new seed starts.
  std::uint64_t seeds_started = 0;
  std::vector<harness::FuzzCase> seed_cases;
  std::size_t next_in_seed = 0;
  std::uint64_t numbered = 0;
  bool stopped_by_budget = false;
  std::uint64_t failures_seen = 0;
  bool stopped_by_failures = false;
  const auto next_case = [&]() -> std::optional<FuzzWorkerPool::Numbered> {
    if (next_in_seed == seed_cases.size()) {
      if (seeds_started == seeds_total) return std::nullopt;
      if (max_failures && failures_seen >= *max_failures) {
        stopped_by_failures = true;
        return std::nullopt;
      }
      if (budget && seeds_started > 0 &&
          Clock::now() - start >= std::chrono::nanoseconds(budget->count)) {
        stopped_by_budget = true;
        return std::nullopt;
      }
      seed_cases =
          harness::fuzz_seed_cases(settings, harness::fuzz_seed_at(settings, seeds_started));
      ++seeds_started;
      next_in_seed = 0;
    }
    return FuzzWorkerPool::Numbered{numbered++, seed_cases[next_in_seed++]};
  };

  Progress progress(seeds_total, open_ended(settings, budget),
                    budget ? std::optional<double>(budget->seconds()) : std::nullopt, start);
  harness::FuzzResults results;
  harness::FuzzOutcome& outcome = results.outcome;
  bool all_reproduced = true;
  std::map<std::uint64_t, harness::FuzzRecord> pending;  // arrived, not yet printed
  std::uint64_t next_to_print = 0;
  std::uint64_t done = 0;
  std::uint64_t failed = 0;
  FuzzWorkerPool pool(settings, jobs);
  pool.run(next_case, [&](std::uint64_t number, harness::FuzzRecord record) {
    ++done;
    failures_seen += record.passed ? 0 : 1;
    failed += record.passed ? 0 : 1;
    pending.emplace(number, std::move(record));
    // Print in case order: whatever arrived contiguously from the next one expected.
    for (auto it = pending.begin(); it != pending.end() && it->first == next_to_print;
         it = pending.erase(it), ++next_to_print) {
      const harness::FuzzRecord& r = it->second;
      outcome.add(r);
      if (r.passed && !verbose) continue;
      progress.clear();
      if (r.passed) {
        const harness::Scenario scenario = harness::fuzz_case_scenario(settings, r.run);
        std::cout << fmt::format("ok   {}  hash {:016x}  {}\n", scenario.name, r.trace_hash,
                                 harness::describe_profile(scenario));
        continue;
      }
      std::string file;
      std::cout << describe_failure(settings, r)
                << write_reproducer(settings, r, out_dir, &all_reproduced, &file) << std::flush;
      results.scenario_files.push_back(std::move(file));
    }
    progress.update(next_to_print / per_seed, done, failed);
  });
  progress.clear();
  LS_ASSERT(pending.empty() && next_to_print == numbered && numbered == seeds_started * per_seed);

  const double wall = seconds_since(start);
  results.settings = settings;
  results.budget = budget;
  results.stopped_by_budget = stopped_by_budget;
  results.seeds_run = {{harness::fuzz_seed_at(settings, 0),
                        harness::fuzz_seed_at(settings, seeds_started - 1), settings.shard_count}};
  results.wall_seconds = wall;
  results.jobs = jobs;
  std::cout << describe_totals(outcome);
  if (stopped_by_failures) {
    std::cout << fmt::format("\nstopped    after {} failed run{} (--max-failures {}): seeds {} ran\n",
                             failures_seen, failures_seen == 1 ? "" : "s", *max_failures,
                             harness::describe_seeds(results.seeds_run));
  }
  if (budget) {
    std::cout << fmt::format("\nbudget     seeds {} in {} ({})\n",
                             harness::describe_seeds(results.seeds_run), format_wall_seconds(wall),
                             stopped_by_budget
                                 ? fmt::format("the {} budget ran out", format_duration(*budget))
                                 : std::string("every seed of the range ran"));
  }
  const bool all_shrunk_fail =
      outcome.failures.empty() || shrink_limit == 0 ||
      shrink_failures(settings, outcome, shrink_limit, shrink_runs, out_dir);
  std::cout << std::flush;
  std::cerr << fmt::format("time       {:.1f}s wall with {} job{}: {:.1f} runs/s, {:.1f} seeds/s\n",
                           wall, jobs, jobs == 1 ? "" : "s",
                           static_cast<double>(outcome.runs) / std::max(wall, 1e-9),
                           static_cast<double>(seeds_started) / std::max(wall, 1e-9));
  if (report_dir) {
    if (const auto problem = reports::write_fuzz_report(*report_dir, settings, outcome)) {
      std::cerr << fmt::format("lockstep fuzz: --report: {}\n", *problem);
      return kExitBadInput;
    }
    std::cout << fmt::format("report     {}/report.html\n", *report_dir);
  }
  if (json_path) {
    json << harness::to_json(results).dump(2) << "\n";
    json.close();
    if (!json) {
      std::cerr << fmt::format("lockstep fuzz: --json: could not write {}\n", *json_path);
      return kExitBadInput;
    }
  }
  return outcome.failures.empty() && all_reproduced && all_shrunk_fail ? kExitExpected
                                                                       : kExitUnexpected;
}

}  // namespace

int fuzz_command(std::span<const std::string> args) {
  const ParsedArgs parsed("fuzz", kFlags, args);
  if (parsed.help()) {
    print_help();
    return kExitExpected;
  }
  if (parsed.has("--merge")) {
    for (const FlagSpec& flag : kFlags) {
      if (flag.name != "--merge" && flag.name != "--json" && parsed.has(flag.name)) {
        throw UsageError(fmt::format("lockstep fuzz: --merge takes the results files and --json "
                                     "only, got {} (the settings come from the files)",
                                     flag.name));
      }
    }
    return fuzz_merge(parsed.positional(), parsed.value("--json"));
  }
  if (!parsed.positional().empty()) {
    throw UsageError(fmt::format("lockstep fuzz: unexpected argument \"{}\" (see lockstep fuzz "
                                 "--help)",
                                 parsed.positional().front()));
  }
  return fuzz_run(parsed);
}

}  // namespace lockstep::cli
