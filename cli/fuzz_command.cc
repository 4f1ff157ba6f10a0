// lockstep fuzz [--protocol raft|all] [--seeds 1-1000] [--nodes 3,5] [--duration 10s] [--jobs N]
//               [--out DIR] [--verbose]
//
// Runs every (seed, cluster size, protocol) of the sweep (harness/fuzz.h) in `--jobs` worker
// processes. Each worker is forked with its share of the runs (every N-th, in case order), runs
// them one at a time exactly as a single process would, and sends each record back as a line of
// JSON over a pipe. The parent prints records in case order, so standard output is byte-identical
// for any --jobs; progress and speed, which depend on the machine, go to standard error. A worker
// that dies (a failed assertion aborts the process) costs one run, recorded as a "crash", and is
// forked again for the rest of its share.
#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/duration.h"
#include "core/join.h"
#include "harness/fuzz.h"
#include "harness/protocols.h"
#include "harness/run.h"

namespace lockstep::cli {

namespace {

constexpr std::array<FlagSpec, 9> kFlags = {{
    {"--protocol", "P", "raft, a comma-separated list, or all (the runnable ones); default raft"},
    {"--workload", "W", "append, lock (the lock service) or append,lock: each seed draws one; "
                        "default append,lock"},
    {"--seeds", "A-B", "the seeds to run, inclusive; default 1-100"},
    {"--nodes", "N,M", "cluster sizes; every seed runs on each; default 3,5"},
    {"--duration", "D", "simulated time of each run; default 10s"},
    {"--liveness-bound", "D", "after the final heal, pending calls must finish within D; default 10s"},
    {"--jobs", "N", "worker processes; default: the number of CPUs"},
    {"--out", "DIR", "where failing runs are written as scenarios; default reports/out/fuzz"},
    {"--verbose", "", "print every run with its fault profile, not only the failures"},
}};
constexpr std::uint64_t kJobsMax = 256;

void print_help() {
  std::cout
      << "usage: lockstep fuzz [flags]\n\n"
         "Runs a random-seed sweep: each seed draws its own fault profile (nemesis kinds and\n"
         "rate, network loss, duplication, reordering and latency, clock offsets and drift, torn\n"
         "writes, clients and what they do: append, or locks, elections and configuration on\n"
         "the lock service) and runs on each cluster size, expecting every property to hold.\n"
         "Each failing run is written as a scenario file that `lockstep run` reproduces.\n"
         "Results go to standard output in seed order, identical for any --jobs; progress and\n"
         "speed go to standard error. Exit code: 0 when every run passed, 1 when some failed,\n"
         "2 for a bad argument.\n\nflags:\n"
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

harness::FuzzSettings parse_settings(const ParsedArgs& parsed) {
  harness::FuzzSettings s;
  s.protocols = parse_protocols(parsed.value("--protocol").value_or("raft"));
  if (const auto workload = parsed.value("--workload")) s.workloads = parse_workloads(*workload);
  if (const auto seeds = parsed.value("--seeds")) {
    const auto parts = split(*seeds, '-');
    const auto first = to_unsigned(parts.front());
    const auto last = parts.size() == 2 ? to_unsigned(parts.back()) : first;
    if (parts.size() > 2 || !first || !last) bad_flag("--seeds", "a range like 1-5000", *seeds);
    if (*first > *last) bad_flag("--seeds", "a range like 1-5000 with first <= last", *seeds);
    s.seed_first = *first;
    s.seed_last = *last;
  }
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
  if (const auto duration = parsed.value("--duration")) {
    const auto d = parse_duration(*duration);
    if (!d || *d < milliseconds(1) || *d > harness::kDurationMax) {
      bad_flag("--duration", "a duration in 1ms..1h like 10s", *duration);
    }
    s.duration = *d;
  }
  if (const auto bound = parsed.value("--liveness-bound")) {
    const auto d = parse_duration(*bound);
    if (!d || *d < milliseconds(1) || *d > harness::kDurationMax) {
      bad_flag("--liveness-bound", "a duration in 1ms..1h like 10s", *bound);
    }
    s.liveness_bound = *d;
  }
  const std::uint64_t seeds = s.seed_last - s.seed_first;  // + 1, without overflow
  if (seeds >= harness::kFuzzRunsMax ||
      (seeds + 1) * s.nodes.size() * s.protocols.size() > harness::kFuzzRunsMax) {
    bad_flag("--seeds", "at most 100000000 runs (seeds x cluster sizes x protocols)",
             fmt::format("{}-{}", s.seed_first, s.seed_last));
  }
  return s;
}

std::string format_seconds(double s) {
  const auto total = static_cast<std::int64_t>(s + 0.5);
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, total / 60 % 60);
}

// Progress on standard error: one live line on a terminal, a plain line every 5% otherwise.
class Progress {
 public:
  explicit Progress(std::uint64_t total)
      : total_(total), tty_(isatty(STDERR_FILENO) == 1), start_(Clock::now()) {}

  void update(std::uint64_t done, std::uint64_t failed) {
    const auto now = Clock::now();
    if (tty_) {
      if (done < total_ && now - last_ < std::chrono::milliseconds(200)) return;
      last_ = now;
      std::cerr << "\r\033[K" << line(done, failed) << std::flush;
      shown_ = true;
    } else if (done * 20 / total_ > step_ || done == total_) {
      step_ = done * 20 / total_;
      if (done == total_ && printed_last_) return;
      printed_last_ = done == total_;
      std::cerr << line(done, failed) << "\n";
    }
  }
  // Clears the live line so that a result printed to standard output starts on a clean line.
  void clear() {
    if (tty_ && shown_) std::cerr << "\r\033[K" << std::flush;
    shown_ = false;
  }
  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  using Clock = std::chrono::steady_clock;
  std::string line(std::uint64_t done, std::uint64_t failed) const {
    const double secs = elapsed();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    const std::string eta =
        rate > 0 ? format_seconds(static_cast<double>(total_ - done) / rate) : "?";
    return fmt::format("fuzz: {}/{} runs ({:.0f}%), {:.1f} runs/s, {} failed, ETA {}", done,
                       total_, 100.0 * static_cast<double>(done) / static_cast<double>(total_),
                       rate, failed, eta);
  }
  std::uint64_t total_;
  bool tty_;
  Clock::time_point start_;
  Clock::time_point last_{};
  std::uint64_t step_ = 0;
  bool shown_ = false;
  bool printed_last_ = false;
};

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    return fmt::format("the run died of signal {} ({})", WTERMSIG(status),
                       strsignal(WTERMSIG(status)));
  }
  return fmt::format("the run's process exited with status {} before reporting",
                     WEXITSTATUS(status));
}

// Worker processes, each with its share of the cases, and the merge of their records.
class WorkerPool {
 public:
  using Sink = std::function<void(std::size_t index, harness::FuzzRecord)>;

  WorkerPool(const harness::FuzzSettings& settings, const std::vector<harness::FuzzCase>& cases,
             std::size_t jobs)
      : settings_(settings), cases_(cases), workers_(jobs) {
    for (std::size_t k = 0; k < cases.size(); ++k) workers_[k % jobs].todo.push_back(k);
  }

  // Runs every case; `sink` gets each record as it arrives (any order).
  void run(const Sink& sink) {
    for (Worker& w : workers_) spawn(w);
    std::vector<pollfd> fds;
    for (;;) {
      fds.clear();
      std::vector<Worker*> live;
      for (Worker& w : workers_) {
        if (w.fd >= 0) {
          fds.push_back(pollfd{w.fd, POLLIN, 0});
          live.push_back(&w);
        }
      }
      if (fds.empty()) return;
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
      }
      for (std::size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents != 0) drain(*live[i], sink);
      }
    }
  }

 private:
  struct Worker {
    std::vector<std::size_t> todo;  // case indices, in order
    std::size_t next = 0;           // todo[next] is the case running now
    pid_t pid = -1;
    int fd = -1;
    std::string buffer;
  };

  void spawn(Worker& w) {
    if (w.next == w.todo.size()) return;
    int p[2];
    if (::pipe(p) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
    std::cout.flush();
    std::cerr.flush();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) {
      ::close(p[0]);
      for (const Worker& other : workers_) {
        if (other.fd >= 0) ::close(other.fd);
      }
      for (std::size_t i = w.next; i < w.todo.size(); ++i) {
        const harness::FuzzRecord record = harness::run_fuzz_case(settings_, cases_[w.todo[i]]);
        if (!write_all(p[1], fmt::format("{} {}\n", w.todo[i], harness::to_json_line(record)))) {
          ::_exit(3);
        }
      }
      ::_exit(0);
    }
    ::close(p[1]);
    ::fcntl(p[0], F_SETFD, FD_CLOEXEC);
    w.pid = pid;
    w.fd = p[0];
    w.buffer.clear();
  }

  void drain(Worker& w, const Sink& sink) {
    std::array<char, 65536> chunk{};
    const ssize_t n = ::read(w.fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) return;
    if (n > 0) {
      w.buffer.append(chunk.data(), static_cast<std::size_t>(n));
      std::size_t end = 0;
      while ((end = w.buffer.find('\n')) != std::string::npos) {
        accept(w, std::string_view(w.buffer).substr(0, end), sink);
        w.buffer.erase(0, end + 1);
      }
      return;
    }
    ::close(w.fd);
    w.fd = -1;
    int status = 0;
    while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (w.next < w.todo.size()) {
      const std::size_t k = w.todo[w.next++];
      sink(k, harness::crashed_record(cases_[k], describe_status(status)));
      spawn(w);
    }
  }

  void accept(Worker& w, std::string_view line, const Sink& sink) {
    const std::size_t space = line.find(' ');
    const auto index = to_unsigned(line.substr(0, space));
    auto record = harness::fuzz_record_from_json(line.substr(space + 1));
    if (space == std::string_view::npos || !index || !record || w.next >= w.todo.size() ||
        *index != w.todo[w.next] || record->run != cases_[*index]) {
      throw std::runtime_error(fmt::format("a fuzz worker sent a garbled record: {}", line));
    }
    ++w.next;
    sink(*index, std::move(*record));
  }

  const harness::FuzzSettings& settings_;
  const std::vector<harness::FuzzCase>& cases_;
  std::vector<Worker> workers_;
};

// Writes a failing run's scenario and checks that loading it back reproduces the run. Returns
// the lines to print.
std::string write_reproducer(const harness::FuzzSettings& settings,
                             const harness::FuzzRecord& record, const std::filesystem::path& dir,
                             bool* reproduced) {
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

}  // namespace

int fuzz_command(std::span<const std::string> args) {
  const ParsedArgs parsed("fuzz", kFlags, args);
  if (parsed.help()) {
    print_help();
    return kExitExpected;
  }
  if (!parsed.positional().empty()) {
    throw UsageError(fmt::format("lockstep fuzz: unexpected argument \"{}\" (see lockstep fuzz "
                                 "--help)",
                                 parsed.positional().front()));
  }
  const harness::FuzzSettings settings = parse_settings(parsed);
  std::uint64_t jobs = std::max<long>(1, ::sysconf(_SC_NPROCESSORS_ONLN));
  if (const auto text = parsed.value("--jobs")) {
    const auto n = to_unsigned(*text);
    if (!n || *n < 1 || *n > kJobsMax) bad_flag("--jobs", "a number of processes in 1..256", *text);
    jobs = *n;
  }
  const std::filesystem::path out_dir = parsed.value("--out").value_or("reports/out/fuzz");
  const bool verbose = parsed.has("--verbose");

  const std::vector<harness::FuzzCase> cases = harness::fuzz_cases(settings);
  jobs = std::min<std::uint64_t>(jobs, cases.size());
  std::cout << fmt::format("fuzz       {} on {} servers, seeds {}-{}, {} simulated each: {} runs\n",
                           join(settings.protocols, ","), join(settings.nodes, ","),
                           settings.seed_first, settings.seed_last,
                           format_duration(settings.duration), cases.size());

  Progress progress(cases.size());
  harness::FuzzOutcome outcome;
  bool all_reproduced = true;
  std::vector<std::optional<harness::FuzzRecord>> pending(cases.size());
  std::size_t next_to_print = 0;
  std::uint64_t done = 0;
  std::uint64_t failed = 0;
  WorkerPool pool(settings, cases, jobs);
  pool.run([&](std::size_t index, harness::FuzzRecord record) {
    ++done;
    failed += record.passed ? 0 : 1;
    pending[index] = std::move(record);
    // Print in case order: whatever arrived contiguously from the next one expected.
    for (; next_to_print < cases.size() && pending[next_to_print]; ++next_to_print) {
      const harness::FuzzRecord r = std::move(*pending[next_to_print]);
      pending[next_to_print].reset();
      outcome.add(r);
      if (r.passed && !verbose) continue;
      progress.clear();
      const harness::Scenario scenario = harness::fuzz_case_scenario(settings, r.run);
      if (r.passed) {
        std::cout << fmt::format("ok   {}  hash {:016x}  {}\n", scenario.name, r.trace_hash,
                                 harness::describe_profile(scenario));
        continue;
      }
      std::cout << fmt::format("FAIL {}: {}: {}\n", scenario.name, r.failures.front().property,
                               r.failures.front().detail);
      for (std::size_t f = 1; f < r.failures.size(); ++f) {
        std::cout << fmt::format("  also {}: {}\n", r.failures[f].property, r.failures[f].detail);
      }
      std::cout << fmt::format("  profile    {}\n", harness::describe_profile(scenario))
                << (r.failures.front().property == "crash"
                        ? std::string("  trace      none: the run died (its message is above)\n")
                        : fmt::format("  trace      hash {:016x}, {} events\n", r.trace_hash,
                                      r.events))
                << write_reproducer(settings, r, out_dir, &all_reproduced) << std::flush;
    }
    progress.update(done, failed);
  });
  progress.clear();

  const double wall = progress.elapsed();
  std::cout << fmt::format("result     {} runs: {} passed, {} failed; {} simulated, {} events\n",
                           outcome.runs, outcome.passed, outcome.failures.size(),
                           format_duration(outcome.simulated), outcome.events);
  if (!outcome.failures_by_property.empty()) {
    std::cout << "\nfailures by property\n"
              << fmt::format("  {:<10} {:<18} {:>6}\n", "protocol", "property", "runs");
    for (const auto& [key, count] : outcome.failures_by_property) {
      std::cout << fmt::format("  {:<10} {:<18} {:>6}\n", key.first, key.second, count);
    }
  }
  const double seeds = static_cast<double>(settings.seed_last - settings.seed_first + 1);
  std::cerr << fmt::format("time       {:.1f}s wall with {} job{}: {:.1f} runs/s, {:.1f} seeds/s\n",
                           wall, jobs, jobs == 1 ? "" : "s",
                           static_cast<double>(outcome.runs) / std::max(wall, 1e-9),
                           seeds / std::max(wall, 1e-9));
  return outcome.failures.empty() && all_reproduced ? kExitExpected : kExitUnexpected;
}

}  // namespace lockstep::cli
