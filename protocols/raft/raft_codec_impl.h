// Internals of the Raft codec shared by raft_codec.cc and the entry-range encoders in
// raft_messages.h. Not part of the module's interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>

#include "core/assert.h"
#include "core/bytes.h"
#include "core/codec.h"
#include "protocols/raft/raft_types.h"

namespace lockstep::raft::codec {

// Kind tags. Records use a disjoint range so that a record never decodes as a message.
enum class Tag : std::uint8_t {
  vote_request = 0x01,
  vote_response = 0x02,
  append_request = 0x03,
  append_response = 0x04,
  heartbeat = 0x05,
  heartbeat_response = 0x06,
  snapshot_request = 0x07,
  snapshot_response = 0x08,
  timeout_now = 0x09,
  hard_state = 0x41,
  entries = 0x42,
  snapshot = 0x43,
};

// The shared little-endian Writer (core/codec.h) plus the Raft framing: a version and kind
// header, and log entries.
class Writer : public lockstep::Writer {
 public:
  using lockstep::Writer::Writer;

  void header(Tag tag);
  // An Entry or an EntryView.
  template <typename AnyEntry>
  void entry(const AnyEntry& e) {
    const ByteView data = e.data;
    LS_ASSERT_LE(data.size(), std::size_t{0xffffffff});
    fields(e.term.value, static_cast<std::uint8_t>(e.kind), static_cast<std::uint32_t>(data.size()));
    rest(data);
  }
};

}  // namespace lockstep::raft::codec

namespace lockstep::raft {

template <typename EntryIt>
void encode_append_to(Bytes& out, Term term, LogIndex prev_log_index, Term prev_log_term,
                      LogIndex leader_commit, std::uint64_t round, EntryIt first, EntryIt last) {
  const auto count = static_cast<std::uint32_t>(std::distance(first, last));
  codec::Writer w(out);
  w.fields(kFormatVersion, static_cast<std::uint8_t>(codec::Tag::append_request), term.value,
           prev_log_index.value, prev_log_term.value, leader_commit.value, round, count);
  for (EntryIt it = first; it != last; ++it) w.entry(*it);
}

template <typename EntryIt>
void encode_entries_record_to(Bytes& out, LogIndex first_index, EntryIt first, EntryIt last) {
  const auto count = static_cast<std::uint32_t>(std::distance(first, last));
  codec::Writer w(out);
  w.fields(kFormatVersion, static_cast<std::uint8_t>(codec::Tag::entries), first_index.value,
           count);
  for (EntryIt it = first; it != last; ++it) w.entry(*it);
}

}  // namespace lockstep::raft
