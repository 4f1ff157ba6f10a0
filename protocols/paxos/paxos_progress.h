// What a leader knows about one follower's slots in its ballot, and the flow-control state that
// decides when it may send more (the same scheme as etcd's Progress/Inflights, which the Raft
// module also follows).
//
//   probe:     the leader does not know where the follower's slots stop matching its ballot. It
//              sends one Accept and waits for the answer (or the next heartbeat answer).
//   replicate: every slot through `match` is chosen at the follower or holds the leader's value;
//              the leader streams batches, advancing `next` as it sends, bounded by
//              max_inflight_accepts / _bytes.
//   snapshot:  `next` is below the leader's snapshot; a SnapshotMessage is outstanding.
//
// Unlike Raft there is no log-matching check to fail: a follower takes any accept of a ballot it
// has not promised to refuse. When an earlier batch was lost its answer names a match below the
// batch, and the leader rewinds to resend from there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/assert.h"
#include "core/types.h"
#include "protocols/paxos/paxos_types.h"

namespace lockstep::paxos {

struct Progress {
  enum class State : std::uint8_t { probe, replicate, snapshot };

  NodeId id;
  Slot match;       // every slot through here holds the leader's value at the follower (or chosen)
  Slot next{1};     // next slot to send
  State state = State::probe;
  bool probe_sent = false;        // probe: an accept is outstanding
  Slot pending_snapshot;          // snapshot: the index of the snapshot sent
  Nanos snapshot_sent_at;         // snapshot: when, to resend if it was lost
  bool recent_active = false;     // heard from since the last master-lease check
  std::uint64_t acked_round = 0;  // highest heartbeat round it confirmed (read barrier, lease)

  // Unacknowledged accepts in replicate state, oldest first, as a ring of (last slot, bytes).
  struct Inflight {
    Slot last;
    std::size_t bytes = 0;
  };
  std::vector<Inflight> inflight_ring;
  std::size_t inflight_head = 0;
  std::size_t inflight_count = 0;
  std::size_t inflight_bytes = 0;

  Progress(NodeId node, Slot match_slot, std::size_t max_inflight)
      : id(node), match(match_slot), next(match_slot.next()), inflight_ring(max_inflight) {}

  bool inflight_full(std::size_t max_bytes) const {
    return inflight_count == inflight_ring.size() || inflight_bytes >= max_bytes;
  }
  void add_inflight(Slot last, std::size_t bytes) {
    LS_ASSERT_LT(inflight_count, inflight_ring.size());
    inflight_ring[(inflight_head + inflight_count) % inflight_ring.size()] = Inflight{last, bytes};
    ++inflight_count;
    inflight_bytes += bytes;
  }
  void free_inflight_through(Slot s) {
    while (inflight_count > 0 && inflight_ring[inflight_head].last <= s) free_first();
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
    const Slot floor = state == State::snapshot && pending_snapshot > match ? pending_snapshot
                                                                            : match;
    state = State::probe;
    next = floor.next();
    probe_sent = false;
    reset_inflight();
  }
  void become_replicate() {
    state = State::replicate;
    next = match.next();
    reset_inflight();
  }
  void become_snapshot(Slot snapshot_index, Nanos now) {
    state = State::snapshot;
    pending_snapshot = snapshot_index;
    snapshot_sent_at = now;
    reset_inflight();
  }

  // The follower reported `m` as its match. False when that is old news.
  bool maybe_update(Slot m) {
    bool updated = false;
    if (match < m) {
      match = m;
      updated = true;
    }
    if (next <= m) next = m.next();
    return updated;
  }

  // The follower's answer to an accept that began at `first` showed a gap below it (or declined
  // it). False when the answer is stale: the gap has been dealt with already.
  bool maybe_rewind(Slot first) {
    if (first <= match.next()) return false;
    if (state == State::replicate) {
      become_probe();
      return true;
    }
    if (state != State::probe || next != first) return false;
    next = match.next();
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

}  // namespace lockstep::paxos
