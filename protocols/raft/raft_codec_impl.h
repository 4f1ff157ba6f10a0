// Internals of the Raft codec shared by raft_codec.cc and the entry-range encoders in
// raft_messages.h. Not part of the module's interface.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "core/assert.h"
#include "core/bytes.h"
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

class Writer {
 public:
  explicit Writer(std::size_t reserve = 64) { out_.reserve(reserve); }

  void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
  void u32(std::uint32_t v) { put_le(v, 4); }
  void u64(std::uint64_t v) { put_le(v, 8); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void header(Tag tag);
  void bytes(ByteView b) {
    LS_ASSERT_LE(b.size(), std::size_t{0xffffffff});
    u32(static_cast<std::uint32_t>(b.size()));
    out_.insert(out_.end(), b.begin(), b.end());
  }
  void entry(const Entry& e) {
    u64(e.term.value);
    u8(static_cast<std::uint8_t>(e.kind));
    bytes(e.data);
  }
  Bytes take() { return std::move(out_); }

 private:
  void put_le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
  }
  Bytes out_;
};

}  // namespace lockstep::raft::codec

namespace lockstep::raft {

template <typename EntryIt>
Bytes encode_append(Term term, LogIndex prev_log_index, Term prev_log_term, LogIndex leader_commit,
                    std::uint64_t round, EntryIt first, EntryIt last) {
  std::size_t size = 64;
  std::uint32_t count = 0;
  for (EntryIt it = first; it != last; ++it, ++count) size += wire_size(*it);
  codec::Writer w(size);
  w.header(codec::Tag::append_request);
  w.u64(term.value);
  w.u64(prev_log_index.value);
  w.u64(prev_log_term.value);
  w.u64(leader_commit.value);
  w.u64(round);
  w.u32(count);
  for (EntryIt it = first; it != last; ++it) w.entry(*it);
  return w.take();
}

template <typename EntryIt>
Bytes encode_entries_record(LogIndex first_index, EntryIt first, EntryIt last) {
  std::size_t size = 32;
  std::uint32_t count = 0;
  for (EntryIt it = first; it != last; ++it, ++count) size += wire_size(*it);
  codec::Writer w(size);
  w.header(codec::Tag::entries);
  w.u64(first_index.value);
  w.u32(count);
  for (EntryIt it = first; it != last; ++it) w.entry(*it);
  return w.take();
}

}  // namespace lockstep::raft
