// The history of one replica (h_f in the paper): a snapshot of the committed prefix, then the
// transactions after it, strictly increasing in zxid.
//
// The history also keeps its *runs*: maximal stretches of transactions of one epoch with
// consecutive counters. In a correct run every history that holds a zxid agrees with every other
// on the prefix ending there (one leader per epoch numbers its proposals in order, and a follower
// takes them FIFO after a synchronization that made its history a prefix of the leader's), so a
// follower describes its history to a leader by its runs (HistorySummary) and the leader finds the
// longest common prefix without seeing the transactions (zab_sync.cc).
//
// Position p's transaction lives at txns_[p - snapshot_position - 1]. A vector: indexing is on
// every hot path, and compaction (which erases the front) keeps only the short unapplied tail.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/bytes.h"
#include "protocols/zab/zab_types.h"

namespace lockstep::zab {

// Transactions of `epoch` with counters first_counter..last_counter at positions first, first+1..
struct EpochRun {
  Epoch epoch;
  std::uint64_t first_counter = 0;
  std::uint64_t last_counter = 0;
  Position first;

  Position last() const { return first + (last_counter - first_counter); }
  bool operator==(const EpochRun&) const = default;
};

class History {
 public:
  using const_iterator = std::vector<Txn>::const_iterator;

  Position snapshot_position() const { return snapshot_position_; }
  Zxid snapshot_zxid() const { return snapshot_zxid_; }
  std::uint64_t snapshot_digest() const { return snapshot_digest_; }
  const Bytes& snapshot_data() const { return snapshot_data_; }

  Position first_position() const { return snapshot_position_.next(); }
  Position last_position() const { return Position{snapshot_position_.value + txns_.size()}; }
  Zxid last_zxid() const { return txns_.empty() ? snapshot_zxid_ : txns_.back().zxid; }
  std::uint64_t last_digest() const {
    return txns_.empty() ? snapshot_digest_ : txns_.back().digest;
  }
  std::size_t size() const { return txns_.size(); }

  // Known for snapshot_position <= p <= last_position; nullopt otherwise.
  std::optional<Zxid> zxid_at(Position p) const;
  std::optional<std::uint64_t> digest_at(Position p) const;
  // The transaction at p; first_position <= p <= last_position.
  const Txn& at(Position p) const;
  const_iterator iterator_at(Position p) const;  // first_position <= p <= last_position + 1

  // Where the history holds `z` (the snapshot's own zxid counts); nullopt if it does not.
  std::optional<Position> find(Zxid z) const;
  // The last position whose zxid is <= z; nullopt when z is below the snapshot's zxid (the answer
  // is compacted away). Position 0 when the history is empty and unsnapshotted.
  std::optional<Position> floor(Zxid z) const;

  // Appends a transaction above last_zxid().
  Position append(Zxid zxid, Bytes data);
  // Keeps positions <= p; snapshot_position <= p.
  void truncate_to(Position p);
  // Drops positions through p, which become the snapshot `data`; snapshot_position < p <= last.
  void compact(Position p, Bytes data);
  // Replaces the whole history with a snapshot (SNAP from the leader, or read at recovery).
  void restore(Position p, Zxid zxid, std::uint64_t digest, Bytes data);

  const std::vector<EpochRun>& runs() const { return runs_; }

 private:
  std::size_t offset(Position p) const { return p.value - snapshot_position_.value - 1; }
  void rebuild_runs();

  Position snapshot_position_;
  Zxid snapshot_zxid_;
  std::uint64_t snapshot_digest_ = kDigestSeed;
  Bytes snapshot_data_;
  std::vector<Txn> txns_;
  std::vector<EpochRun> runs_;  // over txns_, ascending
};

}  // namespace lockstep::zab
