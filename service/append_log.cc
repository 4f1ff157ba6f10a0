#include "service/append_log.h"

#include "core/assert.h"
#include "core/codec.h"

namespace lockstep::service {

void AppendLog::apply(std::uint64_t index, const LoggedCommand& command, Bytes& result) {
  auto& last = last_applied_[command.client];
  if (command.request != 0 && command.request <= last.first) {
    // A retry of a request already applied. Clients number requests 1, 2, ... and wait for each,
    // so only the latest can be retried; older ones get the latest's index, which they ignore.
    Writer(result).u64(last.second);
    return;
  }
  entries_.push_back(Entry{index, command.client, command.request});
  last = {command.request, index};
  Writer(result).u64(index);
}

Bytes AppendLog::query(ByteView) const { return Writer().u64(entries_.size()).take(); }

Bytes AppendLog::snapshot() const {
  Writer w(16 + entries_.size() * 24 + last_applied_.size() * 24);
  w.u64(entries_.size());
  for (const Entry& e : entries_) w.u64(e.index).u64(e.client).u64(e.request);
  w.u64(last_applied_.size());
  for (const auto& [client, last] : last_applied_) w.u64(client).u64(last.first).u64(last.second);
  return w.take();
}

void AppendLog::restore(ByteView snapshot) {
  Reader r(snapshot);
  std::vector<Entry> entries;
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> last;
  const std::uint64_t n = r.u64();
  for (std::uint64_t i = 0; i < n && r.ok(); ++i) {
    Entry e;
    e.index = r.u64();
    e.client = r.u64();
    e.request = r.u64();
    entries.push_back(e);
  }
  const std::uint64_t m = r.u64();
  for (std::uint64_t i = 0; i < m && r.ok(); ++i) {
    const std::uint64_t client = r.u64();
    const std::uint64_t request = r.u64();
    last[client] = {request, r.u64()};
  }
  // Snapshots come from our own state machines through the protocol, checksummed on disk.
  LS_ASSERT(r.done());
  entries_ = std::move(entries);
  last_applied_ = std::move(last);
}

std::optional<std::uint64_t> AppendLog::decode_result(ByteView result) {
  Reader r(result);
  const std::uint64_t index = r.u64();
  if (!r.done()) return std::nullopt;
  return index;
}

}  // namespace lockstep::service
