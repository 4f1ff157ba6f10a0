#include "protocols/paxos/paxos_log.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace lockstep::paxos {

std::string_view to_string(PaxosRole role) {
  switch (role) {
    case PaxosRole::follower: return "follower";
    case PaxosRole::candidate: return "candidate";
    case PaxosRole::leader: return "leader";
  }
  return "?";
}

const Entry& PaxosLog::at(Slot s) const {
  LS_ASSERT_GE(s, first_slot());
  LS_ASSERT_LE(s, last_slot());
  return entries_[offset(s)];
}

PaxosLog::const_iterator PaxosLog::iterator_at(Slot s) const {
  LS_ASSERT_GE(s, first_slot());
  LS_ASSERT_LE(s, last_slot().next());
  return entries_.begin() + static_cast<std::ptrdiff_t>(offset(s));
}

void PaxosLog::put(Slot s, Ballot ballot, ValueKind kind, Bytes data) {
  LS_ASSERT_GE(s, first_slot());
  LS_ASSERT(kind != ValueKind::none && !ballot.is_zero());
  const std::uint64_t digest = value_digest(kind, data);
  if (s > last_slot()) {
    entries_.resize(offset(s));  // empty slots up to s
    entries_.push_back(Entry{ballot, kind, std::move(data), digest});
    return;
  }
  Entry& e = entries_[offset(s)];
  e.ballot = ballot;
  e.kind = kind;
  e.data = std::move(data);
  e.digest = digest;
}

void PaxosLog::compact(Slot i, Bytes data) {
  LS_ASSERT_GT(i, snapshot_index_);
  LS_ASSERT_LE(i, last_slot());
  install(i, std::move(data));
}

void PaxosLog::install(Slot i, Bytes data) {
  LS_ASSERT_GT(i, snapshot_index_);
  const std::size_t drop = std::min(entries_.size(), static_cast<std::size_t>(offset(i) + 1));
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
  snapshot_index_ = i;
  snapshot_data_ = std::move(data);
}

}  // namespace lockstep::paxos
