// Framing shared by the consensus protocols' codecs (raft_codec.cc, paxos_codec.cc, zab_codec.cc,
// zab_records.cc), over core/codec.h's Writer and Reader: every message and record opens with a
// format version and a kind tag; numbers that grow (terms, indexes, rounds) stay below a bound so
// that arithmetic on them cannot overflow; counts are checked against the bytes left. Each
// protocol keeps its own tags, version and vocabulary; only the byte-level helpers live here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "core/bytes.h"
#include "core/codec.h"
#include "core/types.h"

namespace lockstep::protocol_codec {

// The bounds-checked Reader plus the checks every protocol needs. Values at or above
// `MaxWireValue` are rejected.
template <std::uint64_t MaxWireValue>
class Reader : public lockstep::Reader {
 public:
  using lockstep::Reader::Reader;

  std::uint64_t bounded() {
    const std::uint64_t v = u64();
    if (v >= MaxWireValue) fail();
    return v;
  }
  Bytes owned_bytes() {
    const ByteView b = bytes();
    return Bytes(b.begin(), b.end());
  }
  // A count of items each at least `min_item_bytes` long: rejected up front when the rest of the
  // input could not hold that many, so a forged count cannot make us reserve gigabytes.
  std::uint32_t count(std::size_t min_item_bytes) {
    const std::uint32_t n = u32();
    if (ok() && static_cast<std::uint64_t>(n) * min_item_bytes > remaining()) fail();
    return ok() ? n : 0;
  }
  NodeId node() { return NodeId{u32()}; }
  std::optional<NodeId> optional_node() {
    if (!boolean()) return std::nullopt;
    return node();
  }
};

// Reads the version and kind header; nullopt when the version is not `version` or the input
// ends first. The tag is not checked here: the caller's switch rejects unknown kinds.
template <typename Tag>
std::optional<Tag> read_header(lockstep::Reader& r, std::uint8_t version) {
  if (r.u8() != version) return std::nullopt;
  const auto tag = static_cast<Tag>(r.u8());
  if (!r.ok()) return std::nullopt;
  return tag;
}

// The decoded `value` as a T, provided the reader consumed its input exactly and without error.
template <typename T, typename V>
std::optional<T> finish(const lockstep::Reader& r, V value) {
  if (!r.done()) return std::nullopt;
  return T{std::move(value)};
}

inline void write_optional_node(lockstep::Writer& w, const std::optional<NodeId>& n) {
  w.boolean(n.has_value());
  if (n) w.u32(n->value);
}

}  // namespace lockstep::protocol_codec
