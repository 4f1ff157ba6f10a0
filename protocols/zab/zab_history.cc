#include "protocols/zab/zab_history.h"

#include <algorithm>
#include <utility>

#include "core/assert.h"

namespace lockstep::zab {

std::optional<Zxid> History::zxid_at(Position p) const {
  if (p == snapshot_position_) return snapshot_zxid_;
  if (p < snapshot_position_ || p > last_position()) return std::nullopt;
  return txns_[offset(p)].zxid;
}

std::optional<std::uint64_t> History::digest_at(Position p) const {
  if (p == snapshot_position_) return snapshot_digest_;
  if (p < snapshot_position_ || p > last_position()) return std::nullopt;
  return txns_[offset(p)].digest;
}

const Txn& History::at(Position p) const {
  LS_ASSERT_GT(p, snapshot_position_);
  LS_ASSERT_LE(p, last_position());
  return txns_[offset(p)];
}

History::const_iterator History::iterator_at(Position p) const {
  LS_ASSERT_GT(p, snapshot_position_);
  LS_ASSERT_LE(p, last_position().next());
  return txns_.begin() + static_cast<std::ptrdiff_t>(offset(p));
}

std::optional<Position> History::find(Zxid z) const {
  if (z == snapshot_zxid_) return snapshot_position_;
  const auto it = std::lower_bound(txns_.begin(), txns_.end(), z,
                                   [](const Txn& t, Zxid x) { return t.zxid < x; });
  if (it == txns_.end() || it->zxid != z) return std::nullopt;
  return snapshot_position_ + static_cast<std::uint64_t>(it - txns_.begin() + 1);
}

std::optional<Position> History::floor(Zxid z) const {
  if (z < snapshot_zxid_) return std::nullopt;
  const auto it = std::upper_bound(txns_.begin(), txns_.end(), z,
                                   [](Zxid x, const Txn& t) { return x < t.zxid; });
  return snapshot_position_ + static_cast<std::uint64_t>(it - txns_.begin());
}

Position History::append(Zxid zxid, Bytes data) {
  LS_ASSERT_GT(zxid, last_zxid());
  const std::uint64_t digest = chain_digest(last_digest(), zxid, data);
  txns_.push_back(Txn{zxid, std::move(data), digest});
  const Position p = last_position();
  if (!runs_.empty() && runs_.back().epoch == zxid.epoch &&
      runs_.back().last_counter + 1 == zxid.counter) {
    runs_.back().last_counter = zxid.counter;
  } else {
    runs_.push_back(EpochRun{zxid.epoch, zxid.counter, zxid.counter, p});
  }
  return p;
}

void History::truncate_to(Position p) {
  LS_ASSERT_GE(p, snapshot_position_);
  if (p >= last_position()) return;
  txns_.resize(offset(p.next()));
  while (!runs_.empty() && runs_.back().first > p) runs_.pop_back();
  if (!runs_.empty() && runs_.back().last() > p) {
    runs_.back().last_counter = runs_.back().first_counter + (p.value - runs_.back().first.value);
  }
}

void History::compact(Position p, Bytes data) {
  LS_ASSERT_GT(p, snapshot_position_);
  LS_ASSERT_LE(p, last_position());
  const Txn& last = at(p);
  snapshot_zxid_ = last.zxid;
  snapshot_digest_ = last.digest;
  snapshot_data_ = std::move(data);
  txns_.erase(txns_.begin(), txns_.begin() + static_cast<std::ptrdiff_t>(offset(p) + 1));
  snapshot_position_ = p;
  rebuild_runs();
}

void History::restore(Position p, Zxid zxid, std::uint64_t digest, Bytes data) {
  snapshot_position_ = p;
  snapshot_zxid_ = zxid;
  snapshot_digest_ = digest;
  snapshot_data_ = std::move(data);
  txns_.clear();
  runs_.clear();
}

void History::rebuild_runs() {
  runs_.clear();
  Position p = snapshot_position_;
  for (const Txn& t : txns_) {
    p = p.next();
    if (!runs_.empty() && runs_.back().epoch == t.zxid.epoch &&
        runs_.back().last_counter + 1 == t.zxid.counter) {
      runs_.back().last_counter = t.zxid.counter;
    } else {
      runs_.push_back(EpochRun{t.zxid.epoch, t.zxid.counter, t.zxid.counter, p});
    }
  }
}

}  // namespace lockstep::zab
