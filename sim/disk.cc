#include "sim/disk.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <set>
#include <string>
#include <utility>

#include "core/assert.h"

namespace lockstep::sim {

SimDisk::SimDisk(DiskConfig config) : SimDisk(config, nullptr, Rng(0)) {}

SimDisk::SimDisk(DiskConfig config, Clock clock, Rng latency_rng)
    : config_(config),
      clock_(clock),
      latency_rng_(latency_rng),
      latency_(config.sync_latency) {
  LS_ASSERT(config_.torn_corruption >= 0.0 && config_.torn_corruption <= 1.0);
}

std::optional<SimDisk::Found> SimDisk::find_visible_slow(std::string_view file) const {
  const auto it = visible_.find(file);
  if (it == visible_.end()) return std::nullopt;
  const auto inode = inodes_.find(it->second);
  LS_ASSERT(inode != inodes_.end());
  cached_.name.assign(file);
  cached_.id = it->second;
  cached_.inode = const_cast<Inode*>(&inode->second);
  return Found{cached_.id, cached_.inode};
}

Bytes SimDisk::take_spare() {
  if (spare_.empty()) return {};
  Bytes buffer = std::move(spare_.back());
  spare_.pop_back();
  return buffer;
}

void SimDisk::recycle(Bytes buffer) {
  if (spare_.size() >= kSpareBuffersMax || buffer.capacity() > kSpareBufferBytesMax) return;
  buffer.clear();
  spare_.push_back(std::move(buffer));
}

std::uint64_t SimDisk::footprint(const Inode& inode) {
  if (inode.appending) return inode.data.size();
  std::uint64_t bytes = inode.durable.size() + inode.tail.size();
  for (const Patch& p : inode.in_flight) bytes += p.bytes.size();
  return bytes;
}

void SimDisk::to_general(Inode& inode) {
  if (!inode.appending) return;
  inode.appending = false;
  const auto at = [&inode](std::uint64_t offset) {
    return inode.data.begin() + static_cast<std::ptrdiff_t>(offset);
  };
  inode.durable.assign(inode.data.begin(), at(inode.durable_end));
  std::uint64_t begin = inode.durable_end;
  for (const std::uint64_t end : inode.sync_ends) {
    inode.in_flight.push_back(Patch{begin, Bytes(at(begin), at(end))});
    begin = end;
  }
  inode.synced_size = begin;
  inode.keep = begin;
  inode.tail.assign(at(begin), inode.data.end());
  inode.data.clear();
  inode.durable_end = 0;
  inode.sync_ends.clear();
}

void SimDisk::to_appending(Inode& inode) {
  if (inode.appending || !inode.in_flight.empty() || inode.keep != inode.durable.size()) return;
  inode.appending = true;
  inode.data = std::move(inode.durable);
  inode.durable_end = inode.data.size();
  inode.data.insert(inode.data.end(), inode.tail.begin(), inode.tail.end());
  inode.durable.clear();
  inode.synced_size = 0;
  inode.keep = 0;
  recycle(std::move(inode.tail));
  inode.tail.clear();
}

Bytes SimDisk::read(std::string_view file) const {
  const Inode* inode = visible_inode(file);
  if (inode == nullptr) return {};
  if (inode->appending) return inode->data;
  Bytes out = inode->durable;
  for (const Patch& p : inode->in_flight) {
    out.resize(p.keep);
    out.insert(out.end(), p.bytes.begin(), p.bytes.end());
  }
  out.resize(inode->keep);
  out.insert(out.end(), inode->tail.begin(), inode->tail.end());
  return out;
}

bool SimDisk::exists(std::string_view file) const { return visible_.contains(file); }

std::uint64_t SimDisk::size(std::string_view file) const {
  const Inode* inode = visible_inode(file);
  if (inode == nullptr) return 0;
  return inode->appending ? inode->data.size() : inode->keep + inode->tail.size();
}

void SimDisk::add_stored(std::uint64_t before, std::uint64_t after) {
  LS_ASSERT_GE(stored_bytes_, before);
  stored_bytes_ = stored_bytes_ - before + after;
}

void SimDisk::append(std::string_view file, ByteView data) { append_parts(file, data, {}); }

void SimDisk::append_parts(std::string_view file, ByteView head, ByteView body) {
  settle();
  const std::uint64_t bytes = head.size() + body.size();
  LS_ASSERT_MSG(stored_bytes_ + bytes <= config_.capacity_bytes,
                "disk full: " + std::to_string(stored_bytes_) + " + " + std::to_string(bytes) +
                    " bytes exceeds capacity_bytes " + std::to_string(config_.capacity_bytes));
  Inode* inode = visible_inode(file);
  if (inode == nullptr) {
    const InodeId id = next_inode_++;
    inode = &inodes_[id];
    visible_.emplace(std::string(file), id);
    journal_.push_back(MetaOp{MetaOp::Kind::create, std::string(file), {}, id});
  }
  Bytes& to = inode->appending ? inode->data : inode->tail;
  append_bytes(to, head);
  append_bytes(to, body);
  stored_bytes_ += bytes;
  stats_.bytes_written += bytes;
}

void SimDisk::truncate(std::string_view file, std::uint64_t length) {
  settle();
  Inode* inode = visible_inode(file);
  if (inode == nullptr || length >= size(file)) return;
  if (inode->appending) {
    const std::uint64_t synced = inode->sync_ends.empty() ? inode->durable_end
                                                          : inode->sync_ends.back();
    if (length >= synced) {  // cuts the unsynced tail only
      add_stored(inode->data.size(), length);
      inode->data.resize(length);
      return;
    }
    to_general(*inode);
  }
  const std::uint64_t before = footprint(*inode);
  if (length <= inode->keep) {
    inode->keep = length;
    inode->tail.clear();
  } else {
    inode->tail.resize(length - inode->keep);
  }
  add_stored(before, footprint(*inode));
}

void SimDisk::rename(std::string_view from, std::string_view to) {
  settle();
  const auto it = visible_.find(from);
  LS_ASSERT_MSG(it != visible_.end(), "rename of missing file " + std::string(from));
  if (from == to) return;
  forget_cached_name();
  const InodeId id = it->second;
  visible_.erase(it);
  visible_.insert_or_assign(std::string(to), id);
  journal_.push_back(MetaOp{MetaOp::Kind::rename, std::string(from), std::string(to), 0});
  collect_garbage();
}

void SimDisk::remove(std::string_view file) {
  settle();
  const auto it = visible_.find(file);
  if (it == visible_.end()) return;
  forget_cached_name();
  visible_.erase(it);
  journal_.push_back(MetaOp{MetaOp::Kind::remove, std::string(file), {}, 0});
  collect_garbage();
}

bool SimDisk::capture(Inode& inode) {
  if (inode.appending) {
    const std::uint64_t synced = inode.sync_ends.empty() ? inode.durable_end
                                                         : inode.sync_ends.back();
    if (inode.data.size() == synced) return false;
    inode.sync_ends.push_back(inode.data.size());
    return true;
  }
  if (inode.tail.empty() && inode.keep == inode.synced_size) return false;
  inode.in_flight.push_back(Patch{inode.keep, std::move(inode.tail)});
  inode.tail = take_spare();
  inode.synced_size = inode.keep + inode.in_flight.back().bytes.size();
  inode.keep = inode.synced_size;
  return true;
}

void SimDisk::apply(const MetaOp& op) {
  // The journal replays, in order, changes that were made to the visible namespace starting from
  // the durable one, so every change finds the durable namespace as the visible one was.
  switch (op.kind) {
    case MetaOp::Kind::create: {
      const bool inserted = durable_.emplace(op.name, op.inode).second;
      LS_ASSERT_MSG(inserted, "journal creates existing file " + op.name);
      break;
    }
    case MetaOp::Kind::rename: {
      const auto from = durable_.find(op.name);
      LS_ASSERT_MSG(from != durable_.end(), "journal renames missing file " + op.name);
      const InodeId id = from->second;
      durable_.erase(from);
      durable_.insert_or_assign(op.to, id);
      break;
    }
    case MetaOp::Kind::remove: {
      const auto erased = durable_.erase(op.name);
      LS_ASSERT_MSG(erased == 1, "journal removes missing file " + op.name);
      break;
    }
  }
}

std::size_t SimDisk::claim_journal_through(std::string_view file) {
  if (journal_.size() == journal_claimed_) return 0;  // everything is claimed (or committed)
  const auto names = [file](const MetaOp& op) { return op.name == file || op.to == file; };
  const auto last = std::find_if(journal_.rbegin(), journal_.rend(), names);
  if (last == journal_.rend()) return 0;
  const auto through = static_cast<std::size_t>(std::distance(last, journal_.rend()));
  if (through <= journal_claimed_) return 0;  // an earlier sync in flight commits it already
  const std::size_t claimed = through - journal_claimed_;
  journal_claimed_ = through;
  return claimed;
}

void SimDisk::sync(std::string_view file) {
  settle();
  ++stats_.syncs;
  PendingSync pending;
  const std::optional<Found> found = find_visible(file);
  if (found && capture(*found->inode)) pending.inode = found->id;
  pending.journal_ops = claim_journal_through(file);
  const Nanos latency = clock_ != nullptr ? latency_.sample(latency_rng_) : Nanos::zero();
  pending.done_at = std::max(now(), sync_done_at_) + latency;
  sync_done_at_ = pending.done_at;
  pending_.push_back(pending);
  settle();
}

void SimDisk::settle_due() {
  const Nanos t = now();
  while (!pending_.empty() && pending_.front().done_at <= t) {
    const PendingSync done = pending_.front();
    pending_.pop_front();
    complete(done);
  }
}

void SimDisk::complete(const PendingSync& sync) {
  if (sync.inode) {
    // An inode that was collected meanwhile is named by no namespace and no journal entry: its
    // data can never be read again, so there is nothing to make durable.
    if (auto it = inodes_.find(*sync.inode); it != inodes_.end() && it->second.appending) {
      // The bytes are in place: the durable image just grows over them.
      Inode& inode = it->second;
      LS_ASSERT(!inode.sync_ends.empty());
      stats_.bytes_synced += inode.sync_ends.front() - inode.durable_end;
      inode.durable_end = inode.sync_ends.front();
      inode.sync_ends.pop_front();
    } else if (it != inodes_.end()) {
      Inode& inode = it->second;
      LS_ASSERT(!inode.in_flight.empty());
      Patch& patch = inode.in_flight.front();
      LS_ASSERT_LE(patch.keep, inode.durable.size());
      // Only the durable image and this patch change: the rest of the footprint stays.
      const std::uint64_t before = inode.durable.size() + patch.bytes.size();
      stats_.bytes_synced += patch.bytes.size();
      inode.durable.resize(patch.keep);
      inode.durable.insert(inode.durable.end(), patch.bytes.begin(), patch.bytes.end());
      recycle(std::move(patch.bytes));
      inode.in_flight.pop_front();
      add_stored(before, inode.durable.size());
      to_appending(inode);
    }
  }
  if (sync.journal_ops == 0) return;
  LS_ASSERT_LE(sync.journal_ops, journal_claimed_);
  for (std::size_t i = 0; i < sync.journal_ops; ++i) apply(journal_[i]);
  journal_.erase(journal_.begin(), journal_.begin() + static_cast<std::ptrdiff_t>(sync.journal_ops));
  journal_claimed_ -= sync.journal_ops;
  collect_garbage();
}

std::vector<std::string> SimDisk::list() const {
  std::vector<std::string> names;
  names.reserve(visible_.size());
  for (const auto& [name, id] : visible_) names.push_back(name);
  return names;
}

void SimDisk::collect_garbage() {
  forget_cached_name();
  std::set<InodeId> live;
  for (const auto& [name, id] : visible_) live.insert(id);
  for (const auto& [name, id] : durable_) live.insert(id);
  for (const MetaOp& op : journal_) {
    if (op.kind == MetaOp::Kind::create) live.insert(op.inode);
  }
  for (auto it = inodes_.begin(); it != inodes_.end();) {
    if (live.contains(it->first)) {
      ++it;
    } else {
      add_stored(footprint(it->second), 0);
      it = inodes_.erase(it);
    }
  }
}

CrashLoss SimDisk::crash(Rng& rng) {
  settle();
  ++stats_.crashes;
  for (auto& [id, inode] : inodes_) to_general(inode);  // crashes are rare: one form to reason on
  CrashLoss loss;
  loss.syncs_cut = pending_.size();
  stats_.syncs_cut += pending_.size();
  for (const auto& [id, inode] : inodes_) {
    for (const Patch& p : inode.in_flight) loss.in_flight_bytes += p.bytes.size();
    loss.unsynced_bytes += inode.tail.size();
  }
  loss.unsynced_bytes += loss.in_flight_bytes;
  // Torn writes first, in name order so the draws do not depend on inode numbering.
  if (config_.torn_writes) {
    for (const auto& [name, id] : durable_) {
      Inode& inode = inodes_.at(id);
      // Appends only: every sync in flight and the visible state extend the image before them.
      std::uint64_t image = inode.durable.size();
      bool appends_only = true;
      Bytes unsynced;
      for (const Patch& p : inode.in_flight) {
        appends_only = appends_only && p.keep == image;
        image = p.keep + p.bytes.size();
        unsynced.insert(unsynced.end(), p.bytes.begin(), p.bytes.end());
      }
      appends_only = appends_only && inode.keep == image;
      unsynced.insert(unsynced.end(), inode.tail.begin(), inode.tail.end());
      if (unsynced.empty() || !appends_only) continue;
      const std::uint64_t kept = rng.below(unsynced.size() + 1);
      if (kept == 0) continue;
      if (kept < unsynced.size()) {
        ++stats_.torn_writes;
        ++loss.torn_files;
      }
      loss.torn_bytes_kept += kept;
      const std::uint64_t torn_start = inode.durable.size();
      const std::uint64_t before = footprint(inode);
      inode.durable.insert(inode.durable.end(), unsynced.begin(),
                           unsynced.begin() + static_cast<std::ptrdiff_t>(kept));
      add_stored(before, footprint(inode));
      if (rng.chance(config_.torn_corruption)) {
        const std::uint64_t bit = rng.below(kept * 8);
        inode.durable[torn_start + bit / 8] ^=
            std::byte{static_cast<unsigned char>(1u << (bit % 8))};
        ++stats_.bits_flipped;
        ++loss.bits_flipped;
      }
    }
  }
  for (auto& [id, inode] : inodes_) {
    const std::uint64_t before = footprint(inode);
    inode.in_flight.clear();
    inode.tail.clear();
    inode.synced_size = inode.durable.size();
    inode.keep = inode.durable.size();
    add_stored(before, footprint(inode));
    to_appending(inode);
  }
  pending_.clear();
  sync_done_at_ = std::min(sync_done_at_, now());
  journal_.clear();
  journal_claimed_ = 0;
  forget_cached_name();
  visible_ = durable_;
  collect_garbage();
  return loss;
}

std::optional<std::uint64_t> SimDisk::corrupt_bit(Rng& rng, std::string_view file) {
  settle();
  const auto it = durable_.find(file);
  if (it == durable_.end()) return std::nullopt;
  Inode& inode = inodes_.at(it->second);
  to_general(inode);  // rare: flip the bit in the one form, which goes back once nothing is pending
  Bytes& image = inode.durable;
  if (image.empty()) return std::nullopt;
  const std::uint64_t bit = rng.below(image.size() * 8);
  image[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
  ++stats_.bits_flipped;
  to_appending(inode);
  return bit;
}

bool SimDisk::durably_exists(std::string_view file) {
  settle();
  return durable_.contains(file);
}

Bytes SimDisk::read_durable(std::string_view file) {
  settle();
  const auto it = durable_.find(file);
  if (it == durable_.end()) return {};
  const Inode& inode = inodes_.at(it->second);
  if (inode.appending) {
    return Bytes(inode.data.begin(),
                 inode.data.begin() + static_cast<std::ptrdiff_t>(inode.durable_end));
  }
  return inode.durable;
}

}  // namespace lockstep::sim
