// Binary codec for Raft messages and records (format in raft_messages.h).
#include <type_traits>

#include "protocols/codec_support.h"
#include "protocols/raft/raft_messages.h"

namespace lockstep::raft {

namespace codec {

void Writer::header(Tag tag) {
  u8(kFormatVersion);
  u8(static_cast<std::uint8_t>(tag));
}

namespace {

// The shared protocol Reader (protocols/codec_support.h) plus the Raft vocabulary: terms and
// indexes, sorted member lists, and log entries.
class Reader : public protocol_codec::Reader<kMaxWireValue> {
 public:
  using protocol_codec::Reader<kMaxWireValue>::Reader;

  Term term() { return Term{bounded()}; }
  LogIndex index() { return LogIndex{bounded()}; }
  std::vector<NodeId> members() {
    const std::uint32_t n = count(4);
    std::vector<NodeId> out;
    out.reserve(n);
    for (std::uint32_t i = 0; i < n && ok(); ++i) {
      const NodeId id{u32()};
      if (!out.empty() && !(out.back() < id)) fail();  // strictly ascending: no duplicates
      out.push_back(id);
    }
    return out;
  }
  void entry_into(Entry& e) {
    e.term = term();
    const std::uint8_t kind = u8();
    if (kind < static_cast<std::uint8_t>(EntryKind::command) ||
        kind > static_cast<std::uint8_t>(EntryKind::config)) {
      fail();
    }
    e.kind = static_cast<EntryKind>(kind);
    const ByteView data = bytes();
    e.data.assign(data.begin(), data.end());
    e.digest = 0;
    if (ok() && e.kind == EntryKind::config && !decode_members(e.data)) fail();
  }
  // Reuses the entries already in `out`, and their data buffers.
  void entries_into(std::vector<Entry>& out) {
    const std::uint32_t n = count(13);
    out.resize(n);
    for (std::uint32_t i = 0; i < n && ok(); ++i) entry_into(out[i]);
  }
};

using protocol_codec::finish;
using protocol_codec::write_optional_node;

void write_members(Writer& w, const std::vector<NodeId>& members) {
  w.u32(static_cast<std::uint32_t>(members.size()));
  for (NodeId id : members) w.u32(id.value);
}

}  // namespace
}  // namespace codec

using codec::Tag;

namespace {

bool same_entries(const std::vector<Entry>& a, const std::vector<Entry>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].term != b[i].term || a[i].kind != b[i].kind || a[i].data != b[i].data) return false;
  }
  return true;
}

}  // namespace

bool AppendRequest::operator==(const AppendRequest& o) const {
  return term == o.term && prev_log_index == o.prev_log_index &&
         prev_log_term == o.prev_log_term && leader_commit == o.leader_commit &&
         round == o.round && same_entries(entries, o.entries);
}

bool EntriesRecord::operator==(const EntriesRecord& o) const {
  return first_index == o.first_index && same_entries(entries, o.entries);
}

Bytes encode(const RaftMessage& message) {
  Bytes out;
  encode_to(out, message);
  return out;
}

void encode_to(Bytes& out, const RaftMessage& message) {
  std::visit(
      [&out](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, AppendRequest>) {
          encode_append_to(out, m.term, m.prev_log_index, m.prev_log_term, m.leader_commit,
                           m.round, m.entries.begin(), m.entries.end());
        } else {
          codec::Writer w(out);
          if constexpr (std::is_same_v<M, VoteRequest>) {
            w.header(Tag::vote_request);
            w.u64(m.term.value);
            w.u64(m.last_log_index.value);
            w.u64(m.last_log_term.value);
            w.boolean(m.prevote);
            w.boolean(m.transfer);
          } else if constexpr (std::is_same_v<M, VoteResponse>) {
            w.header(Tag::vote_response);
            w.u64(m.term.value);
            w.boolean(m.granted);
            w.boolean(m.prevote);
          } else if constexpr (std::is_same_v<M, AppendResponse>) {
            w.fields(kFormatVersion, static_cast<std::uint8_t>(Tag::append_response),
                     m.term.value, static_cast<std::uint8_t>(m.success ? 1 : 0),
                     m.match_index.value, m.reject_index.value, m.hint_index.value,
                     m.hint_term.value, m.round);
          } else if constexpr (std::is_same_v<M, Heartbeat>) {
            w.fields(kFormatVersion, static_cast<std::uint8_t>(Tag::heartbeat), m.term.value,
                     m.commit.value, m.round);
          } else if constexpr (std::is_same_v<M, HeartbeatResponse>) {
            w.fields(kFormatVersion, static_cast<std::uint8_t>(Tag::heartbeat_response),
                     m.term.value, m.round);
          } else if constexpr (std::is_same_v<M, SnapshotRequest>) {
            w.header(Tag::snapshot_request);
            w.u64(m.term.value);
            w.u64(m.last_index.value);
            w.u64(m.last_term.value);
            w.u64(m.digest);
            codec::write_members(w, m.members);
            w.bytes(m.data);
            w.u64(m.round);
          } else if constexpr (std::is_same_v<M, SnapshotResponse>) {
            w.header(Tag::snapshot_response);
            w.u64(m.term.value);
            w.u64(m.match_index.value);
            w.u64(m.round);
          } else {
            static_assert(std::is_same_v<M, TimeoutNow>);
            w.header(Tag::timeout_now);
            w.u64(m.term.value);
          }
        }
      },
      message);
}

std::optional<RaftMessage> decode_message(ByteView bytes) {
  RaftMessage message;
  if (!decode_message_into(bytes, message)) return std::nullopt;
  return message;
}

bool decode_message_into(ByteView bytes, RaftMessage& out) {
  codec::Reader r(bytes);
  const auto tag = protocol_codec::read_header<Tag>(r, kFormatVersion);
  if (!tag) return false;
  switch (*tag) {
    case Tag::vote_request: {
      VoteRequest m;
      m.term = r.term();
      m.last_log_index = r.index();
      m.last_log_term = r.term();
      m.prevote = r.boolean();
      m.transfer = r.boolean();
      out = m;
      break;
    }
    case Tag::vote_response: {
      VoteResponse m;
      m.term = r.term();
      m.granted = r.boolean();
      m.prevote = r.boolean();
      out = m;
      break;
    }
    case Tag::append_request: {
      // In place: a replica decodes into the same message over and over, and its entries'
      // buffers are reused.
      auto* m = std::get_if<AppendRequest>(&out);
      if (m == nullptr) m = &out.emplace<AppendRequest>();
      m->term = r.term();
      m->prev_log_index = r.index();
      m->prev_log_term = r.term();
      m->leader_commit = r.index();
      m->round = r.u64();
      r.entries_into(m->entries);
      break;
    }
    case Tag::append_response: {
      AppendResponse m;
      m.term = r.term();
      m.success = r.boolean();
      m.match_index = r.index();
      m.reject_index = r.index();
      m.hint_index = r.index();
      m.hint_term = r.term();
      m.round = r.u64();
      out = m;
      break;
    }
    case Tag::heartbeat: {
      Heartbeat m;
      m.term = r.term();
      m.commit = r.index();
      m.round = r.u64();
      out = m;
      break;
    }
    case Tag::heartbeat_response: {
      HeartbeatResponse m;
      m.term = r.term();
      m.round = r.u64();
      out = m;
      break;
    }
    case Tag::snapshot_request: {
      SnapshotRequest m;
      m.term = r.term();
      m.last_index = r.index();
      m.last_term = r.term();
      m.digest = r.u64();
      m.members = r.members();
      m.data = r.owned_bytes();
      m.round = r.u64();
      out = std::move(m);
      break;
    }
    case Tag::snapshot_response: {
      SnapshotResponse m;
      m.term = r.term();
      m.match_index = r.index();
      m.round = r.u64();
      out = m;
      break;
    }
    case Tag::timeout_now: {
      TimeoutNow m;
      m.term = r.term();
      out = m;
      break;
    }
    default:
      return false;
  }
  return r.done();
}

Bytes encode(const RaftRecord& record) {
  Bytes out;
  encode_to(out, record);
  return out;
}

void encode_to(Bytes& out, const RaftRecord& record) {
  std::visit(
      [&out](const auto& rec) {
        using R = std::decay_t<decltype(rec)>;
        if constexpr (std::is_same_v<R, EntriesRecord>) {
          encode_entries_record_to(out, rec.first_index, rec.entries.begin(), rec.entries.end());
        } else {
          codec::Writer w(out);
          if constexpr (std::is_same_v<R, HardStateRecord>) {
            w.header(Tag::hard_state);
            w.u64(rec.term.value);
            codec::write_optional_node(w, rec.voted_for);
          } else {
            static_assert(std::is_same_v<R, SnapshotRecord>);
            w.header(Tag::snapshot);
            w.u64(rec.last_index.value);
            w.u64(rec.last_term.value);
            w.u64(rec.digest);
            codec::write_members(w, rec.members);
            w.bytes(rec.data);
          }
        }
      },
      record);
}

std::optional<RaftRecord> decode_record(ByteView bytes) {
  RaftRecord record;
  if (!decode_record_into(bytes, record)) return std::nullopt;
  return record;
}

bool decode_record_into(ByteView bytes, RaftRecord& out) {
  codec::Reader r(bytes);
  const auto tag = protocol_codec::read_header<Tag>(r, kFormatVersion);
  if (!tag) return false;
  switch (*tag) {
    case Tag::hard_state: {
      HardStateRecord rec;
      rec.term = r.term();
      rec.voted_for = r.optional_node();
      out = rec;
      break;
    }
    case Tag::entries: {
      // In place, like an AppendRequest: the entries' buffers are reused from record to record.
      auto* rec = std::get_if<EntriesRecord>(&out);
      if (rec == nullptr) rec = &out.emplace<EntriesRecord>();
      rec->first_index = r.index();
      r.entries_into(rec->entries);
      if (r.ok() && rec->first_index.value == 0) return false;  // index 0 is never an entry
      break;
    }
    case Tag::snapshot: {
      SnapshotRecord rec;
      rec.last_index = r.index();
      rec.last_term = r.term();
      rec.digest = r.u64();
      rec.members = r.members();
      rec.data = r.owned_bytes();
      out = std::move(rec);
      break;
    }
    default:
      return false;
  }
  return r.done();
}

Bytes encode_members(const std::vector<NodeId>& members) {
  codec::Writer w(4 + 4 * members.size());
  codec::write_members(w, members);
  return w.take();
}

std::optional<std::vector<NodeId>> decode_members(ByteView bytes) {
  codec::Reader r(bytes);
  std::vector<NodeId> members = r.members();
  if (!r.done()) return std::nullopt;
  return members;
}

}  // namespace lockstep::raft
