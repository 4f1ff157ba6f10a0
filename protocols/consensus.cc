#include "protocols/consensus.h"

namespace lockstep::consensus {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::follower: return "follower";
    case Role::candidate: return "candidate";
    case Role::leader: return "leader";
  }
  return "?";
}

}  // namespace lockstep::consensus
