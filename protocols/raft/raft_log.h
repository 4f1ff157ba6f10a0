// The replicated log of one replica: a snapshot (§7) followed by the entries after it, plus the
// cluster configurations the log holds (thesis §4.1: a server uses the latest configuration in
// its log, committed or not).
//
// Index i's entry lives at entries_[i - snapshot_index - 1]. A vector: indexing is on every hot
// path, and compaction (which erases the front) keeps only the short unapplied tail. The entries'
// data sit back to back in one buffer, in index order: appending copies the bytes in, and no
// entry owns an allocation of its own (one per entry per replica showed in profiles, and again
// when the log was freed). Index 0 is the empty prefix: term 0, digest kDigestSeed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <vector>

#include "core/assert.h"
#include "core/bytes.h"
#include "core/types.h"
#include "protocols/raft/raft_types.h"

namespace lockstep::raft {

class RaftLog {
 public:
  // Walks entries in index order, reading each as an EntryView.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = EntryView;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = EntryView;

    const_iterator() = default;
    const_iterator(const RaftLog* log, std::size_t position) : log_(log), position_(position) {}
    EntryView operator*() const { return log_->view(position_); }
    const_iterator& operator++() {
      ++position_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++position_;
      return before;
    }
    const_iterator operator+(std::size_t n) const { return const_iterator(log_, position_ + n); }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.position_ == b.position_;
    }

   private:
    const RaftLog* log_ = nullptr;
    std::size_t position_ = 0;
  };

  // The configuration in force before any config entry or snapshot: the bootstrap members.
  explicit RaftLog(std::vector<NodeId> bootstrap_members);

  LogIndex snapshot_index() const { return snapshot_index_; }
  Term snapshot_term() const { return snapshot_term_; }
  std::uint64_t snapshot_digest() const { return snapshot_digest_; }
  const Bytes& snapshot_data() const { return snapshot_data_; }
  const std::vector<NodeId>& snapshot_members() const { return base_config_.members; }

  LogIndex first_index() const { return snapshot_index_.next(); }
  LogIndex last_index() const { return LogIndex{snapshot_index_.value + entries_.size()}; }
  Term last_term() const { return entries_.empty() ? snapshot_term_ : entries_.back().term; }
  std::uint64_t last_digest() const {
    return entries_.empty() ? snapshot_digest_ : entries_.back().digest;
  }

  // Known for snapshot_index <= i <= last_index; nullopt otherwise (compacted or beyond the end).
  // Inline, like at(): every step of the replica and of the checker looks entries up.
  std::optional<Term> term_at(LogIndex i) const {
    if (i == snapshot_index_) return snapshot_term_;
    if (i < snapshot_index_ || i > last_index()) return std::nullopt;
    return entries_[offset(i)].term;
  }
  std::optional<std::uint64_t> digest_at(LogIndex i) const {
    if (i == snapshot_index_) return snapshot_digest_;
    if (i < snapshot_index_ || i > last_index()) return std::nullopt;
    return entries_[offset(i)].digest;
  }
  bool matches(LogIndex i, Term t) const { return term_at(i) == t; }
  // The entry at i; first_index <= i <= last_index.
  EntryView at(LogIndex i) const {
    LS_ASSERT_GE(i, first_index());
    LS_ASSERT_LE(i, last_index());
    return view(offset(i));
  }
  // first_index <= i <= last_index + 1.
  const_iterator iterator_at(LogIndex i) const {
    LS_ASSERT_GE(i, first_index());
    LS_ASSERT_LE(i, last_index().next());
    return const_iterator(this, offset(i));
  }

  // §5.4.1: is a log ending at (last_term, last_index) at least as up-to-date as this one?
  bool is_up_to_date(Term other_last_term, LogIndex other_last_index) const {
    return other_last_term > last_term() ||
           (other_last_term == last_term() && other_last_index >= last_index());
  }

  // The largest index <= i whose term is <= t, stopping at the snapshot (thesis §5.3 / etcd
  // findConflictByTerm): every index above it, up to i, is known not to match a log whose entry
  // at i has term t, so a leader can skip them all in one round trip.
  LogIndex find_conflict_by_term(LogIndex i, Term t) const;

  LogIndex append(Term term, EntryKind kind, ByteView data);
  // Removes entries at index >= i (a conflicting suffix, §5.3); snapshot_index < i.
  void truncate_from(LogIndex i);
  // Drops entries through i, which become the snapshot `data` (§7); snapshot_index < i <= last.
  void compact(LogIndex i, Bytes data);
  // Discards the whole log in favour of a snapshot received from the leader or read at recovery.
  void restore(LogIndex index, Term term, std::uint64_t digest, std::vector<NodeId> members,
               Bytes data);

  // The latest configuration in the log (thesis §4.1) and the index of the entry holding it
  // (the snapshot index, or 0 for the bootstrap configuration).
  const std::vector<NodeId>& members() const {
    return configs_.empty() ? base_config_.members : configs_.back().members;
  }
  LogIndex members_index() const {
    return configs_.empty() ? base_config_.index : configs_.back().index;
  }
  // The configuration in force at index i (the latest one at or below i); i >= snapshot_index.
  const std::vector<NodeId>& members_at(LogIndex i) const;

 private:
  struct Config {
    LogIndex index;
    std::vector<NodeId> members;
  };
  // An entry but for its data, which is data_[data_begin, data_begin + data_size).
  struct Stored {
    Term term;
    std::uint64_t digest = 0;
    std::uint64_t data_begin = 0;
    std::uint32_t data_size = 0;
    EntryKind kind = EntryKind::command;
  };

  std::size_t offset(LogIndex i) const { return i.value - snapshot_index_.value - 1; }
  EntryView view(std::size_t position) const {
    const Stored& e = entries_[position];
    return EntryView{e.term, e.kind, ByteView(data_.data() + e.data_begin, e.data_size), e.digest};
  }

  LogIndex snapshot_index_;
  Term snapshot_term_;
  std::uint64_t snapshot_digest_ = kDigestSeed;
  Bytes snapshot_data_;
  Config base_config_;            // in force at snapshot_index_
  std::vector<Config> configs_;   // config entries above the snapshot, ascending
  std::vector<Stored> entries_;
  Bytes data_;                    // the entries' data, in index order
};

}  // namespace lockstep::raft
