// The Multi-Paxos module's entry points for the harness: a replica and its cluster checker.
// The algorithm is described in paxos_replica.h; its invariants in paxos_checker.h; message and
// record formats in paxos_messages.h; tunables in paxos_config.h.
#pragma once

#include "protocols/paxos/paxos_checker.h"
#include "protocols/paxos/paxos_config.h"
#include "protocols/paxos/paxos_replica.h"
