// What a leader knows about one follower's log, and the flow-control state that decides when it
// may send more (modelled on etcd's tracker.Progress and Inflights).
//
//   probe:     the leader does not know where the logs diverge. It sends one AppendEntries and
//              waits for the answer (or the next heartbeat response) before sending another;
//              rejections move `next` back using the follower's hint (thesis §5.3).
//   replicate: the logs match through `match`; the leader streams batches optimistically,
//              advancing `next` as it sends, bounded by max_inflight_appends / _bytes.
//   snapshot:  `next` is below the leader's snapshot; an InstallSnapshot is outstanding (§7).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/assert.h"
#include "core/types.h"
#include "protocols/raft/raft_types.h"

namespace lockstep::raft {

struct Progress {
  enum class State : std::uint8_t { probe, replicate, snapshot };

  NodeId id;
  LogIndex match;       // highest index known replicated on the follower (§5.3 matchIndex)
  LogIndex next{1};     // next index to send (§5.3 nextIndex)
  State state = State::probe;
  bool probe_sent = false;       // probe: an append is outstanding
  LogIndex pending_snapshot;     // snapshot: the index of the snapshot sent
  Nanos snapshot_sent_at;        // snapshot: when, to resend if it was lost
  bool recent_active = false;    // heard from since the last CheckQuorum
  std::uint64_t acked_round = 0; // highest heartbeat round it confirmed (ReadIndex, lease)

  // Unacknowledged appends in replicate state, oldest first, as a ring of (last index, bytes).
  struct Inflight {
    LogIndex last;
    std::size_t bytes = 0;
  };
  std::vector<Inflight> inflight_ring;
  std::size_t inflight_head = 0;
  std::size_t inflight_count = 0;
  std::size_t inflight_bytes = 0;

  Progress(NodeId node, LogIndex next_index, std::size_t max_inflight)
      : id(node), next(next_index), inflight_ring(max_inflight) {}

  bool inflight_full(std::size_t max_bytes) const {
    return inflight_count == inflight_ring.size() || inflight_bytes >= max_bytes;
  }
  void add_inflight(LogIndex last, std::size_t bytes) {
    LS_ASSERT_LT(inflight_count, inflight_ring.size());
    inflight_ring[(inflight_head + inflight_count) % inflight_ring.size()] = Inflight{last, bytes};
    ++inflight_count;
    inflight_bytes += bytes;
  }
  // Acknowledged through `index`: everything sent up to it has arrived.
  void free_inflight_through(LogIndex index) {
    while (inflight_count > 0 && inflight_ring[inflight_head].last <= index) free_first();
  }
  void free_first() {
    LS_ASSERT_GT(inflight_count, 0u);
    inflight_bytes -= inflight_ring[inflight_head].bytes;
    inflight_head = (inflight_head + 1) % inflight_ring.size();
    --inflight_count;
  }
  void reset_inflight() {
    inflight_head = 0;
    inflight_count = 0;
    inflight_bytes = 0;
  }

  void become_probe() {
    // After a snapshot, the follower holds at least the snapshot.
    const LogIndex floor = state == State::snapshot ? pending_snapshot : match;
    state = State::probe;
    next = (match > floor ? match : floor).next();
    probe_sent = false;
    reset_inflight();
  }
  void become_replicate() {
    state = State::replicate;
    next = match.next();
    reset_inflight();
  }
  void become_snapshot(LogIndex snapshot_index, Nanos now) {
    state = State::snapshot;
    pending_snapshot = snapshot_index;
    snapshot_sent_at = now;
    reset_inflight();
  }

  // The follower acknowledged `index`. False when that is old news.
  bool maybe_update(LogIndex index) {
    bool updated = false;
    if (match < index) {
      match = index;
      updated = true;
    }
    if (next <= index) next = index.next();
    return updated;
  }

  // The follower rejected an append whose prev_log_index was `rejected`; `probe_to` is where the
  // hint says to look next. False when the rejection is stale (an answer to an older append).
  bool maybe_decrease_to(LogIndex rejected, LogIndex probe_to) {
    if (state == State::replicate) {
      if (rejected <= match) return false;
      next = match.next();
      return true;
    }
    if (next.prev() != rejected) return false;
    LogIndex to = probe_to.next() < rejected ? probe_to.next() : rejected;
    if (to <= match) to = match.next();
    next = to;
    probe_sent = false;
    return true;
  }

  bool paused(std::size_t max_inflight_bytes) const {
    switch (state) {
      case State::probe: return probe_sent;
      case State::replicate: return inflight_full(max_inflight_bytes);
      case State::snapshot: return true;
    }
    return true;
  }
};

}  // namespace lockstep::raft
