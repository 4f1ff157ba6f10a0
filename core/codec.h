// Little-endian binary encoding for messages and records. The Writer appends; the Reader is
// bounds-checked and never trusts a length it reads: bytes may come from a socket or a corrupt
// disk, so every read can fail, and a failed read poisons the reader (ok() turns false) instead
// of crashing. Decoders read everything, then check ok() and done() once.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/assert.h"
#include "core/bytes.h"

namespace lockstep {

class Writer {
 public:
  explicit Writer(std::size_t reserve = 64) : out_(&own_) { own_.reserve(reserve); }
  // Appends to `target`, which keeps what it already holds and its capacity: encoding into a
  // buffer that is reused allocates nothing once the buffer has grown to its working size.
  explicit Writer(Bytes& target) : out_(&target) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Writer& u8(std::uint8_t v) {
    out_->push_back(static_cast<std::byte>(v));
    return *this;
  }
  Writer& u32(std::uint32_t v) { return put_le<4>(v); }
  Writer& u64(std::uint64_t v) { return put_le<8>(v); }
  // Several of those in one append, each as wide as its type (std::uint8_t, std::uint32_t or
  // std::uint64_t): w.fields(std::uint8_t{1}, term, count) is w.u8(1).u64(term).u32(count).
  // Encoders of hot messages use it, since every append checks the capacity and grows the size.
  template <typename... Uints>
  Writer& fields(Uints... values) {
    static_assert(((std::is_same_v<Uints, std::uint8_t> || std::is_same_v<Uints, std::uint32_t> ||
                    std::is_same_v<Uints, std::uint64_t>) && ...),
                  "fields() takes std::uint8_t, std::uint32_t and std::uint64_t only");
    constexpr std::size_t n = (sizeof(Uints) + ...);
    std::array<std::byte, n> le;
    std::byte* at = le.data();
    ((store_le(at, values), at += sizeof(Uints)), ...);
    // A resize and a copy: a range insert of a constant size made GCC 12 warn falsely
    // (-Wstringop-overflow) wherever it was inlined into a fresh buffer.
    const std::size_t end = out_->size();
    out_->resize(end + n);
    std::memcpy(out_->data() + end, le.data(), n);
    return *this;
  }
  Writer& boolean(bool v) { return u8(v ? 1 : 0); }
  // A length-prefixed byte string (u32 length).
  Writer& bytes(ByteView b) {
    LS_ASSERT_LE(b.size(), std::size_t{0xffffffff});
    u32(static_cast<std::uint32_t>(b.size()));
    return rest(b);
  }
  Writer& str(std::string_view s) {
    return bytes(ByteView(reinterpret_cast<const std::byte*>(s.data()), s.size()));
  }
  // Raw bytes with no length: only as the last field.
  Writer& rest(ByteView b) {
    append_bytes(*out_, b);
    return *this;
  }

  // The bytes written, for a Writer that owns its buffer.
  Bytes take() {
    LS_ASSERT_MSG(out_ == &own_, "take() on a Writer that appends to a caller's buffer");
    return std::move(own_);
  }

 private:
  template <typename Uint>
  static void store_le(std::byte* out, Uint v) {
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(out, &v, sizeof(Uint));
    } else {
      for (std::size_t i = 0; i < sizeof(Uint); ++i) {
        out[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
      }
    }
  }
  // The width is a template argument so that the copies are fixed-size, inlined.
  template <std::size_t n>
  Writer& put_le(std::uint64_t v) {
    // One resize and a copy: a push_back per byte re-checks the capacity every time and cost four
    // times as many instructions (measured with callgrind).
    std::array<std::byte, 8> le;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(le.data(), &v, 8);
    } else {
      for (std::size_t i = 0; i < n; ++i) le[i] = static_cast<std::byte>((v >> (8 * i)) & 0xff);
    }
    const std::size_t at = out_->size();
    out_->resize(at + n);
    std::memcpy(out_->data() + at, le.data(), n);
    return *this;
  }
  Bytes own_;
  Bytes* out_;
};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(get_le<1>()); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get_le<4>()); }
  std::uint64_t u64() { return get_le<8>(); }
  bool boolean() {
    const std::uint8_t v = u8();
    if (v > 1) ok_ = false;
    return v == 1;
  }
  // A view into the input; valid as long as the input is.
  ByteView bytes() {
    const std::uint32_t n = u32();
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    ByteView out = in_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  std::string str() { return to_string(bytes()); }
  ByteView rest() {
    ByteView out = in_.subspan(pos_);
    pos_ = in_.size();
    return out;
  }

  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }

 protected:
  // For readers that add their own checks (a bounded count, a sorted list).
  void fail() { ok_ = false; }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  // The width is a template argument so that the copy below is one fixed-size load, inlined: as
  // a runtime length it was an out-of-line memcpy call per field, ~5% of a fuzz seed.
  template <std::size_t n>
  std::uint64_t get_le() {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return 0;
    }
    const std::byte* p = in_.data() + pos_;
    std::uint64_t v = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&v, p, n);  // the low n bytes of v
    } else {
      for (std::size_t i = 0; i < n; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
    }
    pos_ += n;
    return v;
  }
  ByteView in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace lockstep
