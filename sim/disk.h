// A node's simulated disk: a flat set of named files whose writes are volatile until synced, and
// whose syncs take time.
//
// The model is a small journaling file system, the kind real nodes run on (ext4, XFS):
//   - File data lives in inodes. Each inode has a durable image (what survives a crash) and a
//     visible state that reads see: a prefix of the synced image (`keep` bytes, shorter than the
//     image after a truncate) followed by a pending tail of appended bytes. The synced image is
//     the durable one with the syncs still in flight applied on top. Appending and syncing only
//     touch the tail, so an append-heavy log never copies its whole file. A file that has only
//     grown since its durable image was last whole (the usual log) is kept in one buffer with the
//     durable image, the syncs in flight and the tail back to back, so that a sync and its
//     completion copy nothing; a truncate into what is synced or in flight spreads it out.
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
//   - Syncs take time. sync() returns at once (the Disk API stays synchronous: the node carries
//     on as if its data were safe), but what it captured — the inode's visible bytes and the
//     journal prefix — becomes durable only at its completion time
//         T = max(now, the previous sync's T) + latency,
//     latency drawn from DiskConfig::sync_latency with the disk's own random stream. Syncs on one
//     disk therefore complete in the order they were issued (a disk flushes its queue in order),
//     and a sync's data includes everything an earlier sync captured. sync_done_at() is the
//     latest T: the world holds the node's outgoing messages until then (sim/world.h).
//   - A crash at time c first completes every sync with T <= c; the rest are cut short and what
//     they captured is as unsynced as a write never synced. Then it restores the durable
//     namespace and every inode's durable image. Without faults that is exactly what was synced
//     by then. With DiskConfig::torn_writes, each durably named file whose pending changes are
//     appends only (no truncate in a sync in flight or since) also keeps a random prefix
//     (uniform over 0..all) of its unsynced bytes — those of the syncs cut short, then the tail —
//     a torn write that can cut a record anywhere; and with probability DiskConfig::torn_corruption
//     one random bit of that surviving torn part is flipped. Files with a pending truncate, and
//     files not durably named, keep no torn bytes. crash() reports what was lost (CrashLoss).
//   - corrupt_bit() flips one bit of a file's durable image: a latent sector error, scheduled by
//     the fault injector. Reads see it wherever the visible state still shows those bytes.
// A disk made without a clock (unit tests of the file model) completes every sync at once.
// Files, names and inodes live in ordered maps, and random draws happen in name order, so the
// same seed gives the same disk.
#pragma once

#include <cstdint>
#include <cstring>
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
#include "sim/latency.h"

namespace lockstep::sim {

struct DiskStats {
  std::uint64_t bytes_written = 0;  // bytes appended
  std::uint64_t bytes_synced = 0;   // appended bytes made durable by a completed sync
  std::uint64_t syncs = 0;          // sync() calls
  std::uint64_t syncs_cut = 0;      // syncs a crash found still in flight
  std::uint64_t crashes = 0;
  std::uint64_t torn_writes = 0;   // files that kept some, not all, unsynced bytes in a crash
  std::uint64_t bits_flipped = 0;  // by torn corruption and corrupt_bit
};

// What one crash did to the data a node had written but that was not durable yet.
struct CrashLoss {
  std::uint64_t unsynced_bytes = 0;  // appended bytes not durable at the crash, in any file
  std::uint64_t in_flight_bytes = 0;  // of those, bytes a sync cut short had captured
  std::uint64_t syncs_cut = 0;        // syncs issued and not complete
  std::uint64_t torn_bytes_kept = 0;  // unsynced bytes that survived as torn tails
  std::uint64_t torn_files = 0;       // files that kept some, not all, of their unsynced bytes
  std::uint64_t bits_flipped = 0;     // in those torn tails

  std::uint64_t bytes_lost() const { return unsynced_bytes - torn_bytes_kept; }
};

class SimDisk final : public Disk {
 public:
  // The true time, kept by the disk's owner (the world), which outlives the disk. A pointer rather
  // than a callback: every append and sync reads it, and a std::function call per read showed in
  // profiles.
  using Clock = const Nanos*;

  // A disk with no clock: every sync completes at once (unit tests of the file model).
  explicit SimDisk(DiskConfig config = {});
  // A disk in a world: `clock` points at true time, and each sync's latency is drawn from
  // config.sync_latency with `latency_rng`.
  SimDisk(DiskConfig config, Clock clock, Rng latency_rng);

  Bytes read(std::string_view file) const override;
  bool exists(std::string_view file) const override;
  std::uint64_t size(std::string_view file) const override;
  void append(std::string_view file, ByteView data) override;
  void append_parts(std::string_view file, ByteView head, ByteView body) override;
  void truncate(std::string_view file, std::uint64_t length) override;
  // Renaming a missing file is an assertion (a bug in the node's code); renaming onto itself is a
  // no-op. The file that `to` named before is gone at once and, once committed, for good.
  void rename(std::string_view from, std::string_view to) override;
  void remove(std::string_view file) override;
  // Issues a sync that completes at sync_done_at() (see the header comment).
  void sync(std::string_view file) override;
  std::vector<std::string> list() const override;
  Nanos syncs_pending_for() const override {
    return sync_done_at_ > now() ? sync_done_at_ - now() : Nanos::zero();
  }

  // The completion time of the latest sync issued; a sync is in flight while the clock reads
  // less. Never decreases, except that a crash forgets the syncs it cut short.
  Nanos sync_done_at() const { return sync_done_at_; }

  // Loses every change not durable by now, as a power failure would; see the header comment for
  // syncs in flight and torn writes. Draws from `rng` only when torn writes are configured.
  CrashLoss crash(Rng& rng);

  // Flips one uniformly chosen bit of the durable image of `file`. Returns the bit's position
  // (byte * 8 + bit), or nullopt when the file has no durable bytes to corrupt.
  std::optional<std::uint64_t> corrupt_bit(Rng& rng, std::string_view file);

  // What a crash right now would leave without faults: for tests and durability checkers.
  bool durably_exists(std::string_view file);
  Bytes read_durable(std::string_view file);

  // Bytes held: every live inode's durable image, the data of its syncs in flight and its
  // pending tail.
  std::uint64_t stored_bytes() const { return stored_bytes_; }
  const DiskStats& stats() const { return stats_; }
  const DiskConfig& config() const { return config_; }

 private:
  using InodeId = std::uint64_t;

  // The data one sync captured: the image it makes durable is the previous image's first `keep`
  // bytes followed by `bytes`.
  struct Patch {
    std::uint64_t keep = 0;
    Bytes bytes;
  };

  struct Inode {
    // Appending form: the visible bytes are `data`, whose first `durable_end` bytes are the
    // durable image and whose bytes up to each of `sync_ends` (ascending) are what each sync in
    // flight captured, oldest first: every patch appends (keep = the image before it) and no
    // truncate is pending (keep = synced size). The fields below are then unused.
    bool appending = true;
    Bytes data;
    std::uint64_t durable_end = 0;
    std::deque<std::uint64_t> sync_ends;
    // General form.
    Bytes durable;                 // what a crash keeps
    std::deque<Patch> in_flight;   // syncs issued and not complete, oldest first
    std::uint64_t synced_size = 0;  // size of the image with `in_flight` applied
    std::uint64_t keep = 0;         // visible = synced image[0, keep) + tail; keep <= synced_size
    Bytes tail;                     // appended since the last sync, not durable
  };

  struct MetaOp {
    enum class Kind : std::uint8_t { create, rename, remove };
    Kind kind;
    std::string name;   // created, removed, or rename source
    std::string to;     // rename destination
    InodeId inode = 0;  // create
  };

  // One sync issued and not complete.
  struct PendingSync {
    Nanos done_at;
    std::optional<InodeId> inode;  // whose oldest in-flight patch it completes
    std::size_t journal_ops = 0;   // journal entries, from the front, it commits
  };

  using Namespace = std::map<std::string, InodeId, std::less<>>;

  // A visible name's inode.
  struct Found {
    InodeId id = 0;
    Inode* inode = nullptr;
  };

  Nanos now() const { return clock_ != nullptr ? *clock_ : Nanos::zero(); }
  // Completes every sync whose time has come. Inline for the common case, nothing due.
  void settle() {
    if (!pending_.empty() && pending_.front().done_at <= now()) settle_due();
  }
  void settle_due();
  void complete(const PendingSync& sync);
  // Inline for the common case, the name looked up last (a node appends to and syncs one log).
  std::optional<Found> find_visible(std::string_view file) const {
    // Sizes first, then the bytes: std::string's == went through an out-of-line compare().
    if (cached_.inode != nullptr && cached_.name.size() == file.size() &&
        std::memcmp(cached_.name.data(), file.data(), file.size()) == 0) {
      return Found{cached_.id, cached_.inode};
    }
    return find_visible_slow(file);
  }
  std::optional<Found> find_visible_slow(std::string_view file) const;
  const Inode* visible_inode(std::string_view file) const {
    const std::optional<Found> found = find_visible(file);
    return found ? found->inode : nullptr;
  }
  Inode* visible_inode(std::string_view file) {
    const std::optional<Found> found = find_visible(file);
    return found ? found->inode : nullptr;
  }
  // Called whenever a name may stop naming its inode, or an inode may go away.
  void forget_cached_name() { cached_.inode = nullptr; }
  // An empty buffer, with capacity when a recycled one is at hand.
  Bytes take_spare();
  void recycle(Bytes buffer);
  static std::uint64_t footprint(const Inode& inode);
  // Between the two forms of an Inode (same file state). to_appending() is a no-op unless no
  // sync is in flight and no truncate is pending.
  void to_general(Inode& inode);
  void to_appending(Inode& inode);
  // Moves the inode's tail into a new in-flight patch; false when nothing changed since the
  // last one.
  bool capture(Inode& inode);
  // Claims the journal through its last entry naming `file`; returns how many more entries that
  // claims.
  std::size_t claim_journal_through(std::string_view file);
  void apply(const MetaOp& op);
  // Drops inodes that no namespace and no journal entry refers to any more.
  void collect_garbage();
  void add_stored(std::uint64_t before, std::uint64_t after);

  DiskConfig config_;
  Clock clock_;
  Rng latency_rng_{0};
  LatencySampler latency_;
  std::map<InodeId, Inode> inodes_;
  InodeId next_inode_ = 1;
  Namespace visible_;
  Namespace durable_;
  std::deque<MetaOp> journal_;        // uncommitted, oldest first
  std::size_t journal_claimed_ = 0;   // entries at its front that syncs in flight will commit
  std::deque<PendingSync> pending_;   // oldest first; done_at never decreases
  Nanos sync_done_at_ = Nanos::zero();
  std::uint64_t stored_bytes_ = 0;
  DiskStats stats_;
  // The last name looked up and the inode it names (inodes_ never moves its nodes): a node appends
  // to and syncs one log over and over, and two map lookups per call showed in profiles. A copy
  // of the disk starts with an empty cache, since the inode would be the original's.
  struct NameCache {
    NameCache() = default;
    NameCache(const NameCache&) {}
    NameCache& operator=(const NameCache&) {
      inode = nullptr;
      return *this;
    }
    std::string name;
    InodeId id = 0;
    Inode* inode = nullptr;  // nullptr: nothing cached
  };
  mutable NameCache cached_;
  // Buffers of completed syncs, emptied, for the next tails: appending and syncing a log then
  // allocates nothing in the steady state.
  static constexpr std::size_t kSpareBuffersMax = 8;
  static constexpr std::size_t kSpareBufferBytesMax = std::size_t{1} << 16;
  std::vector<Bytes> spare_;
};

}  // namespace lockstep::sim
