// A node's simulated disk: a flat set of named files whose writes are volatile until synced.
//
// The model is a small journaling file system, the kind real nodes run on (ext4, XFS):
//   - File data lives in inodes. Each inode has a durable image (what survives a crash) and a
//     visible state that reads see: a prefix of the durable image (`keep` bytes, shorter than the
//     image after a truncate) followed by a pending tail of appended bytes. Appending and syncing
//     only touch the tail, so an append-heavy log never copies its whole file.
//   - Names map to inodes twice: the visible namespace (what list/read/exists see) and the durable
//     namespace. Creating a file (its first append), rename and remove change the visible
//     namespace at once and are queued, in order, in a metadata journal.
//   - sync(name) makes durable the data of the inode `name` now refers to, and commits the
//     metadata journal up to and including the last entry naming `name` (as source or
//     destination of a rename too). The journal commits in order, like a real one, so a crash
//     never shows a namespace that did not exist at some moment: rename(tmp, snap) + sync(snap)
//     commits the rename atomically — `snap` holds the new inode and `tmp` is gone. sync(tmp)
//     commits the rename too, but syncs no data, since `tmp` names no inode any more; a node
//     syncs a file's data before renaming it into place. A consequence a recovering node must
//     handle, as on a real disk: committing the journal also commits earlier creates, renames and
//     removes of other files, so after a crash a file can exist that holds less data (possibly
//     none) than was written to it.
//   - A crash restores the durable namespace and every inode's durable image. Without faults
//     that is exactly what was synced. With DiskConfig::torn_writes, each durably named file
//     whose pending changes are appends only also keeps a random prefix (uniform over 0..all) of
//     its unsynced bytes — a torn write that can cut a record anywhere — and with probability
//     DiskConfig::torn_corruption one random bit of that surviving torn part is flipped. Files
//     with a pending truncate, and files not durably named, keep no torn bytes.
//   - corrupt_bit() flips one bit of a file's durable image: a latent sector error, scheduled by
//     the fault injector. Reads see it wherever the visible state still shows those bytes.
// Files, names and inodes live in ordered maps, and random draws happen in name order, so the
// same seed gives the same disk.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/env.h"
#include "core/rng.h"
#include "sim/config.h"

namespace lockstep::sim {

struct DiskStats {
  std::uint64_t bytes_written = 0;  // bytes appended
  std::uint64_t bytes_synced = 0;   // appended bytes made durable by sync
  std::uint64_t syncs = 0;          // sync() calls
  std::uint64_t crashes = 0;
  std::uint64_t torn_writes = 0;   // files that kept some, not all, unsynced bytes in a crash
  std::uint64_t bits_flipped = 0;  // by torn corruption and corrupt_bit
};

class SimDisk final : public Disk {
 public:
  explicit SimDisk(DiskConfig config = {});

  Bytes read(std::string_view file) const override;
  bool exists(std::string_view file) const override;
  std::uint64_t size(std::string_view file) const override;
  void append(std::string_view file, ByteView data) override;
  void truncate(std::string_view file, std::uint64_t length) override;
  // Renaming a missing file is an assertion (a bug in the node's code); renaming onto itself is a
  // no-op. The file that `to` named before is gone at once and, once committed, for good.
  void rename(std::string_view from, std::string_view to) override;
  void remove(std::string_view file) override;
  void sync(std::string_view file) override;
  std::vector<std::string> list() const override;

  // Loses every unsynced change, as a power failure would; see the header comment for torn
  // writes. Draws from `rng` only when torn writes are configured.
  void crash(Rng& rng);

  // Flips one uniformly chosen bit of the durable image of `file`. Returns the bit's position
  // (byte * 8 + bit), or nullopt when the file has no durable bytes to corrupt.
  std::optional<std::uint64_t> corrupt_bit(Rng& rng, std::string_view file);

  // What a crash right now would leave without faults: for tests and durability checkers.
  bool durably_exists(std::string_view file) const;
  Bytes read_durable(std::string_view file) const;

  // Bytes held: every live inode's durable image plus its pending tail.
  std::uint64_t stored_bytes() const { return stored_bytes_; }
  const DiskStats& stats() const { return stats_; }
  const DiskConfig& config() const { return config_; }

 private:
  using InodeId = std::uint64_t;

  struct Inode {
    Bytes durable;           // what a crash keeps
    std::uint64_t keep = 0;  // visible = durable[0, keep) + tail; keep <= durable.size()
    Bytes tail;              // appended since the last sync, not durable
  };

  struct MetaOp {
    enum class Kind : std::uint8_t { create, rename, remove };
    Kind kind;
    std::string name;   // created, removed, or rename source
    std::string to;     // rename destination
    InodeId inode = 0;  // create
  };

  using Namespace = std::map<std::string, InodeId, std::less<>>;

  const Inode* visible_inode(std::string_view file) const;
  Inode* visible_inode(std::string_view file);
  std::uint64_t footprint(const Inode& inode) const {
    return inode.durable.size() + inode.tail.size();
  }
  void sync_data(Inode& inode);
  // Applies the journal through its last entry naming `file`; false if there was none.
  bool commit_journal_through(std::string_view file);
  void apply(const MetaOp& op);
  // Drops inodes that no namespace and no journal entry refers to any more.
  void collect_garbage();
  void add_stored(std::uint64_t before, std::uint64_t after);

  DiskConfig config_;
  std::map<InodeId, Inode> inodes_;
  InodeId next_inode_ = 1;
  Namespace visible_;
  Namespace durable_;
  std::deque<MetaOp> journal_;  // uncommitted, oldest first
  std::uint64_t stored_bytes_ = 0;
  DiskStats stats_;
};

}  // namespace lockstep::sim
