// The namespace: create, delete, get, set, list; ephemeral and sequential nodes; versions.
#include "core/assert.h"
#include "service/lock/lock_path.h"
#include "service/lock/lock_state_machine.h"

namespace lockstep::service::lock {

namespace {

// ZooKeeper's sequential suffix: ten zero-padded digits.
constexpr std::uint64_t kSequenceMax = 9'999'999'999;
constexpr std::size_t kSequenceDigits = 10;

// Appends `sequence` (at most kSequenceMax) as ten zero-padded digits: fmt's "{:010}" without
// the formatting machinery, on the create path of every sequential node.
void append_sequence(std::string& path, std::uint64_t sequence) {
  char digits[kSequenceDigits];
  for (int i = static_cast<int>(kSequenceDigits) - 1; i >= 0; --i) {
    digits[i] = static_cast<char>('0' + sequence % 10);
    sequence /= 10;
  }
  path.append(digits, sizeof digits);
}

}  // namespace

Stat LockStateMachine::stat_of(const Node& node) const {
  Stat s;
  s.version = node.version;
  s.children_version = node.children_version;
  s.created = node.created;
  s.modified = node.modified;
  s.ephemeral_owner = node.ephemeral_owner;
  s.content_bytes = node.content.size();
  s.children = node.children.size();
  return s;
}

Result LockStateMachine::create(SessionId session, const Create& c) {
  if (!valid_path(c.path, config_) || is_cell_root(c.path, config_)) {
    return answer(Code::invalid_path);
  }
  if (c.content.size() > config_.content_bytes_max) return answer(Code::content_too_large);
  // A view into the command: it outlives this apply, and the parent's path is copied only into
  // the children_changed event.
  const std::string_view parent_path = parent_of(c.path);
  const Nodes::iterator parent_entry = locate(parent_path);
  if (parent_entry == state_.nodes.end()) return answer(Code::no_parent);
  Node* parent = &parent_entry->second;
  if (parent->ephemeral_owner.value != 0) return answer(Code::ephemeral_parent);
  // Built once, with room for a sequential suffix (an exact-size copy grew again to append it),
  // and moved into the map: the node's key is the one copy the state keeps.
  std::string path;
  path.reserve(c.path.size() + (c.sequential ? kSequenceDigits : 0));
  path.append(c.path);
  if (c.sequential) {
    if (parent->next_sequence > kSequenceMax) return answer(Code::limit_exceeded);
    append_sequence(path, parent->next_sequence);
    if (path.size() > config_.path_bytes_max) return answer(Code::invalid_path);
  }
  if (locate(path) != state_.nodes.end()) {
    // A node made by hand under a sequential name uses the number up, so that the next
    // sequential create moves past it instead of failing forever.
    if (c.sequential) ++parent->next_sequence;
    return answer(Code::node_exists);
  }
  if (state_.nodes.size() >= config_.nodes_max) return answer(Code::limit_exceeded);

  if (c.sequential) ++parent->next_sequence;
  const Revision created{state_.revision.value + 1};
  // Sequential names only grow: a hint at the end makes their insertion one comparison.
  // The name follows the parent's path and its '/' (a sequential suffix has no '/'): no search
  // for the last '/' as name_of does.
  const auto name = parent->children.emplace_hint(
      parent->children.end(), std::string_view(path).substr(parent_path.size() + 1));
  ++parent->children_version;
  // std::map: `parent` stays valid.
  const Nodes::iterator entry =
      insert_node(std::move(path), insertion_hint(parent_entry, *parent, name));
  const std::string& node_path = entry->first;
  Node& node = entry->second;
  node.content = c.content;
  node.created = created;
  node.modified = created;
  if (c.ephemeral) {
    node.ephemeral_owner = session;
    state_.sessions.at(session).ephemerals.insert(node_path);
  }

  LS_ASSERT_EQ(emit(event_on(EventKind::node_created, node_path)), created);
  Event children = event_on(EventKind::children_changed, parent_path);
  children.version = parent->children_version;
  emit(std::move(children));
  return answer(Code::ok, NodeCreated{node_path, stat_of(node)});
}

Result LockStateMachine::remove(const Delete& c) {
  Code problem = Code::ok;
  const Node* node = find_valid(c.path, problem);
  if (problem == Code::invalid_path || is_cell_root(c.path, config_)) {
    return answer(Code::invalid_path);
  }
  if (!node) return answer(Code::no_node);
  if (c.expected_version && *c.expected_version != node->version) {
    return answer(Code::version_mismatch);
  }
  if (!node->children.empty()) return answer(Code::not_empty);
  if (!node->lock.idle()) return answer(Code::node_busy);
  delete_node(c.path);
  return answer(Code::ok);
}

// Where `nodes` takes the child `name` of `parent` (just added to its children): right after its
// previous sibling (after the parent when it has none), as long as that sibling has no children
// of its own, since the paths between a node and its next sibling are its descendants. A wrong
// hint costs the map a full search, nothing else.
LockStateMachine::Nodes::iterator LockStateMachine::insertion_hint(
    Nodes::iterator parent_entry, const Node& parent,
    std::set<std::string, PathLess>::const_iterator name) {
  if (name == parent.children.begin()) return std::next(parent_entry);
  std::string& sibling = hint_path_;
  sibling.assign(parent_entry->first).append("/").append(*std::prev(name));
  const Nodes::iterator previous = locate(sibling);
  return previous == state_.nodes.end() ? previous : std::next(previous);
}

void LockStateMachine::delete_node(const std::string& path) {
  // Kept to the end: nothing below inserts a node, so the index does not rehash.
  const auto indexed = state_.node_index.find(IndexedPath(path));
  LS_ASSERT(indexed != state_.node_index.end());
  const Nodes::iterator entry = indexed->second;
  Node& node = entry->second;
  LS_ASSERT(node.children.empty());  // explicit deletes check; ephemeral nodes have no children
  std::vector<SessionId> holders;
  for (const auto& [id, holder] : node.lock.holders) holders.push_back(id);
  for (SessionId id : holders) drop_holder(path, node, id, Cause::node_deleted);
  std::vector<Waiter> waiters = std::move(node.lock.waiters);
  node.lock.waiters.clear();
  for (const Waiter& w : waiters) state_.sessions.at(w.session).waiting.erase(path);
  if (node.lock.delay_started.value != 0) state_.delayed_locks.erase(path);
  if (node.ephemeral_owner.value != 0) {
    state_.sessions.at(node.ephemeral_owner).ephemerals.erase(path);
  }
  const std::uint64_t last_version = node.version;
  const std::string_view parent_path = parent_of(path);
  Node& parent = *find(parent_path);
  const auto child = parent.children.find(name_of(path));
  LS_ASSERT(child != parent.children.end());
  parent.children.erase(child);
  ++parent.children_version;
  state_.node_index.erase(indexed);
  state_.nodes.erase(entry);

  Event deleted = event_on(EventKind::node_deleted, path);
  deleted.version = last_version;
  emit(std::move(deleted));
  Event children = event_on(EventKind::children_changed, parent_path);
  children.version = parent.children_version;
  emit(std::move(children));
  // Queued acquires and campaigns learn of it after the deletion, in the deletion's revision.
  for (const Waiter& w : waiters) complete(w.session, w.request, answer(Code::no_node));
}

Result LockStateMachine::get(const Get& c) const {
  Code problem = Code::ok;
  const Node* node = find_valid(c.path, problem);
  if (!node) return answer(problem);
  return answer(Code::ok, NodeData{stat_of(*node), node->content});
}

Result LockStateMachine::set(const Set& c) {
  Code problem = Code::ok;
  Node* node = find_valid(c.path, problem);
  if (problem == Code::invalid_path) return answer(problem);
  if (c.content.size() > config_.content_bytes_max) return answer(Code::content_too_large);
  if (!node) return answer(Code::no_node);
  if (c.expected_version && *c.expected_version != node->version) {
    return answer(Code::version_mismatch);
  }
  node->content = c.content;
  ++node->version;
  node->modified = Revision{state_.revision.value + 1};
  Event changed = event_on(EventKind::node_changed, c.path);
  changed.version = node->version;
  LS_ASSERT_EQ(emit(std::move(changed)), node->modified);
  return answer(Code::ok, NodeStat{stat_of(*node)});
}

Result LockStateMachine::list(const List& c) const {
  Code problem = Code::ok;
  const Node* node = find_valid(c.path, problem);
  if (!node) return answer(problem);
  return answer(Code::ok,
                Children{std::vector<std::string>(node->children.begin(), node->children.end())});
}

}  // namespace lockstep::service::lock
