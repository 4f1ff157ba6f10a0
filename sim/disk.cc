#include "sim/disk.h"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <set>
#include <string>
#include <utility>

#include "core/assert.h"

namespace lockstep::sim {

SimDisk::SimDisk(DiskConfig config) : config_(config) {
  LS_ASSERT(config_.torn_corruption >= 0.0 && config_.torn_corruption <= 1.0);
}

const SimDisk::Inode* SimDisk::visible_inode(std::string_view file) const {
  const auto it = visible_.find(file);
  if (it == visible_.end()) return nullptr;
  const auto inode = inodes_.find(it->second);
  LS_ASSERT(inode != inodes_.end());
  return &inode->second;
}

SimDisk::Inode* SimDisk::visible_inode(std::string_view file) {
  return const_cast<Inode*>(std::as_const(*this).visible_inode(file));
}

Bytes SimDisk::read(std::string_view file) const {
  const Inode* inode = visible_inode(file);
  if (inode == nullptr) return {};
  Bytes out;
  out.reserve(inode->keep + inode->tail.size());
  const auto keep = static_cast<std::ptrdiff_t>(inode->keep);
  out.insert(out.end(), inode->durable.begin(), inode->durable.begin() + keep);
  out.insert(out.end(), inode->tail.begin(), inode->tail.end());
  return out;
}

bool SimDisk::exists(std::string_view file) const { return visible_.contains(file); }

std::uint64_t SimDisk::size(std::string_view file) const {
  const Inode* inode = visible_inode(file);
  return inode == nullptr ? 0 : inode->keep + inode->tail.size();
}

void SimDisk::add_stored(std::uint64_t before, std::uint64_t after) {
  LS_ASSERT_GE(stored_bytes_, before);
  stored_bytes_ = stored_bytes_ - before + after;
}

void SimDisk::append(std::string_view file, ByteView data) {
  LS_ASSERT_MSG(stored_bytes_ + data.size() <= config_.capacity_bytes,
                "disk full: " + std::to_string(stored_bytes_) + " + " +
                    std::to_string(data.size()) + " bytes exceeds capacity_bytes " +
                    std::to_string(config_.capacity_bytes));
  Inode* inode = visible_inode(file);
  if (inode == nullptr) {
    const InodeId id = next_inode_++;
    inode = &inodes_[id];
    visible_.emplace(std::string(file), id);
    journal_.push_back(MetaOp{MetaOp::Kind::create, std::string(file), {}, id});
  }
  inode->tail.insert(inode->tail.end(), data.begin(), data.end());
  stored_bytes_ += data.size();
  stats_.bytes_written += data.size();
}

void SimDisk::truncate(std::string_view file, std::uint64_t length) {
  Inode* inode = visible_inode(file);
  if (inode == nullptr || length >= inode->keep + inode->tail.size()) return;
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
  const auto it = visible_.find(from);
  LS_ASSERT_MSG(it != visible_.end(), "rename of missing file " + std::string(from));
  if (from == to) return;
  const InodeId id = it->second;
  visible_.erase(it);
  visible_.insert_or_assign(std::string(to), id);
  journal_.push_back(MetaOp{MetaOp::Kind::rename, std::string(from), std::string(to), 0});
  collect_garbage();
}

void SimDisk::remove(std::string_view file) {
  const auto it = visible_.find(file);
  if (it == visible_.end()) return;
  visible_.erase(it);
  journal_.push_back(MetaOp{MetaOp::Kind::remove, std::string(file), {}, 0});
  collect_garbage();
}

void SimDisk::sync_data(Inode& inode) {
  const std::uint64_t before = footprint(inode);
  stats_.bytes_synced += inode.tail.size();
  inode.durable.resize(inode.keep);
  inode.durable.insert(inode.durable.end(), inode.tail.begin(), inode.tail.end());
  inode.keep = inode.durable.size();
  inode.tail.clear();
  add_stored(before, footprint(inode));
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

bool SimDisk::commit_journal_through(std::string_view file) {
  const auto names = [file](const MetaOp& op) { return op.name == file || op.to == file; };
  const auto last = std::find_if(journal_.rbegin(), journal_.rend(), names);
  if (last == journal_.rend()) return false;
  const auto count = static_cast<std::size_t>(std::distance(last, journal_.rend()));
  for (std::size_t i = 0; i < count; ++i) apply(journal_[i]);
  journal_.erase(journal_.begin(), journal_.begin() + static_cast<std::ptrdiff_t>(count));
  return true;
}

void SimDisk::sync(std::string_view file) {
  ++stats_.syncs;
  if (Inode* inode = visible_inode(file)) sync_data(*inode);
  if (commit_journal_through(file)) collect_garbage();
}

std::vector<std::string> SimDisk::list() const {
  std::vector<std::string> names;
  names.reserve(visible_.size());
  for (const auto& [name, id] : visible_) names.push_back(name);
  return names;
}

void SimDisk::collect_garbage() {
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

void SimDisk::crash(Rng& rng) {
  ++stats_.crashes;
  // Torn writes first, in name order so the draws do not depend on inode numbering.
  if (config_.torn_writes) {
    for (const auto& [name, id] : durable_) {
      Inode& inode = inodes_.at(id);
      if (inode.tail.empty() || inode.keep != inode.durable.size()) continue;
      const std::uint64_t kept = rng.below(inode.tail.size() + 1);
      if (kept == 0) continue;
      if (kept < inode.tail.size()) ++stats_.torn_writes;
      const std::uint64_t torn_start = inode.durable.size();
      const auto kept_end = inode.tail.begin() + static_cast<std::ptrdiff_t>(kept);
      const std::uint64_t before = footprint(inode);
      inode.durable.insert(inode.durable.end(), inode.tail.begin(), kept_end);
      add_stored(before, footprint(inode));
      if (rng.chance(config_.torn_corruption)) {
        const std::uint64_t bit = rng.below(kept * 8);
        inode.durable[torn_start + bit / 8] ^=
            std::byte{static_cast<unsigned char>(1u << (bit % 8))};
        ++stats_.bits_flipped;
      }
    }
  }
  for (auto& [id, inode] : inodes_) {
    const std::uint64_t before = footprint(inode);
    inode.tail.clear();
    inode.keep = inode.durable.size();
    add_stored(before, footprint(inode));
  }
  journal_.clear();
  visible_ = durable_;
  collect_garbage();
}

std::optional<std::uint64_t> SimDisk::corrupt_bit(Rng& rng, std::string_view file) {
  const auto it = durable_.find(file);
  if (it == durable_.end()) return std::nullopt;
  Bytes& image = inodes_.at(it->second).durable;
  if (image.empty()) return std::nullopt;
  const std::uint64_t bit = rng.below(image.size() * 8);
  image[bit / 8] ^= std::byte{static_cast<unsigned char>(1u << (bit % 8))};
  ++stats_.bits_flipped;
  return bit;
}

bool SimDisk::durably_exists(std::string_view file) const { return durable_.contains(file); }

Bytes SimDisk::read_durable(std::string_view file) const {
  const auto it = durable_.find(file);
  if (it == durable_.end()) return {};
  return inodes_.at(it->second).durable;
}

}  // namespace lockstep::sim
