// The replicated append-only log: the state machine clients use until the lock service lands,
// and the simplest one that makes a consensus bug visible. Each command appends the client's
// payload; the result is the log index it landed at. A retried request (same client and request
// number) is not appended twice: it gets the index of its first application (at-most-once).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "service/replica_host.h"

namespace lockstep::service {

class AppendLog final : public StateMachine {
 public:
  struct Entry {
    std::uint64_t index = 0;  // the consensus log index it was committed at
    std::uint64_t client = 0;
    std::uint64_t request = 0;
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  void apply(std::uint64_t index, const LoggedCommand& command, Bytes& result) override;
  Bytes query(ByteView query) const override;  // the number of entries, as u64
  Bytes snapshot() const override;
  void restore(ByteView snapshot) override;

  const std::vector<Entry>& entries() const { return entries_; }
  // Decodes the result of an append (the index it landed at).
  static std::optional<std::uint64_t> decode_result(ByteView result);

 private:
  std::vector<Entry> entries_;
  // client -> (highest request applied, the index it landed at)
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> last_applied_;
};

}  // namespace lockstep::service
