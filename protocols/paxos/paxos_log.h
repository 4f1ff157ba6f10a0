// An acceptor's slots: a snapshot of the state machine through snapshot_index (every slot in it
// chosen), then one Entry per slot up to last_slot, each the value accepted there and its ballot,
// or empty: slots are independent instances (PMS §3), and an accept for slot 9 may arrive while
// the one for slot 8 was lost. A new leader fills a slot no promise reports with a no-op.
//
// Slot s lives at entries_[s - snapshot - 1]; a vector, since indexing is on every hot path and
// compaction keeps only the short unapplied tail. Entries are overwritten by values of higher
// ballots, never removed except by compaction. The last slot always holds a value.
#pragma once

#include <cstdint>
#include <vector>

#include "core/bytes.h"
#include "protocols/paxos/paxos_types.h"

namespace lockstep::paxos {

class PaxosLog {
 public:
  using const_iterator = std::vector<Entry>::const_iterator;

  Slot snapshot_index() const { return snapshot_index_; }
  const Bytes& snapshot_data() const { return snapshot_data_; }
  Slot first_slot() const { return snapshot_index_.next(); }
  Slot last_slot() const { return Slot{snapshot_index_.value + entries_.size()}; }
  // s is above the snapshot and holds a value.
  bool holds(Slot s) const {
    return s > snapshot_index_ && s <= last_slot() && entries_[offset(s)].kind != ValueKind::none;
  }

  // The entry at s, perhaps empty; first_slot <= s <= last_slot.
  const Entry& at(Slot s) const;
  const_iterator iterator_at(Slot s) const;  // first_slot <= s <= last_slot + 1

  // Stores the value accepted in `ballot` at s, replacing what s held; s >= first_slot. Slots
  // between the old end and s stay empty.
  void put(Slot s, Ballot ballot, ValueKind kind, Bytes data);
  // Drops the slots through i, which become the snapshot `data`; snapshot_index < i <= last.
  void compact(Slot i, Bytes data);
  // Replaces everything through i by a snapshot received from another replica; slots above i are
  // kept (they are accepted values, still this acceptor's state). i > snapshot_index.
  void install(Slot i, Bytes data);

 private:
  std::size_t offset(Slot s) const { return s.value - snapshot_index_.value - 1; }

  Slot snapshot_index_;
  Bytes snapshot_data_;
  std::vector<Entry> entries_;
};

}  // namespace lockstep::paxos
