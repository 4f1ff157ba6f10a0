// The protected resource (service/protected_resource.h): fencing rejects a request whose
// sequencer is older than the newest it has seen for that lock (Chubby §2.4); naive accepts
// everything; both report every request.
#include <gtest/gtest.h>

#include "service/protected_resource.h"
#include "sim/world.h"

namespace lockstep::service {
namespace protected_resource_test {
namespace {

lock::Sequencer seq(std::uint64_t generation, std::string path = "/ls/local/lock") {
  return lock::Sequencer{std::move(path), lock::LockMode::exclusive, generation};
}

struct Outcomes {
  std::vector<ResourceAccess> seen;
  std::vector<std::optional<ResourceReply>> replies;
};

// Runs `requests` one after another against a resource in `mode`.
Outcomes run(ResourceMode mode, std::vector<ResourceRequest> requests,
             sim::NetworkConfig network = {}) {
  Outcomes out;
  sim::WorldConfig config;
  config.network = network;
  sim::World world(config);
  const NodeId resource = world.add_node("resource", [&](NodeId) {
    return std::make_unique<ProtectedResource>(
        mode, [&](const ResourceAccess& a) { out.seen.push_back(a); });
  });
  world.add_node("client", [&](NodeId) {
    return std::make_unique<sim::FiberHost>(std::vector<sim::FiberBody>{[&](sim::FiberContext& f) {
      for (const ResourceRequest& r : requests) {
        out.replies.push_back(call_resource(f, resource, r, milliseconds(100)));
      }
    }});
  });
  world.run_until(seconds(1));
  return out;
}

ResourceRequest write(std::uint64_t id, std::uint64_t generation, std::uint64_t value,
                      std::string path = "/ls/local/lock") {
  return ResourceRequest{ResourceOp::write, id, 1, "k", seq(generation, std::move(path)), value};
}

TEST(Resource, FencingRejectsAStaleSequencerAndKeepsTheNewerWrite) {
  const Outcomes o = run(ResourceMode::fencing,
                         {write(1, 5, 10), write(2, 7, 20), write(3, 5, 30), write(4, 7, 40)});
  ASSERT_EQ(o.replies.size(), 4U);
  EXPECT_TRUE(o.replies[0]->accepted);
  EXPECT_TRUE(o.replies[1]->accepted);
  EXPECT_FALSE(o.replies[2]->accepted);  // generation 5 after 7: the stale holder
  EXPECT_EQ(o.replies[2]->value, 20U);
  EXPECT_EQ(o.replies[2]->newest_generation, 7U);
  EXPECT_TRUE(o.replies[3]->accepted);  // the same holder again
  EXPECT_EQ(o.replies[3]->value, 40U);
  ASSERT_EQ(o.seen.size(), 4U);
  EXPECT_FALSE(o.seen[2].accepted);
  EXPECT_EQ(o.seen[2].newest_before, 7U);
}

TEST(Resource, FencingServesReadsButTheyCountAsSeen) {
  const ResourceRequest stale_read{ResourceOp::read, 2, 1, "k", seq(3), 0};
  const Outcomes o = run(ResourceMode::fencing, {write(1, 5, 10), stale_read, write(3, 4, 20)});
  EXPECT_TRUE(o.replies[1]->accepted);
  EXPECT_EQ(o.replies[1]->value, 10U);
  EXPECT_FALSE(o.replies[2]->accepted);
}

TEST(Resource, FencingKeepsAGenerationPerLock) {
  const Outcomes o =
      run(ResourceMode::fencing, {write(1, 9, 1, "/ls/local/a"), write(2, 3, 2, "/ls/local/b")});
  EXPECT_TRUE(o.replies[0]->accepted);
  EXPECT_TRUE(o.replies[1]->accepted);
}

TEST(Resource, NaiveAcceptsTheStaleWriteButReportsWhatItHadSeen) {
  const Outcomes o = run(ResourceMode::naive, {write(1, 7, 20), write(2, 5, 30)});
  EXPECT_TRUE(o.replies[1]->accepted);
  EXPECT_EQ(o.replies[1]->value, 30U);
  ASSERT_EQ(o.seen.size(), 2U);
  EXPECT_TRUE(o.seen[1].accepted);
  EXPECT_EQ(o.seen[1].newest_before, 7U);
}

TEST(Resource, ACopyOfARequestIsAnsweredNotDoneAgain) {
  // Every message arrives twice, the copy up to 20ms later: a late copy of write 1 lands after
  // write 2. Done again, it would put 10 back (and count as a second write under generation 5).
  sim::NetworkConfig network;
  network.duplicate = 1.0;
  network.latency.kind = sim::LatencyDistribution::Kind::uniform;
  network.latency.min = microseconds(100);
  network.latency.max = milliseconds(20);
  const ResourceRequest read{ResourceOp::read, 3, 1, "k", seq(5), 0};
  for (ResourceMode mode : {ResourceMode::fencing, ResourceMode::naive}) {
    const Outcomes o = run(mode, {write(1, 5, 10), write(2, 5, 20), read}, network);
    ASSERT_EQ(o.replies.size(), 3U);
    EXPECT_EQ(o.replies[2]->value, 20U);
    ASSERT_EQ(o.seen.size(), 3U);  // each request reported once
    EXPECT_EQ(o.seen[0].request.id, 1U);
    EXPECT_EQ(o.seen[1].request.id, 2U);
  }
}

TEST(Resource, CodecRefusesTruncatedAndUnknownBytes) {
  const Bytes good = encode(write(1, 2, 3));
  ASSERT_TRUE(decode_resource_request(good).has_value());
  EXPECT_FALSE(decode_resource_request(ByteView(good).first(good.size() - 1)).has_value());
  Bytes bad_op = good;
  bad_op[1] = std::byte{9};
  EXPECT_FALSE(decode_resource_request(bad_op).has_value());
  EXPECT_FALSE(decode_resource_reply(good).has_value());
}

}  // namespace
}  // namespace protected_resource_test
}  // namespace lockstep::service
