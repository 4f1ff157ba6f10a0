// Binary codec for Zab messages (format in zab_messages.h; records in zab_records.cc).
#include <type_traits>

#include "protocols/zab/zab_codec_impl.h"

namespace lockstep::zab {

void codec::Writer::header(Tag tag) {
  u8(kFormatVersion);
  u8(static_cast<std::uint8_t>(tag));
}

using codec::Reader;
using codec::Tag;
using codec::Writer;
using codec::finish;
using codec::same_txns;

namespace {

void write_vote(Writer& w, const Vote& v) {
  w.u32(v.leader.value);
  w.zxid(v.zxid);
  w.u64(v.peer_epoch.value);
}

void write_summary(Writer& w, const HistorySummary& s) {
  w.u64(s.last_position.value);
  w.zxid(s.last_zxid);
  w.u64(s.snapshot_position.value);
  w.zxid(s.snapshot_zxid);
  w.boolean(s.runs_truncated);
  w.u32(static_cast<std::uint32_t>(s.runs.size()));
  for (const EpochRun& r : s.runs) {
    w.u64(r.epoch.value);
    w.u64(r.first_counter);
    w.u64(r.last_counter);
    w.u64(r.first.value);
  }
}

HistorySummary read_summary(Reader& r) {
  HistorySummary s;
  s.last_position = r.position();
  s.last_zxid = r.zxid();
  s.snapshot_position = r.position();
  s.snapshot_zxid = r.zxid();
  s.runs_truncated = r.boolean();
  s.runs = r.runs();
  return s;
}

// A summary that describes a possible history: runs above the snapshot, ending at the last
// position and zxid (or no runs, and then the snapshot is the end).
bool plausible(const HistorySummary& s) {
  if (s.last_position < s.snapshot_position || s.last_zxid < s.snapshot_zxid) return false;
  if (s.runs.empty()) {
    return !s.runs_truncated && s.last_position == s.snapshot_position &&
           s.last_zxid == s.snapshot_zxid;
  }
  const EpochRun& back = s.runs.back();
  return s.runs.front().first > s.snapshot_position && back.last() == s.last_position &&
         Zxid{back.epoch, back.last_counter} == s.last_zxid &&
         Zxid{s.runs.front().epoch, s.runs.front().first_counter} > s.snapshot_zxid;
}

}  // namespace

bool better(const Vote& a, const Vote& b) {
  if (a.peer_epoch != b.peer_epoch) return a.peer_epoch > b.peer_epoch;
  if (a.zxid != b.zxid) return a.zxid > b.zxid;
  return a.leader > b.leader;
}

bool Diff::operator==(const Diff& o) const {
  return session == o.session && seq == o.seq && prev_zxid == o.prev_zxid &&
         same_txns(txns, o.txns);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> session_seq(const ZabMessage& m) {
  return std::visit(
      [](const auto& x) -> std::optional<std::pair<std::uint64_t, std::uint64_t>> {
        if constexpr (requires { x.seq; }) {
          return std::make_pair(x.session, x.seq);
        } else {
          return std::nullopt;
        }
      },
      m);
}

void encode_diff_to(Bytes& out, std::uint64_t session, std::uint64_t seq, Zxid prev_zxid,
                    History::const_iterator first, History::const_iterator last) {
  Writer w(out);
  w.header(Tag::diff);
  w.u64(session);
  w.u64(seq);
  w.zxid(prev_zxid);
  w.txns(first, last);
}

void encode_proposal_to(Bytes& out, std::uint64_t session, std::uint64_t seq, const Txn& txn) {
  Writer w(out);
  w.header(Tag::proposal);
  w.u64(session);
  w.u64(seq);
  w.txn(txn);
}

Bytes encode(const ZabMessage& message) {
  Bytes out;
  encode_to(out, message);
  return out;
}

void encode_to(Bytes& out, const ZabMessage& message) {
  std::visit(
      [&out](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Diff>) {
          encode_diff_to(out, m.session, m.seq, m.prev_zxid, m.txns.begin(), m.txns.end());
        } else if constexpr (std::is_same_v<M, Proposal>) {
          encode_proposal_to(out, m.session, m.seq, Txn{m.zxid, m.data, 0});
        } else {
          Writer w(out);
          if constexpr (std::is_same_v<M, Notification>) {
            w.header(Tag::notification);
            w.u8(static_cast<std::uint8_t>(m.state));
            write_vote(w, m.vote);
            w.u64(m.round);
          } else if constexpr (std::is_same_v<M, FollowerInfo>) {
            w.header(Tag::follower_info);
            w.u64(m.session);
            w.u64(m.accepted_epoch.value);
            w.zxid(m.last_zxid);
          } else if constexpr (std::is_same_v<M, NewEpoch>) {
            w.header(Tag::new_epoch);
            w.u64(m.session);
            w.u64(m.seq);
            w.u64(m.epoch.value);
          } else if constexpr (std::is_same_v<M, AckEpoch>) {
            w.header(Tag::ack_epoch);
            w.u64(m.session);
            w.u64(m.current_epoch.value);
            write_summary(w, m.history);
          } else if constexpr (std::is_same_v<M, Trunc>) {
            w.header(Tag::trunc);
            w.u64(m.session);
            w.u64(m.seq);
            w.zxid(m.zxid);
          } else if constexpr (std::is_same_v<M, Snap>) {
            w.header(Tag::snap);
            w.u64(m.session);
            w.u64(m.seq);
            w.u64(m.position.value);
            w.zxid(m.zxid);
            w.u64(m.digest);
            w.bytes(m.data);
          } else if constexpr (std::is_same_v<M, NewLeader>) {
            w.header(Tag::new_leader);
            w.u64(m.session);
            w.u64(m.seq);
            w.u64(m.epoch.value);
            w.zxid(m.zxid);
          } else if constexpr (std::is_same_v<M, UpToDate>) {
            w.header(Tag::up_to_date);
            w.u64(m.session);
            w.u64(m.seq);
            w.zxid(m.commit_zxid);
          } else if constexpr (std::is_same_v<M, Ack>) {
            w.header(Tag::ack);
            w.u64(m.session);
            w.zxid(m.zxid);
          } else if constexpr (std::is_same_v<M, Commit>) {
            w.header(Tag::commit);
            w.u64(m.session);
            w.u64(m.seq);
            w.zxid(m.zxid);
          } else if constexpr (std::is_same_v<M, Ping>) {
            w.header(Tag::ping);
            w.u64(m.session);
            w.u64(m.seq);
            w.u64(m.round);
          } else {
            static_assert(std::is_same_v<M, PingAck>);
            w.header(Tag::ping_ack);
            w.u64(m.session);
            w.u64(m.round);
            w.boolean(m.synced);
            w.zxid(m.acked_zxid);
          }
        }
      },
      message);
}

std::optional<ZabMessage> decode_message(ByteView bytes) {
  Reader r(bytes);
  const auto tag = protocol_codec::read_header<Tag>(r, kFormatVersion);
  if (!tag) return std::nullopt;
  switch (*tag) {
    case Tag::notification: {
      Notification m;
      m.state = r.state();
      m.vote.leader = r.node();
      m.vote.zxid = r.zxid();
      m.vote.peer_epoch = r.epoch();
      m.round = r.bounded();
      return finish<ZabMessage>(r, m);
    }
    case Tag::follower_info: {
      FollowerInfo m;
      m.session = r.u64();
      m.accepted_epoch = r.epoch();
      m.last_zxid = r.zxid();
      return finish<ZabMessage>(r, m);
    }
    case Tag::new_epoch: {
      NewEpoch m;
      m.session = r.u64();
      m.seq = r.u64();
      m.epoch = r.epoch();
      if (m.epoch.value == 0) return std::nullopt;  // epoch 0 is never proposed
      return finish<ZabMessage>(r, m);
    }
    case Tag::ack_epoch: {
      AckEpoch m;
      m.session = r.u64();
      m.current_epoch = r.epoch();
      m.history = read_summary(r);
      if (r.ok() && !plausible(m.history)) return std::nullopt;
      return finish<ZabMessage>(r, std::move(m));
    }
    case Tag::diff: {
      Diff m;
      m.session = r.u64();
      m.seq = r.u64();
      m.prev_zxid = r.zxid();
      m.txns = r.txns(m.prev_zxid);
      return finish<ZabMessage>(r, std::move(m));
    }
    case Tag::trunc: {
      Trunc m;
      m.session = r.u64();
      m.seq = r.u64();
      m.zxid = r.zxid();
      return finish<ZabMessage>(r, m);
    }
    case Tag::snap: {
      Snap m;
      m.session = r.u64();
      m.seq = r.u64();
      m.position = r.position();
      m.zxid = r.zxid();
      m.digest = r.u64();
      m.data = r.owned_bytes();
      return finish<ZabMessage>(r, std::move(m));
    }
    case Tag::new_leader: {
      NewLeader m;
      m.session = r.u64();
      m.seq = r.u64();
      m.epoch = r.epoch();
      m.zxid = r.zxid();
      return finish<ZabMessage>(r, m);
    }
    case Tag::up_to_date: {
      UpToDate m;
      m.session = r.u64();
      m.seq = r.u64();
      m.commit_zxid = r.zxid();
      return finish<ZabMessage>(r, m);
    }
    case Tag::proposal: {
      Proposal m;
      m.session = r.u64();
      m.seq = r.u64();
      m.zxid = r.zxid();
      m.data = r.owned_bytes();
      if (r.ok() && (m.zxid.epoch.value == 0 || m.zxid.counter == 0)) return std::nullopt;
      return finish<ZabMessage>(r, std::move(m));
    }
    case Tag::ack: {
      Ack m;
      m.session = r.u64();
      m.zxid = r.zxid();
      return finish<ZabMessage>(r, m);
    }
    case Tag::commit: {
      Commit m;
      m.session = r.u64();
      m.seq = r.u64();
      m.zxid = r.zxid();
      return finish<ZabMessage>(r, m);
    }
    case Tag::ping: {
      Ping m;
      m.session = r.u64();
      m.seq = r.u64();
      m.round = r.u64();
      return finish<ZabMessage>(r, m);
    }
    case Tag::ping_ack: {
      PingAck m;
      m.session = r.u64();
      m.round = r.u64();
      m.synced = r.boolean();
      m.acked_zxid = r.zxid();
      return finish<ZabMessage>(r, m);
    }
    default:
      return std::nullopt;
  }
}

}  // namespace lockstep::zab
