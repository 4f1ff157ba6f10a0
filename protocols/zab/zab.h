// The Zab module's entry points for the harness: a replica and its cluster checker.
// The algorithm is described in zab_replica.h; its invariants in zab_checker.h; message and record
// formats in zab_messages.h; tunables and bug switches in zab_config.h.
#pragma once

#include "protocols/zab/zab_checker.h"
#include "protocols/zab/zab_config.h"
#include "protocols/zab/zab_replica.h"
