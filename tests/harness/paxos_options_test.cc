// The paxos block of a scenario's protocol_options (protocols/paxos/README.md): every field is
// read, unknown fields and bad values are errors that point into the file, and the combination is
// validated.
#include <gtest/gtest.h>

#include "harness/protocols.h"
#include "protocols/paxos/paxos.h"

namespace lockstep::harness {
namespace paxos_options_test {
namespace {

JsonResult<ReplicaMaker> configure(const nlohmann::json& block) {
  const ProtocolOptions options{block, "/protocol_options/paxos"};
  return find_protocol("paxos")->configure(&options);
}

paxos::PaxosConfig config_of(const JsonResult<ReplicaMaker>& made) {
  const auto replica = std::get<ReplicaMaker>(made)(NodeId{0}, {NodeId{0}}, 1);
  return dynamic_cast<const paxos::PaxosReplica&>(*replica).config();
}

std::string error_of(const JsonResult<ReplicaMaker>& made) {
  if (const auto* e = std::get_if<JsonError>(&made)) return e->to_string();
  return "(no error)";
}

TEST(PaxosOptions, RegisteredWithDefaultsAndAChecker) {
  const ProtocolModule* module = find_protocol("paxos");
  ASSERT_NE(module, nullptr);
  const auto made = module->configure(nullptr);
  ASSERT_TRUE(std::holds_alternative<ReplicaMaker>(made));
  const paxos::PaxosConfig c = config_of(made);
  EXPECT_EQ(c.election_timeout_min, milliseconds(150));
  EXPECT_TRUE(c.master_lease);
  EXPECT_TRUE(c.ballot_boost);
  EXPECT_FALSE(c.lease_reads);
  EXPECT_FALSE(module->make_checker()->properties().empty());
}

TEST(PaxosOptions, ReadsEveryField) {
  const auto made = configure({{"election_timeout_min", "200ms"},
                               {"election_timeout_max", "1s"},
                               {"heartbeat_interval", "20ms"},
                               {"master_lease", true},
                               {"ballot_boost", false},
                               {"lease_reads", true},
                               {"lease_clock_drift_bound", "5ms"},
                               {"max_slots_per_accept", 8},
                               {"max_inflight_accepts", 4},
                               {"max_unchosen_slots", 100}});
  ASSERT_TRUE(std::holds_alternative<ReplicaMaker>(made)) << error_of(made);
  const paxos::PaxosConfig c = config_of(made);
  EXPECT_EQ(c.election_timeout_min, milliseconds(200));
  EXPECT_EQ(c.election_timeout_max, seconds(1));
  EXPECT_EQ(c.heartbeat_interval, milliseconds(20));
  EXPECT_FALSE(c.ballot_boost);
  EXPECT_TRUE(c.lease_reads);
  EXPECT_EQ(c.lease_clock_drift_bound, milliseconds(5));
  EXPECT_EQ(c.max_slots_per_accept, 8u);
  EXPECT_EQ(c.max_inflight_accepts, 4u);
  EXPECT_EQ(c.max_unchosen_slots, 100u);
}

TEST(PaxosOptions, BadBlocksArePreciseErrors) {
  EXPECT_EQ(error_of(configure({{"prevote", true}})).rfind("/protocol_options/paxos", 0), 0u)
      << error_of(configure({{"prevote", true}}));
  EXPECT_NE(error_of(configure({{"prevote", true}})).find("prevote"), std::string::npos);
  EXPECT_NE(error_of(configure({{"election_timeout_min", 150}})).find("election_timeout_min"),
            std::string::npos);
  EXPECT_NE(error_of(configure({{"max_slots_per_accept", 0}})).find("max_slots_per_accept"),
            std::string::npos);
  EXPECT_NE(error_of(configure({{"master_lease", false}})).find("ballot_boost requires master_lease"),
            std::string::npos);
  EXPECT_NE(error_of(configure({{"master_lease", false}, {"ballot_boost", false},
                                {"lease_reads", true}}))
                .find("lease_reads requires master_lease"),
            std::string::npos);
  EXPECT_NE(error_of(configure({{"election_timeout_min", "300ms"}, {"election_timeout_max", "200ms"}}))
                .find("election_timeout_max"),
            std::string::npos);
  EXPECT_TRUE(std::holds_alternative<ReplicaMaker>(
      configure({{"master_lease", false}, {"ballot_boost", false}})));
}

}  // namespace
}  // namespace paxos_options_test
}  // namespace lockstep::harness
