// The namespace (Chubby §2.3, ZooKeeper's data model): paths, create/delete/get/set/list,
// versions and conditional updates, ephemeral and sequential nodes, and each error they answer.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "service/lock/lock_path.h"
#include "tests/service/lock/lock_test_support.h"

namespace lockstep::service::lock::testing {
namespace namespace_test {
namespace {

TEST(LockPath, NamesHoldExactlyLettersDigitsDotUnderscoreAndDash) {
  // Every byte, including those above 127 (negative as char): the accepted set is exact.
  int accepted = 0;
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    const bool expected = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    const std::string name = std::string("x") + ch;
    EXPECT_EQ(valid_component(name), expected) << "byte " << c;
    accepted += valid_component(name) ? 1 : 0;
  }
  EXPECT_EQ(accepted, 26 + 26 + 10 + 3);
}

TEST(LockPath, AcceptsOnlyThisCellsNames) {
  const LockConfig c = test_config();
  for (const char* ok : {"/ls/local", "/ls/local/a", "/ls/local/a/b.c_d-E9", "/ls/local/..a"}) {
    EXPECT_TRUE(valid_path(ok, c)) << ok;
  }
  for (const char* bad : {"", "/", "/ls", "/ls/", "/ls/other/a", "/ls/localx/a", "ls/local/a",
                          "/ls/local/", "/ls/local//a", "/ls/local/a/", "/ls/local/./a",
                          "/ls/local/a/..", "/ls/local/a b", "/ls/local/a\n", "/xs/local/a"}) {
    EXPECT_FALSE(valid_path(bad, c)) << bad;
  }
  LockConfig shallow = c;
  shallow.path_depth_max = 2;
  EXPECT_TRUE(valid_path("/ls/local/a/b", shallow));
  EXPECT_FALSE(valid_path("/ls/local/a/b/c", shallow));
  LockConfig short_paths = c;
  short_paths.path_bytes_max = 12;
  EXPECT_TRUE(valid_path("/ls/local/ab", short_paths));
  EXPECT_FALSE(valid_path("/ls/local/abc", short_paths));
}

// valid_path reads a path in one pass; this is the definition it must agree with: the prefix,
// the cell, then components that are each valid, at most path_depth_max of them.
bool valid_path_by_components(std::string_view path, const LockConfig& config) {
  const std::string root = "/ls/" + config.cell;
  if (path.size() > config.path_bytes_max || !path.starts_with(root)) return false;
  if (path.size() == root.size()) return true;
  if (path[root.size()] != '/') return false;
  std::string_view rest = path.substr(root.size() + 1);
  std::size_t depth = 0;
  for (;;) {
    const std::size_t slash = rest.find('/');
    if (!valid_component(rest.substr(0, slash)) || ++depth > config.path_depth_max) return false;
    if (slash == std::string_view::npos) return true;
    rest.remove_prefix(slash + 1);
  }
}

TEST(LockPath, AgreesWithReadingComponentByComponent) {
  // Every string of up to 7 characters over an alphabet that makes components, dots and bad
  // characters, below the cell root (and the root itself).
  LockConfig c = test_config();
  c.path_depth_max = 3;
  const std::string alphabet = "a./ ";
  std::size_t checked = 0;
  std::vector<std::string> suffixes{""};
  for (int length = 0; length <= 7; ++length) {
    std::vector<std::string> longer;
    for (const std::string& suffix : suffixes) {
      const std::string path = p("") + suffix;
      EXPECT_EQ(valid_path(path, c), valid_path_by_components(path, c)) << path;
      ++checked;
      for (char ch : alphabet) longer.push_back(suffix + ch);
    }
    suffixes = std::move(longer);
  }
  EXPECT_EQ(checked, 21845u);  // 4^0 + ... + 4^7
}

TEST(LockNamespace, CreateGetSetListDelete) {
  Harness h;
  const SessionId s = h.open();
  const ApplyOutcome& created = h.run(s, Create{p("/a"), b("one")});
  ASSERT_EQ(created.result.code, Code::ok);
  EXPECT_EQ(std::get<NodeCreated>(created.result.value).path, p("/a"));
  h.create_ok(s, p("/a/y"));
  h.create_ok(s, p("/a/x"));

  Result got = h.run(s, Get{p("/a")}).result;
  ASSERT_EQ(got.code, Code::ok);
  EXPECT_EQ(std::get<NodeData>(got.value).content, b("one"));
  EXPECT_EQ(std::get<NodeData>(got.value).stat.children, 2u);

  ASSERT_EQ(h.code(s, Set{p("/a"), b("two"), std::nullopt}), Code::ok);
  got = h.run(s, Get{p("/a")}).result;
  EXPECT_EQ(std::get<NodeData>(got.value).content, b("two"));
  EXPECT_EQ(std::get<NodeData>(got.value).stat.version, 1u);

  const Result listed = h.run(s, List{p("/a")}).result;
  ASSERT_EQ(listed.code, Code::ok);
  EXPECT_EQ(std::get<Children>(listed.value).names, (std::vector<std::string>{"x", "y"}));

  EXPECT_EQ(h.code(s, Delete{p("/a/x"), std::nullopt}), Code::ok);
  EXPECT_EQ(h.code(s, Get{p("/a/x")}), Code::no_node);
  EXPECT_EQ(std::get<Children>(h.run(s, List{p("/a")}).result.value).names,
            (std::vector<std::string>{"y"}));
}

TEST(LockNamespace, StatCountsVersionsAndRevisions) {
  Harness h;
  const SessionId s = h.open();
  const Stat at_create = std::get<NodeCreated>(h.run(s, Create{p("/a"), b("x")}).result.value).stat;
  EXPECT_EQ(at_create.version, 0u);
  EXPECT_EQ(at_create.created, at_create.modified);
  EXPECT_EQ(at_create.content_bytes, 1u);
  const Stat after_set =
      std::get<NodeStat>(h.run(s, Set{p("/a"), b("xyz"), std::nullopt}).result.value).stat;
  EXPECT_EQ(after_set.version, 1u);
  EXPECT_EQ(after_set.created, at_create.created);
  EXPECT_GT(after_set.modified, at_create.modified);
  EXPECT_EQ(after_set.content_bytes, 3u);
  h.create_ok(s, p("/a/c"));
  const Stat parent = std::get<NodeData>(h.run(s, Get{p("/a")}).result.value).stat;
  EXPECT_EQ(parent.children_version, 1u);
  EXPECT_EQ(parent.version, 1u);  // a child does not change the content version
}

TEST(LockNamespace, InvalidPathsAreRejectedByEveryCommand) {
  Harness h;
  const SessionId s = h.open();
  for (const std::string bad : {"/ls/other/a", "/ls/local/a/", "/ls/local/a b", "relative"}) {
    EXPECT_EQ(h.code(s, Create{bad, {}}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, Delete{bad, std::nullopt}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, Get{bad}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, Set{bad, {}, std::nullopt}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, List{bad}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, Acquire{bad, LockMode::exclusive, false}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, Release{bad}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, Campaign{bad, {}}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, Resign{bad}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, Observe{bad}), Code::invalid_path) << bad;
    EXPECT_EQ(h.code(s, CheckSequencer{Sequencer{bad, LockMode::exclusive, 1}}),
              Code::invalid_path);
    EXPECT_EQ(h.code(s, Watch{1, bad, false, kWatchableKinds, {}}), Code::invalid_path) << bad;
  }
}

TEST(LockNamespace, CellRootExistsAndCannotBeCreatedOrDeleted) {
  Harness h;
  const SessionId s = h.open();
  EXPECT_EQ(h.code(s, Get{p("")}), Code::ok);
  EXPECT_EQ(h.code(s, Create{p(""), {}}), Code::invalid_path);
  EXPECT_EQ(h.code(s, Delete{p(""), std::nullopt}), Code::invalid_path);
}

TEST(LockNamespace, OversizedContentIsRejected) {
  Harness h;  // content_bytes_max = 16
  const SessionId s = h.open();
  const std::string limit(16, 'x');
  EXPECT_EQ(h.code(s, Create{p("/a"), b(limit + "y")}), Code::content_too_large);
  EXPECT_EQ(h.code(s, Get{p("/a")}), Code::no_node);
  h.create_ok(s, p("/a"), limit);
  EXPECT_EQ(h.code(s, Set{p("/a"), b(limit + "y"), std::nullopt}), Code::content_too_large);
  EXPECT_EQ(std::get<NodeData>(h.run(s, Get{p("/a")}).result.value).content, b(limit));
}

TEST(LockNamespace, CreateOfExistingNodeIsNodeExists) {
  Harness h;
  const SessionId s = h.open();
  h.create_ok(s, p("/a"), "first");
  EXPECT_EQ(h.code(s, Create{p("/a"), b("second")}), Code::node_exists);
  EXPECT_EQ(std::get<NodeData>(h.run(s, Get{p("/a")}).result.value).content, b("first"));
}

TEST(LockNamespace, CreateWithoutParentIsNoParent) {
  Harness h;
  const SessionId s = h.open();
  EXPECT_EQ(h.code(s, Create{p("/a/b"), {}}), Code::no_parent);
}

TEST(LockNamespace, MissingNodeIsNoNode) {
  Harness h;
  const SessionId s = h.open();
  EXPECT_EQ(h.code(s, Get{p("/none")}), Code::no_node);
  EXPECT_EQ(h.code(s, Set{p("/none"), {}, std::nullopt}), Code::no_node);
  EXPECT_EQ(h.code(s, Delete{p("/none"), std::nullopt}), Code::no_node);
  EXPECT_EQ(h.code(s, List{p("/none")}), Code::no_node);
  EXPECT_EQ(h.code(s, Acquire{p("/none"), LockMode::exclusive, true}), Code::no_node);
  EXPECT_EQ(h.code(s, Release{p("/none")}), Code::no_node);
  EXPECT_EQ(h.code(s, Campaign{p("/none"), {}}), Code::no_node);
  EXPECT_EQ(h.code(s, Observe{p("/none")}), Code::no_node);
}

TEST(LockNamespace, DeleteOfNodeWithChildrenIsNotEmpty) {
  Harness h;
  const SessionId s = h.open();
  h.create_ok(s, p("/a"));
  h.create_ok(s, p("/a/b"));
  EXPECT_EQ(h.code(s, Delete{p("/a"), std::nullopt}), Code::not_empty);
  EXPECT_EQ(h.code(s, Get{p("/a/b")}), Code::ok);
}

TEST(LockNamespace, DeleteOfLockedNodeIsNodeBusy) {
  Harness h;
  h.begin_leadership(1);
  const SessionId s = h.open();
  const SessionId t = h.open();
  h.create_ok(s, p("/held"));
  h.create_ok(s, p("/delayed"));
  // Held (and so possibly waited for: a queue never stands before a free lock).
  h.acquire_ok(t, p("/held"), LockMode::shared);
  EXPECT_EQ(h.code(s, Delete{p("/held"), std::nullopt}), Code::node_busy);
  EXPECT_EQ(h.code(t, Release{p("/held")}), Code::ok);
  EXPECT_EQ(h.code(s, Delete{p("/held"), std::nullopt}), Code::ok);

  // In lock-delay: deleting (and re-creating) would end the delay early.
  h.acquire_ok(t, p("/delayed"));
  ASSERT_EQ(h.expire(t).result.code, Code::ok);
  EXPECT_EQ(h.code(s, Delete{p("/delayed"), std::nullopt}), Code::node_busy);
  ASSERT_EQ(h.end_delay(p("/delayed")).result.code, Code::ok);
  EXPECT_EQ(h.code(s, Delete{p("/delayed"), std::nullopt}), Code::ok);
}

TEST(LockNamespace, ConditionalSetComparesTheVersion) {
  Harness h;
  const SessionId s = h.open();
  const SessionId t = h.open();
  h.create_ok(s, p("/cfg"), "v0");
  // Both read version 0; the first CAS wins, the second sees version_mismatch (ZooKeeper's
  // setData(path, data, version)).
  EXPECT_EQ(h.code(s, Set{p("/cfg"), b("from-s"), 0}), Code::ok);
  EXPECT_EQ(h.code(t, Set{p("/cfg"), b("from-t"), 0}), Code::version_mismatch);
  const NodeData now = std::get<NodeData>(h.run(t, Get{p("/cfg")}).result.value);
  EXPECT_EQ(now.content, b("from-s"));
  EXPECT_EQ(now.stat.version, 1u);
  EXPECT_EQ(h.code(t, Set{p("/cfg"), b("from-t"), 1}), Code::ok);
}

TEST(LockNamespace, ConditionalDeleteComparesTheVersion) {
  Harness h;
  const SessionId s = h.open();
  h.create_ok(s, p("/a"));
  ASSERT_EQ(h.code(s, Set{p("/a"), b("x"), std::nullopt}), Code::ok);
  EXPECT_EQ(h.code(s, Delete{p("/a"), 0}), Code::version_mismatch);
  EXPECT_EQ(h.code(s, Get{p("/a")}), Code::ok);
  EXPECT_EQ(h.code(s, Delete{p("/a"), 1}), Code::ok);
  EXPECT_EQ(h.code(s, Get{p("/a")}), Code::no_node);
}

TEST(LockNamespace, EphemeralNodeCannotHaveChildren) {
  Harness h;
  const SessionId s = h.open();
  ASSERT_EQ(h.code(s, Create{p("/e"), {}, true, false}), Code::ok);
  EXPECT_EQ(h.code(s, Create{p("/e/child"), {}}), Code::ephemeral_parent);
  EXPECT_EQ(std::get<NodeData>(h.run(s, Get{p("/e")}).result.value).stat.ephemeral_owner, s);
}

TEST(LockNamespace, SequentialNodesGetAnIncreasingTenDigitSuffixPerParent) {
  Harness h;
  const SessionId s = h.open();
  h.create_ok(s, p("/q"));
  h.create_ok(s, p("/r"));
  auto create_seq = [&](const std::string& prefix) {
    const Result r = h.run(s, Create{prefix, {}, false, true}).result;
    EXPECT_EQ(r.code, Code::ok);
    return std::get<NodeCreated>(r.value).path;
  };
  EXPECT_EQ(create_seq(p("/q/job-")), p("/q/job-0000000000"));
  EXPECT_EQ(create_seq(p("/q/job-")), p("/q/job-0000000001"));
  EXPECT_EQ(create_seq(p("/q/other-")), p("/q/other-0000000002"));  // one counter per parent
  EXPECT_EQ(create_seq(p("/r/job-")), p("/r/job-0000000000"));
  // Numbers are not reused after a delete.
  ASSERT_EQ(h.code(s, Delete{p("/q/other-0000000002"), std::nullopt}), Code::ok);
  EXPECT_EQ(create_seq(p("/q/job-")), p("/q/job-0000000003"));
}

TEST(LockNamespace, SequentialCreateMovesPastANameTakenByHand) {
  Harness h;
  const SessionId s = h.open();
  h.create_ok(s, p("/q"));
  h.create_ok(s, p("/q/n0000000000"));
  EXPECT_EQ(h.code(s, Create{p("/q/n"), {}, false, true}), Code::node_exists);
  const Result r = h.run(s, Create{p("/q/n"), {}, false, true}).result;
  ASSERT_EQ(r.code, Code::ok);
  EXPECT_EQ(std::get<NodeCreated>(r.value).path, p("/q/n0000000001"));
}

TEST(LockNamespace, SequentialNameOverThePathLimitIsInvalidPath) {
  LockConfig c = test_config();
  c.path_bytes_max = 20;
  Harness h(c);
  const SessionId s = h.open();
  ASSERT_EQ(h.code(s, Create{p("/q"), {}}), Code::ok);  // "/ls/local/q": 11 bytes
  EXPECT_EQ(h.code(s, Create{p("/q/n"), {}, false, true}), Code::invalid_path);  // 23 bytes
}

TEST(LockNamespace, NodeCountIsBounded) {
  LockConfig c = test_config();
  c.nodes_max = 3;  // the root and two more
  Harness h(c);
  const SessionId s = h.open();
  h.create_ok(s, p("/a"));
  h.create_ok(s, p("/b"));
  EXPECT_EQ(h.code(s, Create{p("/c"), {}}), Code::limit_exceeded);
  EXPECT_EQ(h.sm.node_count(), 3u);
  ASSERT_EQ(h.code(s, Delete{p("/b"), std::nullopt}), Code::ok);
  h.create_ok(s, p("/c"));
}

}  // namespace
}  // namespace namespace_test
}  // namespace lockstep::service::lock::testing
