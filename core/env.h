// The one interface between a node's code and the physical world: its clock, its timers, its
// network and its disk (DESIGN.md, "One Env, two implementations"). The simulator (sim/) is the
// first implementation; the real runtime (runtime/) is the second. Nothing here names a simulator
// type, so node code compiled against it runs unchanged on real sockets.
//
// A node is a Process: the Env calls it when it starts, when a message arrives and when a timer
// fires; the process answers by calling the Env. Calls never block and never re-enter: an Env
// delivers one event to a process at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/types.h"

namespace lockstep {

// A node's stable storage: a flat set of named files. Writes are volatile until sync(); a crash
// keeps exactly what was synced (plus, in simulation, whatever fault the disk was configured to
// inject, which recovery must detect by checksum; see core/record_log.h).
class Disk {
 public:
  virtual ~Disk() = default;

  // Whole contents of a file as the node currently sees it (synced or not); empty if missing.
  virtual Bytes read(std::string_view file) const = 0;
  virtual bool exists(std::string_view file) const = 0;
  virtual std::uint64_t size(std::string_view file) const = 0;
  // Appends to the end of a file, creating it if missing.
  virtual void append(std::string_view file, ByteView data) = 0;
  // Appends `head` and then `body` as one write (a record's header and payload, say, without
  // copying them together first).
  virtual void append_parts(std::string_view file, ByteView head, ByteView body) {
    append(file, head);
    append(file, body);
  }
  // Cuts a file down to `length` bytes (no-op when already shorter).
  virtual void truncate(std::string_view file, std::uint64_t length) = 0;
  // Replaces `to` with `from` atomically once synced; `from` disappears.
  virtual void rename(std::string_view from, std::string_view to) = 0;
  virtual void remove(std::string_view file) = 0;
  // Makes every earlier write to `file` (including rename and remove) durable.
  virtual void sync(std::string_view file) = 0;
  // How long until every sync issued so far has completed, in true time; zero when none is in
  // flight (always, on a disk whose sync() returns only once the data is safe). A node's messages
  // wait for its syncs, so a server gathers requests meanwhile and writes them as one batch.
  virtual Nanos syncs_pending_for() const { return Nanos::zero(); }
  // Files in name order.
  virtual std::vector<std::string> list() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  virtual NodeId self() const = 0;

  // The node's wall clock: subject to offset, drift and jumps, as a real host's time of day is.
  // Never compare it with another node's clock.
  virtual Nanos now() const = 0;

  // The node's monotonic clock: drift and pauses apply, jumps do not. Use it for timeouts and
  // elapsed-time measurements; the readings of different nodes are not comparable.
  virtual Nanos monotonic() const = 0;

  // Fires Process::on_timer(id) once the node's monotonic clock has advanced by `delay`.
  // Timer ids are never 0. Cancelling an already-fired timer is a no-op.
  virtual TimerId set_timer(Nanos delay) = 0;
  virtual void cancel_timer(TimerId id) = 0;

  // Best-effort, unordered-in-general delivery of `payload` to `to`. Sending to oneself is allowed.
  virtual void send(NodeId to, ByteView payload) = 0;
  // Sends `head` followed by `body` as one message (an envelope and the bytes it wraps, say,
  // without copying them together first).
  virtual void send_parts(NodeId to, ByteView head, ByteView body) {
    Bytes joined;
    joined.reserve(head.size() + body.size());
    joined.insert(joined.end(), head.begin(), head.end());
    joined.insert(joined.end(), body.begin(), body.end());
    send(to, joined);
  }

  virtual Disk& disk() = 0;

  // The node's own deterministic random stream (a real runtime seeds it from the OS).
  virtual std::uint64_t random() = 0;

  // A structured note for the trace ("became_leader", "term=4"): free for the real runtime to log.
  virtual void note(std::string_view kind, std::string_view detail) = 0;
};

class Process {
 public:
  virtual ~Process() = default;
  // Called once when the node starts and again after every restart, on a fresh Process object:
  // whatever the node needs from before the crash it must read back from env.disk().
  virtual void on_start(Env& env) = 0;
  virtual void on_message(Env& env, NodeId from, ByteView payload) = 0;
  virtual void on_timer(Env& env, TimerId id) = 0;
};

}  // namespace lockstep
