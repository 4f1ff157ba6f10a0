// What the protocols' cluster checkers (raft_checker.cc, paxos_checker.cc, zab_checker.cc) share.
#pragma once

#include <sstream>

#include "protocols/consensus.h"

namespace lockstep::consensus {

// A violation of `property` whose detail is `parts` streamed one after another.
template <typename... Parts>
Violation violation(const char* property, const Parts&... parts) {
  std::ostringstream detail;
  (detail << ... << parts);
  return Violation{property, detail.str()};
}

}  // namespace lockstep::consensus
