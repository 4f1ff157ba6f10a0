// Tunables of one Zab replica, each with its unit in its name. ZooKeeper counts most of these in
// ticks (tickTime, initLimit, syncLimit); here they are durations with defaults that suit a LAN.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/types.h"

namespace lockstep::zab {

struct ZabConfig {
  // The leader pings every follower this often (ZooKeeper: half a tick). Pings carry the read
  // rounds, and their answers carry the follower's latest acknowledged zxid.
  Nanos heartbeat_interval = milliseconds(50);
  // A leader steps down when fewer than a quorum of synced followers were heard from within one
  // sync_timeout, and a follower goes back to election when its leader is silent for this long
  // (ZooKeeper: syncLimit ticks).
  Nanos sync_timeout = milliseconds(250);
  // Discovery and synchronization must finish within this, on either side, or the server goes
  // back to election (ZooKeeper: initLimit ticks).
  Nanos init_timeout = seconds(1);

  // Fast Leader Election: a LOOKING server re-sends its notifications when nothing changed for a
  // timeout that starts at notification_timeout_min and doubles up to notification_timeout_max
  // (ZooKeeper: 200ms doubling to 60s), each drawn with up to 50% random extra from the seed.
  Nanos notification_timeout_min = milliseconds(50);
  Nanos notification_timeout_max = milliseconds(400);
  // Once a quorum agrees with its vote, a server waits this long for a better vote before it
  // settles (ZooKeeper's finalizeWait, 200ms).
  Nanos finalize_wait = milliseconds(30);

  // Leader-to-follower messages form a FIFO session (ZooKeeper relies on TCP). A follower holds
  // messages that arrive ahead of a gap (reordering) up to reorder_window of them, for at most
  // gap_timeout; then it reconnects, which re-synchronizes it from its last zxid.
  Nanos gap_timeout = milliseconds(100);
  std::size_t reorder_window = 256;

  // propose() answers busy once this many proposals are outstanding (proposed, not committed).
  std::size_t max_outstanding_proposals = 1000;
  // read_barrier() answers busy once this many read barriers are waiting.
  std::size_t max_pending_reads = 8192;
  // A DIFF is sent in chunks of at most this many transactions and (above one) this many bytes.
  std::size_t max_txns_per_diff = 64;
  std::size_t max_diff_bytes = std::size_t{1} << 20;

  // Bug switches, off in every correct configuration (protocols/zab/README.md).
  // ZOOKEEPER-3911 class: a follower acknowledges NEWLEADER once its currentEpoch is durable but
  // before the transactions of the synchronization are written, so a crash right after the ack
  // loses transactions the leader then counts as committed.
  bool ack_newleader_before_sync = false;
  // ZOOKEEPER-1154 class: a rejoining follower whose last zxid the leader does not hold gets a
  // DIFF of everything above that zxid instead of a TRUNC to the common prefix, so it keeps a
  // proposal of an old epoch that was never committed.
  bool diff_instead_of_trunc = false;
};

// nullopt when the configuration is usable; otherwise which field is wrong and what is allowed.
std::optional<std::string> validate(const ZabConfig& config);

}  // namespace lockstep::zab
