// Snapshots (the whole replicated state, canonically encoded) and the invariants, which restore
// also uses to refuse a snapshot that decodes but does not describe a consistent state.
//
//   snapshot  [magic u32][cell str][applied_index u64][leader_term u64][next_session u64]
//             [revision u64][compacted u64][nodes][sessions][history]
//   node      [path str][content bytes][version u64][children_version u64][created u64]
//             [modified u64][ephemeral_owner u64][next_sequence u64][delay_started u64]
//             [holders u32 × (session u64, mode u8, generation u64, campaign bool, value bytes)]
//             [waiters u32 × (session u64, request u64, mode u8, campaign bool, value bytes)]
//   session   [id u64][ttl u64][last_keepalive_index u64][open_token u64][acked_through u64]
//             [forgotten_through u64][results u32 × (request u64, pending bool, result)]
//             [watches u32 × (id u64, path str, recursive bool, kinds u32, last_revision u64)]
//
// Derived indexes (children, a session's held/waiting/ephemeral sets, open tokens, locks in
// lock-delay, the watch index, the node index) are not stored: restore rebuilds them.
#include <algorithm>

#include <fmt/format.h>

#include "core/assert.h"
#include "service/lock/lock_codec.h"
#include "service/lock/lock_path.h"
#include "service/lock/lock_state_machine.h"

namespace lockstep::service::lock {

namespace {

constexpr std::uint32_t kSnapshotMagic = 0x314b534c;  // "LSK1"
constexpr std::uint8_t kModeMax = 1;

}  // namespace

// The fixed-width fields that follow one another go in with one append each (Writer::fields, the
// same bytes as one u64()/u32()/u8() call per field): a snapshot has a dozen per node and per
// session, and every append checks the capacity and grows the buffer.
Bytes LockStateMachine::snapshot() const {
  Writer w(1024);
  w.u32(kSnapshotMagic).str(config_.cell);
  w.fields(state_.applied_index, state_.leader_term, state_.next_session, state_.revision.value,
           state_.compacted.value, std::uint64_t{state_.nodes.size()});
  for (const auto& [path, n] : state_.nodes) {
    w.str(path).bytes(n.content);
    w.fields(n.version, n.children_version, n.created.value, n.modified.value,
             n.ephemeral_owner.value, n.next_sequence, n.lock.delay_started.value,
             static_cast<std::uint32_t>(n.lock.holders.size()));
    for (const auto& [id, h] : n.lock.holders) {
      w.fields(id.value, static_cast<std::uint8_t>(h.mode), h.generation,
               static_cast<std::uint8_t>(h.campaign ? 1 : 0));
      w.bytes(h.value);
    }
    w.u32(static_cast<std::uint32_t>(n.lock.waiters.size()));
    for (const Waiter& q : n.lock.waiters) {
      w.fields(q.session.value, q.request, static_cast<std::uint8_t>(q.mode),
               static_cast<std::uint8_t>(q.campaign ? 1 : 0));
      w.bytes(q.value);
    }
  }
  w.u64(state_.sessions.size());
  for (const auto& [id, s] : state_.sessions) {
    w.fields(id.value, static_cast<std::uint64_t>(s.ttl.count), s.last_keepalive_index,
             s.open_token, s.acked_through, s.forgotten_through,
             static_cast<std::uint32_t>(s.results.size()));
    for (const auto& [request, r] : s.results) {
      w.fields(request, static_cast<std::uint8_t>(r.pending ? 1 : 0));
      write(w, r.result);
    }
    w.u32(static_cast<std::uint32_t>(s.watches.size()));
    for (const auto& [watch_id, ws] : s.watches) {
      w.u64(watch_id).str(ws.path);
      w.fields(static_cast<std::uint8_t>(ws.recursive ? 1 : 0), ws.kinds, ws.last_revision.value);
    }
  }
  w.u64(state_.history.size());
  for (const Event& e : state_.history) write(w, e);
  return w.take();
}

bool LockStateMachine::decode_state(ByteView bytes, const LockConfig& config, State& state) {
  FieldReader r(bytes);
  if (r.u32() != kSnapshotMagic || r.str() != config.cell) return false;
  state.applied_index = r.u64();
  state.leader_term = r.u64();
  state.next_session = r.u64();
  state.revision = Revision{r.u64()};
  state.compacted = Revision{r.u64()};
  const std::uint64_t nodes = r.u64();
  for (std::uint64_t i = 0; i < nodes && r.ok(); ++i) {
    std::string path = r.str();
    Node n;
    n.content = r.bytes();
    n.version = r.u64();
    n.children_version = r.u64();
    n.created = Revision{r.u64()};
    n.modified = Revision{r.u64()};
    n.ephemeral_owner = SessionId{r.u64()};
    n.next_sequence = r.u64();
    n.lock.delay_started = Revision{r.u64()};
    const std::uint32_t holders = r.u32();
    for (std::uint32_t k = 0; k < holders && r.ok(); ++k) {
      const SessionId id{r.u64()};
      Holder h;
      h.mode = r.enumeration<LockMode>(kModeMax);
      h.generation = r.u64();
      h.campaign = r.boolean();
      h.value = r.bytes();
      if (!n.lock.holders.emplace(id, std::move(h)).second) r.fail();
    }
    const std::uint32_t waiters = r.u32();
    for (std::uint32_t k = 0; k < waiters && r.ok(); ++k) {
      Waiter q;
      q.session = SessionId{r.u64()};
      q.request = r.u64();
      q.mode = r.enumeration<LockMode>(kModeMax);
      q.campaign = r.boolean();
      q.value = r.bytes();
      n.lock.waiters.push_back(std::move(q));
    }
    if (!state.nodes.emplace(std::move(path), std::move(n)).second) r.fail();
  }
  const std::uint64_t sessions = r.u64();
  for (std::uint64_t i = 0; i < sessions && r.ok(); ++i) {
    const SessionId id{r.u64()};
    Session s;
    s.ttl = Nanos{static_cast<std::int64_t>(r.u64())};
    s.last_keepalive_index = r.u64();
    s.open_token = r.u64();
    s.acked_through = r.u64();
    s.forgotten_through = r.u64();
    const std::uint32_t results = r.u32();
    for (std::uint32_t k = 0; k < results && r.ok(); ++k) {
      const std::uint64_t request = r.u64();
      Recorded rec;
      rec.pending = r.boolean();
      rec.result = read_result(r);
      // Ascending, as snapshot() writes them (and so no request twice).
      if (!s.results.empty() && s.results.back().first >= request) r.fail();
      s.results.emplace_back(request, std::move(rec));
    }
    const std::uint32_t watches = r.u32();
    for (std::uint32_t k = 0; k < watches && r.ok(); ++k) {
      const std::uint64_t watch_id = r.u64();
      WatchState ws;
      ws.path = r.str();
      ws.recursive = r.boolean();
      ws.kinds = r.u32();
      ws.last_revision = Revision{r.u64()};
      if (!s.watches.emplace(watch_id, std::move(ws)).second) r.fail();
    }
    if (!state.sessions.emplace(id, std::move(s)).second) r.fail();
  }
  const std::uint64_t events = r.u64();
  for (std::uint64_t i = 0; i < events && r.ok(); ++i) state.history.push_back(read_event(r));
  return r.done();
}

// Rebuilds the indexes from the nodes and sessions; false when they refer to what does not exist.
bool LockStateMachine::rebuild_derived(State& state, const LockConfig& config) {
  state.open_tokens.clear();
  state.delayed_locks.clear();
  state.watch_index.clear();
  for (auto& [id, s] : state.sessions) {
    s.held.clear();
    s.waiting.clear();
    s.ephemerals.clear();
    if (!state.open_tokens.emplace(s.open_token, id).second) return false;
    for (auto& [watch_id, ws] : s.watches) {
      state.watch_index[ws.path].emplace(WatchKey{id, watch_id}, &ws);
    }
  }
  state.node_index.clear();
  for (auto it = state.nodes.begin(); it != state.nodes.end(); ++it) {
    state.node_index.emplace(IndexedPath(it->first), it);
    it->second.children.clear();
  }
  for (auto& [path, n] : state.nodes) {
    if (!valid_path(path, config)) return false;
    if (!is_cell_root(path, config)) {
      auto parent = state.nodes.find(parent_of(path));
      if (parent == state.nodes.end()) return false;
      parent->second.children.emplace(name_of(path));
    }
    auto session_of = [&](SessionId id) -> Session* {
      auto it = state.sessions.find(id);
      return it == state.sessions.end() ? nullptr : &it->second;
    };
    if (n.ephemeral_owner.value != 0) {
      Session* owner = session_of(n.ephemeral_owner);
      if (!owner) return false;
      owner->ephemerals.insert(path);
    }
    for (const auto& [id, h] : n.lock.holders) {
      Session* holder = session_of(id);
      if (!holder) return false;
      holder->held.insert(path);
    }
    for (const Waiter& q : n.lock.waiters) {
      Session* waiter = session_of(q.session);
      if (!waiter || !waiter->waiting.insert(path).second) return false;
    }
    if (n.lock.delay_started.value != 0) state.delayed_locks.insert(path);
  }
  return true;
}

bool LockStateMachine::restore(ByteView snapshot) {
  LockStateMachine restored(config_);
  restored.state_ = State{};
  if (!decode_state(snapshot, config_, restored.state_) ||
      !rebuild_derived(restored.state_, config_) || !restored.invariant_violations().empty()) {
    return false;
  }
  state_ = std::move(restored.state_);
  return true;
}

std::vector<std::string> LockStateMachine::invariant_violations() const {
  std::vector<std::string> out;
  auto fail = [&](std::string what) { out.push_back(std::move(what)); };
  const State& st = state_;
  if (!st.nodes.contains(cell_root(config_))) fail("the cell root is missing");
  if (st.node_index.size() != st.nodes.size()) fail("node index not one per node");
  // The lookups below go through the index (find), as the state machine's do: the loop below
  // checks that it holds every node and (with the sizes equal) nothing else.
  if (st.next_session == 0 || st.next_session > kOpenTokenBit) fail("next_session out of range");
  if (st.compacted > st.revision) fail("compacted revision above the revision");

  std::string child_path;  // reused for every child's lookup
  for (const auto& [path, n] : st.nodes) {
    if (auto indexed = st.node_index.find(IndexedPath(path));
        indexed == st.node_index.end() || &indexed->second->second != &n) {
      fail(fmt::format("node {}: not indexed", path));
    }
    const bool valid = valid_path(path, config_);
    if (!valid) fail(fmt::format("node {}: invalid path", path));
    if (!is_cell_root(path, config_) && valid) {
      const Node* parent = find(parent_of(path));
      if (!parent || !parent->children.contains(name_of(path))) {
        fail(fmt::format("node {}: not among its parent's children", path));
      } else if (parent->ephemeral_owner.value != 0) {
        fail(fmt::format("node {}: child of an ephemeral node", path));
      }
    }
    for (const std::string& child : n.children) {
      child_path.assign(path).append("/").append(child);
      if (!find(child_path))
        fail(fmt::format("node {}: lost child {}", path, child));
    }
    if (n.created > st.revision || n.modified > st.revision || n.modified < n.created) {
      fail(fmt::format("node {}: revisions out of order", path));
    }
    if (n.content.size() > config_.content_bytes_max)
      fail(fmt::format("node {}: content too large", path));
    if (n.ephemeral_owner.value != 0) {
      auto owner = st.sessions.find(n.ephemeral_owner);
      if (owner == st.sessions.end() || !owner->second.ephemerals.contains(path)) {
        fail(fmt::format("node {}: ephemeral owner s{} does not know it", path,
                         n.ephemeral_owner.value));
      }
    }

    const LockState& lock = n.lock;
    bool exclusive = false;
    for (const auto& [id, h] : lock.holders) {
      exclusive = exclusive || h.mode == LockMode::exclusive;
      auto s = st.sessions.find(id);
      if (s == st.sessions.end() || !s->second.held.contains(path)) {
        fail(fmt::format("lock {}: holder s{} does not know it", path, id.value));
      }
      if (h.generation == 0 || h.generation > st.revision.value) {
        fail(fmt::format("lock {}: generation {} out of range", path, h.generation));
      }
    }
    if (exclusive && lock.holders.size() > 1) {
      fail(fmt::format("lock {}: an exclusive holder beside {} others", path,
                       lock.holders.size() - 1));
    }
    std::set<SessionId> queued;
    for (const Waiter& q : lock.waiters) {
      if (!queued.insert(q.session).second || lock.holders.contains(q.session)) {
        fail(fmt::format("lock {}: s{} queued twice or while holding", path, q.session.value));
      }
      auto s = st.sessions.find(q.session);
      if (s == st.sessions.end() || !s->second.waiting.contains(path)) {
        fail(fmt::format("lock {}: waiter s{} does not know it", path, q.session.value));
        continue;
      }
      auto rec = find_record(s->second.results, q.request);
      if (rec == s->second.results.end() || !rec->second.pending) {
        fail(fmt::format("lock {}: waiter s{} request {} has no pending record", path,
                         q.session.value, q.request));
      }
    }
    if (lock.delay_started.value == 0 && !lock.waiters.empty()) {
      // No waiter is left behind a lock it could take: the grant was missed (a lost wake-up).
      const bool free_for_front =
          lock.waiters.front().mode == LockMode::exclusive ? lock.holders.empty() : !exclusive;
      if (free_for_front) fail(fmt::format("lock {}: its first waiter could be granted", path));
    }
    if ((lock.delay_started.value != 0) != st.delayed_locks.contains(path)) {
      fail(fmt::format("lock {}: lock-delay not indexed", path));
    }
    if (lock.delay_started > st.revision)
      fail(fmt::format("lock {}: lock-delay in the future", path));
  }
  for (const std::string& path : st.delayed_locks) {
    if (!find(path)) fail(fmt::format("lock-delay index names missing node {}", path));
  }

  for (const auto& [id, s] : st.sessions) {
    if (id.value == 0 || id.value >= st.next_session)
      fail(fmt::format("s{}: id out of range", id.value));
    auto check_nodes = [&](const std::set<std::string>& paths, std::string_view what, auto has) {
      for (const std::string& path : paths) {
        const Node* node = find(path);
        if (!node || !has(*node)) {
          fail(fmt::format("s{}: {} {} not on the node", id.value, what, path));
        }
      }
    };
    check_nodes(s.held, "holds", [&](const Node& n) { return n.lock.holders.contains(id); });
    check_nodes(s.waiting, "waits for", [&](const Node& n) {
      for (const Waiter& q : n.lock.waiters) {
        if (q.session == id) return true;
      }
      return false;
    });
    check_nodes(s.ephemerals, "owns", [&](const Node& n) { return n.ephemeral_owner == id; });
    if (std::adjacent_find(s.results.begin(), s.results.end(), [](const auto& a, const auto& b) {
          return a.first >= b.first;
        }) != s.results.end()) {
      fail(fmt::format("s{}: records not in ascending request order", id.value));
    }
    std::size_t pending = 0;
    for (const auto& [request, rec] : s.results) pending += rec.pending ? 1 : 0;
    if (pending != s.waiting.size()) {
      fail(fmt::format("s{}: {} pending records for {} queued requests", id.value, pending,
                       s.waiting.size()));
    }
    if (s.results.size() > config_.results_per_session_max ||
        s.waiting.size() > config_.waits_per_session_max ||
        s.watches.size() > config_.watches_per_session_max) {
      fail(fmt::format("s{}: over a per-session limit", id.value));
    }
    auto token = st.open_tokens.find(s.open_token);
    if ((s.open_token & kOpenTokenBit) == 0 || token == st.open_tokens.end() ||
        token->second != id) {
      fail(fmt::format("s{}: open token not indexed", id.value));
    }
    for (const auto& [watch_id, ws] : s.watches) {
      auto indexed = st.watch_index.find(ws.path);
      if (indexed == st.watch_index.end() || !indexed->second.contains({id, watch_id}) ||
          indexed->second.at({id, watch_id}) != &ws) {
        fail(fmt::format("s{}: watch {} not indexed", id.value, watch_id));
      }
      if (ws.last_revision > st.revision)
        fail(fmt::format("s{}: watch {} ahead", id.value, watch_id));
      if (!valid_path(ws.path, config_) || ws.kinds == 0 || (ws.kinds & ~kWatchableKinds) != 0) {
        fail(fmt::format("s{}: watch {} malformed", id.value, watch_id));
      }
    }
  }
  if (st.open_tokens.size() != st.sessions.size()) fail("open tokens not one per session");
  for (const auto& [path, watches] : st.watch_index) {
    for (const auto& [key, watch] : watches) {
      auto s = st.sessions.find(key.first);
      if (s == st.sessions.end() || !s->second.watches.contains(key.second) ||
          s->second.watches.at(key.second).path != path) {
        fail(fmt::format("watch index names a missing watch on {}", path));
      }
    }
  }

  if (st.history.size() > config_.event_history_max) fail("history over its bound");
  Revision previous = st.compacted;
  for (const Event& e : st.history) {
    if (e.revision <= previous || e.revision > st.revision) {
      fail(fmt::format("history: revision {} out of order", e.revision.value));
    }
    previous = e.revision;
  }
  return out;
}

}  // namespace lockstep::service::lock
