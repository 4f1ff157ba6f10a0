// Binary codec for Zab records: what a replica writes to its record log (format in
// zab_messages.h).
#include <type_traits>

#include "protocols/zab/zab_codec_impl.h"

namespace lockstep::zab {

using codec::Reader;
using codec::Tag;
using codec::Writer;
using codec::finish;
using codec::same_txns;

bool TxnsRecord::operator==(const TxnsRecord& o) const {
  return first_position == o.first_position && same_txns(txns, o.txns);
}

void encode_txns_record_to(Bytes& out, Position first_position, History::const_iterator first,
                           History::const_iterator last) {
  Writer w(out);
  w.header(Tag::txns_record);
  w.u64(first_position.value);
  w.txns(first, last);
}

Bytes encode(const ZabRecord& record) {
  Bytes out;
  encode_to(out, record);
  return out;
}

void encode_to(Bytes& out, const ZabRecord& record) {
  std::visit(
      [&out](const auto& rec) {
        using R = std::decay_t<decltype(rec)>;
        if constexpr (std::is_same_v<R, TxnsRecord>) {
          encode_txns_record_to(out, rec.first_position, rec.txns.begin(), rec.txns.end());
        } else {
          Writer w(out);
          if constexpr (std::is_same_v<R, EpochRecord>) {
            w.header(Tag::epoch_record);
            w.u64(rec.accepted_epoch.value);
            protocol_codec::write_optional_node(w, rec.accepted_from);
            w.u64(rec.current_epoch.value);
          } else {
            static_assert(std::is_same_v<R, SnapshotRecord>);
            w.header(Tag::snapshot_record);
            w.u64(rec.position.value);
            w.zxid(rec.zxid);
            w.u64(rec.digest);
            w.bytes(rec.data);
          }
        }
      },
      record);
}

std::optional<ZabRecord> decode_record(ByteView bytes) {
  Reader r(bytes);
  const auto tag = protocol_codec::read_header<Tag>(r, kFormatVersion);
  if (!tag) return std::nullopt;
  switch (*tag) {
    case Tag::epoch_record: {
      EpochRecord rec;
      rec.accepted_epoch = r.epoch();
      rec.accepted_from = r.optional_node();
      rec.current_epoch = r.epoch();
      if (r.ok() && rec.current_epoch > rec.accepted_epoch) return std::nullopt;
      return finish<ZabRecord>(r, rec);
    }
    case Tag::txns_record: {
      TxnsRecord rec;
      rec.first_position = r.position();
      rec.txns = r.txns(Zxid{});
      if (r.ok() && rec.first_position.value == 0) return std::nullopt;  // 0 is never a txn
      return finish<ZabRecord>(r, std::move(rec));
    }
    case Tag::snapshot_record: {
      SnapshotRecord rec;
      rec.position = r.position();
      rec.zxid = r.zxid();
      rec.digest = r.u64();
      rec.data = r.owned_bytes();
      return finish<ZabRecord>(r, std::move(rec));
    }
    default:
      return std::nullopt;
  }
}

}  // namespace lockstep::zab
