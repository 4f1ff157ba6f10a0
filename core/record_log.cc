#include "core/record_log.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "core/assert.h"
#include "core/crc32c.h"

namespace lockstep {
namespace {

void put_u32(std::byte* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<std::byte>((v >> (8 * i)) & 0xffu);
}

std::uint32_t get_u32(const std::byte* in) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(in[i]) << (8 * i);
  return v;
}

std::uint32_t record_crc(ByteView length_bytes, ByteView payload) {
  return crc32c_mask(crc32c_extend(crc32c(length_bytes), payload));
}

}  // namespace

Bytes encode_record(ByteView payload) {
  LS_ASSERT_LE(payload.size(), kRecordPayloadBytesMax);
  Bytes out(kRecordHeaderBytes + payload.size());
  put_u32(out.data(), static_cast<std::uint32_t>(payload.size()));
  put_u32(out.data() + 4, record_crc(ByteView(out.data(), 4), payload));
  if (!payload.empty())
    std::copy(payload.begin(), payload.end(),
              out.begin() + static_cast<std::ptrdiff_t>(kRecordHeaderBytes));
  return out;
}

void append_record(Disk& disk, std::string_view file, ByteView payload) {
  // The header and the payload as one write: the same bytes as encode_record(), no copy.
  LS_ASSERT_LE(payload.size(), kRecordPayloadBytesMax);
  std::array<std::byte, kRecordHeaderBytes> header;
  put_u32(header.data(), static_cast<std::uint32_t>(payload.size()));
  put_u32(header.data() + 4, record_crc(ByteView(header.data(), 4), payload));
  disk.append_parts(file, header, payload);
}

Recovered decode_records(ByteView data) {
  Recovered out;
  std::uint64_t at = 0;
  const std::uint64_t end = data.size();
  // A first walk over the headers alone sizes the record list, so that it is allocated once.
  std::size_t framed = 0;
  for (std::uint64_t p = 0; end - p >= kRecordHeaderBytes;) {
    const std::uint64_t length = get_u32(data.data() + p);
    if (length > kRecordPayloadBytesMax || end - p - kRecordHeaderBytes < length) break;
    ++framed;
    p += kRecordHeaderBytes + length;
  }
  out.records.reserve(framed);
  while (at < end) {
    // Built only on the error paths: a recovery decodes thousands of good records.
    const auto where = [at] { return " at offset " + std::to_string(at); };
    if (end - at < kRecordHeaderBytes) {
      out.problem =
          "incomplete record header" + where() + ": " + std::to_string(end - at) + " of 8 bytes";
      break;
    }
    const std::byte* header = data.data() + at;
    const std::uint64_t length = get_u32(header);
    if (length > kRecordPayloadBytesMax) {
      out.problem = "record length " + std::to_string(length) + where() + " exceeds the limit of " +
                    std::to_string(kRecordPayloadBytesMax) + " bytes";
      break;
    }
    if (end - at - kRecordHeaderBytes < length) {
      out.problem = "incomplete record" + where() + ": payload of " + std::to_string(length) +
                    " bytes but only " + std::to_string(end - at - kRecordHeaderBytes) + " remain";
      break;
    }
    const ByteView payload = data.subspan(at + kRecordHeaderBytes, length);
    if (get_u32(header + 4) != record_crc(ByteView(header, 4), payload)) {
      out.problem = "checksum mismatch in record" + where();
      break;
    }
    out.records.emplace_back(payload.begin(), payload.end());
    at += kRecordHeaderBytes + length;
  }
  out.valid_bytes = at;
  out.discarded_bytes = end - at;
  return out;
}

Recovered read_records(const Disk& disk, std::string_view file) {
  const Bytes image = disk.read(file);
  return decode_records(image);
}

Recovered recover_records(Disk& disk, std::string_view file) {
  Recovered out = read_records(disk, file);
  if (out.discarded_bytes > 0) {
    disk.truncate(file, out.valid_bytes);
    disk.sync(file);
  }
  return out;
}

}  // namespace lockstep
