// What Raft replicas say to each other and what a replica writes to its record log, and the
// binary codec for both.
//
// Wire format (messages and records alike): byte 0 is the format version (kFormatVersion), byte 1
// the kind tag, then the fields in declaration order. Integers are fixed-width little-endian;
// booleans are one byte, 0 or 1; an optional NodeId is a presence byte then a u32; byte strings
// and lists are a u32 count then the items. An entry is term u64, kind u8, data (u32 length +
// bytes); a member list is u32 count then u32 node ids, strictly ascending.
//
// Decoding is total: any byte string either decodes to exactly one value or yields nullopt
// (wrong version, unknown tag, truncated field, trailing bytes, length larger than what is left,
// invalid enum or boolean, unsorted member list, config entry whose data is not a member list,
// term or index at or above kMaxWireValue). It never asserts, so a peer cannot crash a replica.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/types.h"
#include "protocols/raft/raft_types.h"

namespace lockstep::raft {

constexpr std::uint8_t kFormatVersion = 1;
// Terms and indexes from outside are below 2^62, so arithmetic on them cannot overflow.
constexpr std::uint64_t kMaxWireValue = std::uint64_t{1} << 62;

// ---- Messages (§5, Figure 2; thesis §3.10, §4.2.3, §5.3, §6.4, §9.6) ----------------------------

// RequestVote (§5.2) or, with `prevote`, the PreVote probe (thesis §9.6), which carries the term
// the sender would campaign in without having moved to it.
struct VoteRequest {
  Term term;
  LogIndex last_log_index;
  Term last_log_term;
  bool prevote = false;
  bool transfer = false;  // sent because of TimeoutNow: voters skip the leader-stickiness check
  bool operator==(const VoteRequest&) const = default;
};

struct VoteResponse {
  Term term;  // the voter's term; for a granted PreVote, the term the request carried
  bool granted = false;
  bool prevote = false;
  bool operator==(const VoteResponse&) const = default;
};

// AppendEntries (§5.3). `round` numbers the leader's heartbeat rounds; echoing it back confirms
// leadership for ReadIndex and leases (thesis §6.4).
struct AppendRequest {
  Term term;
  LogIndex prev_log_index;
  Term prev_log_term;
  LogIndex leader_commit;
  std::uint64_t round = 0;
  std::vector<Entry> entries;  // digests are not on the wire; they compare as 0 after decoding
  bool operator==(const AppendRequest& o) const;
};

// On success, `match_index` is the last index known to match the leader. On failure,
// `reject_index` is the prev_log_index refused, and (hint_index, hint_term) is the follower's
// last entry at or below it whose term is <= prev_log_term: the leader skips every index in
// between, one round trip per conflicting term (thesis §5.3, etcd's reject hint).
struct AppendResponse {
  Term term;
  bool success = false;
  LogIndex match_index;
  LogIndex reject_index;
  LogIndex hint_index;
  Term hint_term;
  std::uint64_t round = 0;
  bool operator==(const AppendResponse&) const = default;
};

// Carries the commit index without a consistency check, so the leader sends
// min(follower's match, commit) (etcd's MsgHeartbeat).
struct Heartbeat {
  Term term;
  LogIndex commit;
  std::uint64_t round = 0;
  bool operator==(const Heartbeat&) const = default;
};

struct HeartbeatResponse {
  Term term;
  std::uint64_t round = 0;
  bool operator==(const HeartbeatResponse&) const = default;
};

// InstallSnapshot (§7), sent whole: the simulated state machines are small.
struct SnapshotRequest {
  Term term;
  LogIndex last_index;
  Term last_term;
  std::uint64_t digest = 0;  // chain digest at last_index, so the receiver can keep chaining
  std::vector<NodeId> members;
  Bytes data;
  std::uint64_t round = 0;
  bool operator==(const SnapshotRequest&) const = default;
};

struct SnapshotResponse {
  Term term;
  LogIndex match_index;  // the follower's log now matches the leader's through here
  std::uint64_t round = 0;
  bool operator==(const SnapshotResponse&) const = default;
};

// Leadership transfer (thesis §3.10): the target starts an election at once.
struct TimeoutNow {
  Term term;
  bool operator==(const TimeoutNow&) const = default;
};

using RaftMessage = std::variant<VoteRequest, VoteResponse, AppendRequest, AppendResponse,
                                 Heartbeat, HeartbeatResponse, SnapshotRequest, SnapshotResponse,
                                 TimeoutNow>;

// ---- Records (what survives a crash; replayed in order by recover()) ---------------------------

// currentTerm and votedFor (Figure 2 "persistent state").
struct HardStateRecord {
  Term term;
  std::optional<NodeId> voted_for;
  bool operator==(const HardStateRecord&) const = default;
};

// Entries first_index, first_index+1, ...; replaces whatever the log held from first_index on
// (so a follower's truncation of a conflicting suffix is this same record).
struct EntriesRecord {
  LogIndex first_index;
  std::vector<Entry> entries;
  bool operator==(const EntriesRecord& o) const;
};

// A snapshot of the state machine through last_index (§7). Entries at or below last_index are
// dropped; entries above it are kept only if the log held last_index with last_term.
struct SnapshotRecord {
  LogIndex last_index;
  Term last_term;
  std::uint64_t digest = 0;
  std::vector<NodeId> members;
  Bytes data;
  bool operator==(const SnapshotRecord&) const = default;
};

using RaftRecord = std::variant<HardStateRecord, EntriesRecord, SnapshotRecord>;

// ---- Codec ----------------------------------------------------------------------------------------

// encode() returns fresh bytes; encode_to() appends to `out` (a reused buffer: no allocation).
Bytes encode(const RaftMessage& message);
void encode_to(Bytes& out, const RaftMessage& message);
std::optional<RaftMessage> decode_message(ByteView bytes);
// The same into `out`, reusing what it holds (an AppendRequest's entry buffers); false when the
// bytes do not decode, and `out` then holds nothing meaningful.
bool decode_message_into(ByteView bytes, RaftMessage& out);

Bytes encode(const RaftRecord& record);
void encode_to(Bytes& out, const RaftRecord& record);
std::optional<RaftRecord> decode_record(ByteView bytes);
// The same into `out`, reusing an EntriesRecord's entry buffers (recovery reads every record of
// the log into one); false when the bytes do not decode, and `out` then holds nothing meaningful.
bool decode_record_into(ByteView bytes, RaftRecord& out);

// Encoders that read entries straight out of the log instead of from a copy: EntryIt yields Entry
// or EntryView.
template <typename EntryIt>
void encode_append_to(Bytes& out, Term term, LogIndex prev_log_index, Term prev_log_term,
                      LogIndex leader_commit, std::uint64_t round, EntryIt first, EntryIt last);
template <typename EntryIt>
void encode_entries_record_to(Bytes& out, LogIndex first_index, EntryIt first, EntryIt last);

// A member list as stored in a config entry's data.
Bytes encode_members(const std::vector<NodeId>& members);
std::optional<std::vector<NodeId>> decode_members(ByteView bytes);

// Bytes an entry takes in an AppendEntries message, for flow control.
inline std::size_t wire_size(const EntryView& e) { return 8 + 1 + 4 + e.data.size(); }

}  // namespace lockstep::raft

#include "protocols/raft/raft_codec_impl.h"
