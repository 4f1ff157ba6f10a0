// What Zab replicas say to each other and what a replica writes to its record log, and the binary
// codec for both. Names follow the paper (Junqueira, Reed, Serafini, DSN 2011, Algorithms 1-3)
// where it has one and ZooKeeper's packet types otherwise (FOLLOWERINFO, LEADERINFO=NEWEPOCH,
// DIFF, TRUNC, SNAP, UPTODATE, PING).
//
// Sessions. Everything but a Notification travels inside a session: a follower opens one with
// FOLLOWERINFO under a fresh random session id, and every leader-to-follower message of that
// session carries a sequence number (1, 2, ...). The follower processes them strictly in sequence
// order, which gives Zab the FIFO channel it assumes (ZooKeeper runs over TCP): duplicates are
// dropped, early arrivals are held for a while (zab_replica.cc), and a message lost for good makes
// the follower open a new session, i.e. reconnect and re-synchronize. Follower-to-leader messages
// carry the session id and are idempotent or cumulative (an ACK of zxid z acknowledges every
// transaction up to z).
//
// Wire format (messages and records alike): byte 0 is the format version (kFormatVersion), byte 1
// the kind tag, then the fields in declaration order. Integers are fixed-width little-endian; a
// boolean is one byte, 0 or 1; a zxid is epoch u64 then counter u64; byte strings and lists are a
// u32 count then the items; a transaction is its zxid then its data.
//
// Decoding is total: any byte string either decodes to exactly one value or yields nullopt (wrong
// version, unknown tag, truncated field, trailing bytes, a count larger than what is left, invalid
// enum or boolean, epochs, counters or positions at or above kMaxWireValue, transactions of a DIFF
// not strictly increasing in zxid, runs out of order). It never asserts: a peer cannot crash a
// replica.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/types.h"
#include "protocols/zab/zab_history.h"
#include "protocols/zab/zab_types.h"

namespace lockstep::zab {

constexpr std::uint8_t kFormatVersion = 1;
// Epochs, counters and positions from outside are below 2^62, so arithmetic cannot overflow.
constexpr std::uint64_t kMaxWireValue = std::uint64_t{1} << 62;
// A follower describes at most this many of its newest runs (zab_history.h) to a leader.
constexpr std::size_t kSummaryRunsMax = 64;

// ---- Fast Leader Election ------------------------------------------------------------------------

// A vote, as FLE orders them: by peer_epoch (the proposed leader's currentEpoch), then zxid (its
// last zxid), then its server id (ZooKeeper's totalOrderPredicate).
struct Vote {
  NodeId leader;
  Zxid zxid;
  Epoch peer_epoch;
  bool operator==(const Vote&) const = default;
};

bool better(const Vote& a, const Vote& b);  // a beats b

// FLE's notification: the sender's vote in its election round (logical clock), and its state.
// A FOLLOWING or LEADING sender reports the vote it settled on and the round it settled in.
struct Notification {
  ServerState state = ServerState::looking;
  Vote vote;
  std::uint64_t round = 0;
  bool operator==(const Notification&) const = default;
};

// ---- Discovery (Phase 1) -------------------------------------------------------------------------

// Follower -> prospective leader: CEPOCH(acceptedEpoch) in the paper, FOLLOWERINFO in ZooKeeper.
struct FollowerInfo {
  std::uint64_t session = 0;
  Epoch accepted_epoch;
  Zxid last_zxid;
  bool operator==(const FollowerInfo&) const = default;
};

// Leader -> follower: NEWEPOCH(e') (LEADERINFO). Always sequence number 1 of its session.
struct NewEpoch {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Epoch epoch;
  bool operator==(const NewEpoch&) const = default;
};

// What a follower's history looks like, for the leader's choice of DIFF, TRUNC or SNAP.
struct HistorySummary {
  Position last_position;
  Zxid last_zxid;
  Position snapshot_position;
  Zxid snapshot_zxid;
  bool runs_truncated = false;  // older runs than those listed exist above the snapshot
  std::vector<EpochRun> runs;        // the newest runs, ascending
  bool operator==(const HistorySummary&) const = default;
};

// Follower -> leader: ACKEPOCH(currentEpoch, history summary).
struct AckEpoch {
  std::uint64_t session = 0;
  Epoch current_epoch;
  HistorySummary history;
  bool operator==(const AckEpoch&) const = default;
};

// ---- Synchronization (Phase 2) -------------------------------------------------------------------

// Transactions to append after the follower's transaction `prev_zxid` ((0,0): the empty history).
struct Diff {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Zxid prev_zxid;
  std::vector<Txn> txns;  // digests are not on the wire; they compare as 0 after decoding
  bool operator==(const Diff& o) const;
};

// Cut the history back to the transaction `zxid`, which the follower holds.
struct Trunc {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Zxid zxid;
  bool operator==(const Trunc&) const = default;
};

// Replace the whole history with the leader's snapshot of its committed prefix through `position`.
struct Snap {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Position position;
  Zxid zxid;
  std::uint64_t digest = 0;  // chain digest at `position`, so the follower can keep chaining
  Bytes data;
  bool operator==(const Snap&) const = default;
};

// NEWLEADER(e'): the follower's history now equals the leader's through `zxid`.
struct NewLeader {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Epoch epoch;
  Zxid zxid;
  bool operator==(const NewLeader&) const = default;
};

// UPTODATE (COMMIT-LD in the paper): the leader is established; deliver through `commit_zxid`.
struct UpToDate {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Zxid commit_zxid;
  bool operator==(const UpToDate&) const = default;
};

// ---- Broadcast (Phase 3) -------------------------------------------------------------------------

struct Proposal {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Zxid zxid;
  Bytes data;
  bool operator==(const Proposal&) const = default;
};

// Follower -> leader: every transaction through `zxid` is on its disk. Also the acknowledgement of
// NEWLEADER (with NEWLEADER's zxid), as in ZooKeeper.
struct Ack {
  std::uint64_t session = 0;
  Zxid zxid;
  bool operator==(const Ack&) const = default;
};

struct Commit {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  Zxid zxid;
  bool operator==(const Commit&) const = default;
};

// Heartbeat. `round` numbers the leader's ping rounds; echoing it confirms leadership for reads.
struct Ping {
  std::uint64_t session = 0;
  std::uint64_t seq = 0;
  std::uint64_t round = 0;
  bool operator==(const Ping&) const = default;
};

// The answer to a Ping. Once the follower has acknowledged NEWLEADER (`synced`), `acked_zxid`
// repeats its latest ACK, so a lost ACK is made good within a heartbeat.
struct PingAck {
  std::uint64_t session = 0;
  std::uint64_t round = 0;
  bool synced = false;
  Zxid acked_zxid;
  bool operator==(const PingAck&) const = default;
};

using ZabMessage = std::variant<Notification, FollowerInfo, NewEpoch, AckEpoch, Diff, Trunc, Snap,
                                NewLeader, UpToDate, Proposal, Ack, Commit, Ping, PingAck>;

// Leader-to-follower session messages carry (session, seq); the others do not.
std::optional<std::pair<std::uint64_t, std::uint64_t>> session_seq(const ZabMessage& m);

// ---- Records (what survives a crash; replayed in order by recover()) -----------------------------

// acceptedEpoch (and the leader whose NEWEPOCH set it) and currentEpoch (§III-B, "persistent
// variables").
struct EpochRecord {
  Epoch accepted_epoch;
  std::optional<NodeId> accepted_from;
  Epoch current_epoch;
  bool operator==(const EpochRecord&) const = default;
};

// Transactions at first_position, first_position+1, ...; replaces whatever the history held from
// first_position on (so a TRUNC is this record with no transactions).
struct TxnsRecord {
  Position first_position;
  std::vector<Txn> txns;
  bool operator==(const TxnsRecord& o) const;
};

// A snapshot of the committed prefix through `position`. Positions at or below it are dropped;
// those above it are kept only if the history held `zxid` at `position`.
struct SnapshotRecord {
  Position position;
  Zxid zxid;
  std::uint64_t digest = 0;
  Bytes data;
  bool operator==(const SnapshotRecord&) const = default;
};

using ZabRecord = std::variant<EpochRecord, TxnsRecord, SnapshotRecord>;

// ---- Codec ---------------------------------------------------------------------------------------

// encode() returns fresh bytes; encode_to() appends to `out` (a reused buffer: no allocation).
Bytes encode(const ZabMessage& message);
void encode_to(Bytes& out, const ZabMessage& message);
std::optional<ZabMessage> decode_message(ByteView bytes);

Bytes encode(const ZabRecord& record);
void encode_to(Bytes& out, const ZabRecord& record);
std::optional<ZabRecord> decode_record(ByteView bytes);

// Encoders that read transactions straight out of the history instead of from a copy.
void encode_diff_to(Bytes& out, std::uint64_t session, std::uint64_t seq, Zxid prev_zxid,
                    History::const_iterator first, History::const_iterator last);
void encode_txns_record_to(Bytes& out, Position first_position, History::const_iterator first,
                           History::const_iterator last);
void encode_proposal_to(Bytes& out, std::uint64_t session, std::uint64_t seq, const Txn& txn);

// Bytes a transaction takes in a DIFF, for chunking.
inline std::size_t wire_size(const Txn& t) { return 16 + 4 + t.data.size(); }

}  // namespace lockstep::zab
