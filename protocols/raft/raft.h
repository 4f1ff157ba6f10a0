// The Raft module's entry points for the harness: a replica and its cluster checker.
// The algorithm is described in raft_replica.h; its invariants in raft_checker.h; message and
// record formats in raft_messages.h; tunables in raft_config.h.
#pragma once

#include "protocols/raft/raft_checker.h"
#include "protocols/raft/raft_config.h"
#include "protocols/raft/raft_replica.h"
