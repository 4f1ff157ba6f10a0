// What Multi-Paxos replicas say to each other and what a replica writes to its record log, and
// the binary codec for both.
//
// Wire format (messages and records alike): byte 0 is the format version (kFormatVersion, distinct
// from Raft's so that one module never reads the other's record log), byte 1 the kind tag, then
// the fields in declaration order. Integers are fixed-width little-endian; booleans one byte, 0 or
// 1; an optional NodeId a presence byte then a u32; a ballot is round u64 then node u32; a value is
// kind u8 then data (u32 length + bytes); lists are a u32 count then the items.
//
// Decoding is total: any byte string either decodes to exactly one value or yields nullopt (wrong
// version, unknown tag, truncated field, trailing bytes, a length larger than what is left, an
// invalid kind or boolean, a no-op carrying data, slot 0, promise entries out of order or below
// the prepare's first slot, a snapshot index above the commit, a round, slot or count at or above
// kMaxWireValue). It never asserts: bytes from a peer or a disk cannot crash a replica.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/types.h"
#include "protocols/paxos/paxos_types.h"

namespace lockstep::paxos {

constexpr std::uint8_t kFormatVersion = 0x50;  // 'P'
// Rounds and slots from outside are below 2^62, so arithmetic on them cannot overflow.
constexpr std::uint64_t kMaxWireValue = std::uint64_t{1} << 62;

struct Value {
  ValueKind kind = ValueKind::command;
  Bytes data;
  bool operator==(const Value&) const = default;
};

// ---- Messages (PMS §2.2 phases 1 and 2, §3; PML §5.2) --------------------------------------------

// Phase 1a for every slot from `first` on (PMS §3: one prepare covers all instances the proposer
// does not know to be chosen). `transfer`: asked for by the leader, so acceptors waive the lease.
struct Prepare {
  Ballot ballot;
  Slot first;
  bool transfer = false;
  bool operator==(const Prepare&) const = default;
};

// One accepted value reported in a promise.
struct PromisedEntry {
  Slot slot;
  Ballot ballot;
  Value value;
  bool operator==(const PromisedEntry&) const = default;
};

// Phase 1b: the promise not to accept below `ballot`, with every value the acceptor has accepted
// in slots >= max(first, snapshot + 1), in slot order (PMS §2.2 P2c). Entries at or below `commit`
// are known chosen. When `snapshot` >= first the acceptor no longer holds those slots: it sends
// its snapshot alongside, and the proposer must install it before it may finish phase 1.
struct Promise {
  Ballot ballot;
  Slot first;
  Slot commit;
  Slot snapshot;
  std::vector<PromisedEntry> entries;
  bool operator==(const Promise&) const = default;
};

// A refusal: `ballot` (the sender's prepare, accept or heartbeat) is below `promised`, or, with
// `lease_refused`, a prepare arrived while the acceptor believes `leader`'s master lease holds.
struct Nack {
  Ballot ballot;
  Ballot promised;
  std::optional<NodeId> leader;
  bool lease_refused = false;
  bool operator==(const Nack&) const = default;
};

// Phase 2a for slots first, first+1, ... (batched), carrying what the leader knows chosen
// (`commit`) and its heartbeat round (echoed back, for read barriers and the lease).
struct Accept {
  Ballot ballot;
  Slot first;
  Slot commit;
  std::uint64_t round = 0;
  std::vector<Value> values;
  bool operator==(const Accept&) const = default;
};

// Phase 2b, and the answer to heartbeats and snapshots (first = 0). `match`: every slot up to it
// is known chosen at the acceptor or holds the value it accepted in `ballot`. When match is below
// first - 1 an earlier batch was lost, and the leader resends from match + 1. `accepted` is false
// when the acceptor took nothing: the accept began implausibly far past the end of its log.
struct Accepted {
  Ballot ballot;
  Slot first;
  bool accepted = true;
  Slot match;
  Slot commit;
  std::uint64_t round = 0;
  bool operator==(const Accepted&) const = default;
};

// The leader's heartbeat: its commit limited to what the follower is known to hold.
struct Heartbeat {
  Ballot ballot;
  Slot commit;
  std::uint64_t round = 0;
  bool operator==(const Heartbeat&) const = default;
};

// The state machine through `index`, every slot of which is chosen. From the leader to a follower
// whose next slot it compacted; or from an acceptor to a proposer whose prepare asked for slots
// the acceptor compacted (`from_leader` false: no leadership implied).
struct SnapshotMessage {
  Ballot ballot;
  Slot index;
  Bytes data;
  std::uint64_t round = 0;
  bool from_leader = true;
  bool operator==(const SnapshotMessage&) const = default;
};

// Leadership transfer: the target runs phase 1 at once.
struct TimeoutNow {
  Ballot ballot;
  bool operator==(const TimeoutNow&) const = default;
};

using PaxosMessage = std::variant<Prepare, Promise, Nack, Accept, Accepted, Heartbeat,
                                  SnapshotMessage, TimeoutNow>;

// ---- Records (what survives a crash; replayed in order by recover()) ---------------------------

// The acceptor's promise (PMS §2.5: recorded in stable storage before the response is sent).
struct PromiseRecord {
  Ballot promised;
  bool operator==(const PromiseRecord&) const = default;
};

// The highest round this node has issued as a proposer (PMS §2.5: "each proposer remembers, in
// stable storage, the highest-numbered proposal it has tried to issue"), so that it never reuses a
// ballot after a restart. Separate from the promise: a candidate's own acceptor promises its
// ballot only once phase 1 has succeeded, so a failed candidacy leaves the acceptor untouched.
struct ProposerRecord {
  std::uint64_t round = 0;
  bool operator==(const ProposerRecord&) const = default;
};

// Values accepted in `ballot` at slots first, first+1, ...; each replaces what the slot held.
struct AcceptRecord {
  Ballot ballot;
  Slot first;
  std::vector<Value> values;
  bool operator==(const AcceptRecord&) const = default;
};

// Every slot through `through` is chosen (written along with other records, never on its own).
struct ChosenRecord {
  Slot through;
  bool operator==(const ChosenRecord&) const = default;
};

// A snapshot of the state machine through `index`: slots up to it are dropped.
struct SnapshotRecord {
  Slot index;
  Bytes data;
  bool operator==(const SnapshotRecord&) const = default;
};

using PaxosRecord =
    std::variant<PromiseRecord, ProposerRecord, AcceptRecord, ChosenRecord, SnapshotRecord>;

// ---- Codec ----------------------------------------------------------------------------------------

// encode() returns fresh bytes; encode_to() appends to `out` (a reused buffer: no allocation).
Bytes encode(const PaxosMessage& message);
void encode_to(Bytes& out, const PaxosMessage& message);
std::optional<PaxosMessage> decode_message(ByteView bytes);

Bytes encode(const PaxosRecord& record);
void encode_to(Bytes& out, const PaxosRecord& record);
std::optional<PaxosRecord> decode_record(ByteView bytes);

// Encoders that read values straight out of the log (Entry ranges) instead of from a copy.
template <typename EntryIt>
void encode_accept_to(Bytes& out, Ballot ballot, Slot first, Slot commit, std::uint64_t round,
                      EntryIt begin, EntryIt end);
template <typename EntryIt>
void encode_accept_record_to(Bytes& out, Ballot ballot, Slot first, EntryIt begin, EntryIt end);

// Bytes a value takes in an Accept, for flow control.
inline std::size_t wire_size(const Entry& e) { return 1 + 4 + e.data.size(); }

}  // namespace lockstep::paxos

#include "protocols/paxos/paxos_codec_impl.h"
