// The worker processes of `lockstep fuzz`. Each worker is forked once and then runs one case at
// a time as the parent hands them out: the parent writes "NUMBER SEED NODES PROTOCOL" on the
// worker's command pipe, the worker runs the case exactly as a single process would and answers
// "NUMBER RECORD-JSON" on its result pipe, and gets the next case. Handing cases out one at a
// time keeps every worker busy whatever the runs cost, and lets the parent stop handing them out
// (a wall-clock budget) while the runs in progress finish. A worker that dies (a failed
// assertion aborts the process) costs the one case it was running, recorded as a "crash", and a
// new worker is forked for the cases still to come.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "harness/fuzz.h"

namespace lockstep::cli {

class FuzzWorkerPool {
 public:
  struct Numbered {
    std::uint64_t number;  // the case's place in the sweep, from 0
    harness::FuzzCase run;
  };
  // The next case to hand out, or nullopt when there is none (then none is asked for again).
  using NextCase = std::function<std::optional<Numbered>()>;
  // Each record as it arrives, in any order.
  using Sink = std::function<void(std::uint64_t number, harness::FuzzRecord record)>;

  FuzzWorkerPool(const harness::FuzzSettings& settings, std::size_t jobs);
  // Workers still alive (run() left by an exception) are killed and reaped.
  ~FuzzWorkerPool();
  FuzzWorkerPool(const FuzzWorkerPool&) = delete;
  FuzzWorkerPool& operator=(const FuzzWorkerPool&) = delete;

  // Runs cases until `next` has none left and every case handed out has reported. Throws
  // std::runtime_error when the system refuses a pipe or a fork, or a worker garbles a record.
  void run(const NextCase& next, const Sink& sink);

 private:
  struct Worker {
    pid_t pid = -1;
    int command_fd = -1;  // parent -> worker; closed when there is nothing more to run
    int result_fd = -1;   // worker -> parent
    std::string buffer;   // result bytes not yet ending in a newline
    std::optional<Numbered> running;
  };

  void spawn(Worker& w);
  // Hands the worker the next case (spawning it first if needed), or lets it finish.
  void dispatch(Worker& w);
  void drain(Worker& w);
  void accept(Worker& w, std::string_view line);

  const harness::FuzzSettings& settings_;
  std::vector<Worker> workers_;
  const NextCase* next_ = nullptr;
  const Sink* sink_ = nullptr;
  bool exhausted_ = false;  // `next` said there is no case left
};

}  // namespace lockstep::cli
