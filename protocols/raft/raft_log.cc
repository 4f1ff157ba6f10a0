#include "protocols/raft/raft_log.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"
#include "protocols/raft/raft_messages.h"

namespace lockstep::raft {

std::string_view to_string(RaftRole role) {
  switch (role) {
    case RaftRole::follower: return "follower";
    case RaftRole::precandidate: return "precandidate";
    case RaftRole::candidate: return "candidate";
    case RaftRole::leader: return "leader";
  }
  return "?";
}

RaftLog::RaftLog(std::vector<NodeId> bootstrap_members) {
  std::sort(bootstrap_members.begin(), bootstrap_members.end());
  bootstrap_members.erase(std::unique(bootstrap_members.begin(), bootstrap_members.end()),
                          bootstrap_members.end());
  base_config_ = Config{LogIndex{0}, std::move(bootstrap_members)};
}

LogIndex RaftLog::find_conflict_by_term(LogIndex i, Term t) const {
  i = std::min(i, last_index());
  while (i > snapshot_index_ && entries_[offset(i)].term > t) i = i.prev();
  return i;
}

LogIndex RaftLog::append(Term term, EntryKind kind, ByteView data) {
  LS_ASSERT_GE(term, last_term());
  LS_ASSERT_LE(data.size(), std::size_t{0xffffffff});
  const LogIndex index = last_index().next();
  if (kind == EntryKind::config) {
    auto members = decode_members(data);
    LS_ASSERT_MSG(members.has_value(), "config entry data must be an encoded member list");
    configs_.push_back(Config{index, std::move(*members)});
  }
  const std::uint64_t digest = chain_digest(last_digest(), term, kind, data);
  entries_.push_back(
      Stored{term, digest, data_.size(), static_cast<std::uint32_t>(data.size()), kind});
  append_bytes(data_, data);
  return index;
}

void RaftLog::truncate_from(LogIndex i) {
  LS_ASSERT_GT(i, snapshot_index_);
  if (i > last_index()) return;
  data_.resize(entries_[offset(i)].data_begin);
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(offset(i)), entries_.end());
  while (!configs_.empty() && configs_.back().index >= i) configs_.pop_back();
}

void RaftLog::compact(LogIndex i, Bytes data) {
  LS_ASSERT_GT(i, snapshot_index_);
  LS_ASSERT_LE(i, last_index());
  const Stored& last_dropped = entries_[offset(i)];
  Config base{i, members_at(i)};
  snapshot_term_ = last_dropped.term;
  snapshot_digest_ = last_dropped.digest;
  const std::uint64_t dropped_bytes = last_dropped.data_begin + last_dropped.data_size;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(offset(i) + 1));
  data_.erase(data_.begin(), data_.begin() + static_cast<std::ptrdiff_t>(dropped_bytes));
  for (Stored& e : entries_) e.data_begin -= dropped_bytes;
  snapshot_index_ = i;
  snapshot_data_ = std::move(data);
  base_config_ = std::move(base);
  configs_.erase(configs_.begin(),
                 std::find_if(configs_.begin(), configs_.end(),
                              [i](const Config& c) { return c.index > i; }));
}

void RaftLog::restore(LogIndex index, Term term, std::uint64_t digest,
                      std::vector<NodeId> members, Bytes data) {
  entries_.clear();
  data_.clear();
  configs_.clear();
  snapshot_index_ = index;
  snapshot_term_ = term;
  snapshot_digest_ = digest;
  snapshot_data_ = std::move(data);
  base_config_ = Config{index, std::move(members)};
}

const std::vector<NodeId>& RaftLog::members_at(LogIndex i) const {
  LS_ASSERT_GE(i, snapshot_index_);
  const std::vector<NodeId>* found = &base_config_.members;
  for (const Config& c : configs_) {
    if (c.index > i) break;
    found = &c.members;
  }
  return *found;
}

}  // namespace lockstep::raft
