// Checksummed records in a file: how every protocol host persists what it must not forget
// (terms, votes, log entries, snapshots) through the Disk interface, in simulation and for real.
//
// A file is a sequence of records, each
//     [u32 length LE][u32 masked CRC-32C of the 4 length bytes and the payload, LE][payload]
// The CRC covers the length too, so a damaged length is caught like damaged data; it is masked as
// LevelDB does (core/crc32c.h), so a zero-filled region never reads as a valid record.
//
// A crash can leave a file ending in a torn record: a prefix of the bytes last appended, possibly
// with a flipped bit (sim/disk.h models both). Reading therefore stops at the first record that
// is incomplete or fails its checksum, and reports what it kept and what it discarded. Everything
// after the first bad record is discarded too: a record is only trusted if every record before it
// is, which is what makes "the recovered records are a prefix of the records written" hold.
// The format cannot always tell a torn tail from damage in the middle of a file (a damaged length
// that points past the end looks like a torn tail), so a non-empty `problem` means "records may
// have been lost" and it is the caller's protocol that decides whether that is tolerable.
//
// After reading, a writer must cut the file back to the valid prefix before appending again, or
// its next records would sit behind garbage that hides them forever: recover_records does both.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/env.h"

namespace lockstep {

constexpr std::uint64_t kRecordHeaderBytes = 8;
// The largest payload one record may carry. Appending more is an assertion; reading a length
// above it is corruption, so a damaged length never makes the reader allocate absurdly.
constexpr std::uint64_t kRecordPayloadBytesMax = 64ULL << 20;

// The framed bytes of one record: header then payload.
Bytes encode_record(ByteView payload);

// Appends one record to `file` with a single Disk::append, so a torn write can only damage the
// end of the file. Does not sync: the caller decides when records must be durable.
void append_record(Disk& disk, std::string_view file, ByteView payload);

struct Recovered {
  std::vector<Bytes> records;         // the payloads of the valid prefix, in file order
  std::uint64_t valid_bytes = 0;      // length of the valid prefix, headers included
  std::uint64_t discarded_bytes = 0;  // bytes after it
  std::string problem;                // empty if the whole file is valid; else what and where

  bool clean() const { return problem.empty(); }
};

// Parses a whole file image (see the header comment for where it stops).
Recovered decode_records(ByteView data);

// Reads `file` as the node currently sees it; a missing file reads as empty and clean.
Recovered read_records(const Disk& disk, std::string_view file);

// Reads `file`, and if anything had to be discarded, truncates the file to the valid prefix and
// syncs it, so that records appended afterwards are readable.
Recovered recover_records(Disk& disk, std::string_view file);

}  // namespace lockstep
