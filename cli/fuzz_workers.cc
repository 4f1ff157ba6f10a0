#include "cli/fuzz_workers.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <string_view>

#include <fmt/format.h>

#include "core/assert.h"

namespace lockstep::cli {

namespace {

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<std::uint64_t> to_unsigned(std::string_view text) {
  std::uint64_t out = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return out;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    return fmt::format("the run died of signal {} ({})", WTERMSIG(status),
                       strsignal(WTERMSIG(status)));
  }
  return fmt::format("the run's process exited with status {} before reporting",
                     WEXITSTATUS(status));
}

// The parent writes to a worker that may just have died: that must not kill the parent with
// SIGPIPE (the write fails with EPIPE instead, and the result pipe's end reports the death).
class IgnoreSigpipe {
 public:
  IgnoreSigpipe() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, &old_);
  }
  ~IgnoreSigpipe() { ::sigaction(SIGPIPE, &old_, nullptr); }
  IgnoreSigpipe(const IgnoreSigpipe&) = delete;
  IgnoreSigpipe& operator=(const IgnoreSigpipe&) = delete;

 private:
  struct sigaction old_ {};
};

#ifdef LOCKSTEP_PROFILE_GENERATE
extern "C" void __gcov_dump(void);  // libgcov, linked into -fprofile-generate programs
#endif

// A worker leaves with _exit, which skips the atexit hooks: its parent's are not its own to run.
// A profile-generating build (LOCKSTEP_PGO=generate) writes its counts first, since training runs
// the fuzz sweep in these workers and the exit hook that would write them is one of those skipped.
[[noreturn]] void worker_exit(int code) {
#ifdef LOCKSTEP_PROFILE_GENERATE
  __gcov_dump();
#endif
  ::_exit(code);
}

// A worker's life: read "NUMBER SEED NODES PROTOCOL" lines until the command pipe closes, run
// each case, answer with its record.
[[noreturn]] void worker_main(const harness::FuzzSettings& settings, int command_fd,
                              int result_fd) {
  std::string buffer;
  std::array<char, 4096> chunk{};
  for (;;) {
    std::size_t end = 0;
    while ((end = buffer.find('\n')) == std::string::npos) {
      const ssize_t n = ::read(command_fd, chunk.data(), chunk.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) worker_exit(0);
      buffer.append(chunk.data(), static_cast<std::size_t>(n));
    }
    const std::string line = buffer.substr(0, end);
    buffer.erase(0, end + 1);
    std::array<std::string_view, 4> fields;
    std::string_view rest = line;
    for (std::string_view& field : fields) {
      const std::size_t space = rest.find(' ');
      field = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space + 1);
    }
    const auto number = to_unsigned(fields[0]);
    const auto seed = to_unsigned(fields[1]);
    const auto nodes = to_unsigned(fields[2]);
    if (!number || !seed || !nodes || fields[3].empty()) worker_exit(4);
    const harness::FuzzCase c{*seed, static_cast<std::uint32_t>(*nodes), std::string(fields[3])};
    const harness::FuzzRecord record = harness::run_fuzz_case(settings, c);
    if (!write_all(result_fd, fmt::format("{} {}\n", *number, harness::to_json_line(record)))) {
      worker_exit(3);
    }
  }
}

}  // namespace

FuzzWorkerPool::FuzzWorkerPool(const harness::FuzzSettings& settings, std::size_t jobs)
    : settings_(settings), workers_(jobs) {
  LS_ASSERT_GE(jobs, 1u);
}

FuzzWorkerPool::~FuzzWorkerPool() {
  for (Worker& w : workers_) {
    if (w.command_fd >= 0) ::close(w.command_fd);
    if (w.result_fd >= 0) ::close(w.result_fd);
    if (w.pid > 0) {
      ::kill(w.pid, SIGKILL);
      while (::waitpid(w.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

void FuzzWorkerPool::run(const NextCase& next, const Sink& sink) {
  const IgnoreSigpipe ignore_sigpipe;
  next_ = &next;
  sink_ = &sink;
  exhausted_ = false;
  for (Worker& w : workers_) dispatch(w);
  std::vector<pollfd> fds;
  std::vector<Worker*> live;
  for (;;) {
    fds.clear();
    live.clear();
    for (Worker& w : workers_) {
      if (w.result_fd >= 0) {
        fds.push_back(pollfd{w.result_fd, POLLIN, 0});
        live.push_back(&w);
      }
    }
    if (fds.empty()) return;
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
    }
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].revents != 0) drain(*live[i]);
    }
  }
}

void FuzzWorkerPool::spawn(Worker& w) {
  int command[2];
  int result[2];
  if (::pipe(command) != 0 || ::pipe(result) != 0) {
    throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  }
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::close(command[1]);
    ::close(result[0]);
    // Another worker's pipes held open here would keep it from seeing its command pipe close.
    for (const Worker& other : workers_) {
      if (other.command_fd >= 0) ::close(other.command_fd);
      if (other.result_fd >= 0) ::close(other.result_fd);
    }
    worker_main(settings_, command[0], result[1]);
  }
  ::close(command[0]);
  ::close(result[1]);
  ::fcntl(command[1], F_SETFD, FD_CLOEXEC);
  ::fcntl(result[0], F_SETFD, FD_CLOEXEC);
  w.pid = pid;
  w.command_fd = command[1];
  w.result_fd = result[0];
  w.buffer.clear();
}

void FuzzWorkerPool::dispatch(Worker& w) {
  LS_ASSERT(!w.running.has_value());
  std::optional<Numbered> c;
  if (!exhausted_) c = (*next_)();
  if (!c) {
    exhausted_ = true;
    if (w.command_fd >= 0) ::close(w.command_fd);  // the worker exits after its last record
    w.command_fd = -1;
    return;
  }
  if (w.result_fd < 0) spawn(w);
  const std::string command =
      fmt::format("{} {} {} {}\n", c->number, c->run.seed, c->run.nodes, c->run.protocol);
  w.running = std::move(c);
  // A failed write means the worker has died: the end of its result pipe reports the case.
  write_all(w.command_fd, command);
}

void FuzzWorkerPool::drain(Worker& w) {
  std::array<char, 65536> chunk{};
  const ssize_t n = ::read(w.result_fd, chunk.data(), chunk.size());
  if (n < 0 && errno == EINTR) return;
  if (n > 0) {
    w.buffer.append(chunk.data(), static_cast<std::size_t>(n));
    std::size_t end = 0;
    while ((end = w.buffer.find('\n')) != std::string::npos) {
      const std::string line = w.buffer.substr(0, end);
      w.buffer.erase(0, end + 1);
      accept(w, line);
    }
    return;
  }
  ::close(w.result_fd);
  w.result_fd = -1;
  if (w.command_fd >= 0) ::close(w.command_fd);
  w.command_fd = -1;
  int status = 0;
  while (::waitpid(w.pid, &status, 0) < 0 && errno == EINTR) {
  }
  w.pid = -1;
  if (w.running) {
    Numbered lost = std::move(*w.running);
    w.running.reset();
    dispatch(w);  // a new worker for the cases still to come
    (*sink_)(lost.number, harness::crashed_record(lost.run, describe_status(status)));
  }
}

void FuzzWorkerPool::accept(Worker& w, std::string_view line) {
  const std::size_t space = line.find(' ');
  const auto number = to_unsigned(line.substr(0, space));
  auto record = space == std::string_view::npos
                    ? std::nullopt
                    : harness::fuzz_record_from_json(line.substr(space + 1));
  if (!number || !record || !w.running || *number != w.running->number ||
      record->run != w.running->run) {
    throw std::runtime_error(fmt::format("a fuzz worker sent a garbled record: {}", line));
  }
  w.running.reset();
  dispatch(w);  // keep the worker busy while the parent prints
  (*sink_)(*number, std::move(*record));
}

}  // namespace lockstep::cli
