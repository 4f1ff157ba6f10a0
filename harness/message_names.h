// Short names for the messages of a run, for message-sequence diagrams: the protocol's message
// type for peer traffic ("AppendEntries", "Promise", "Proposal"), the client envelope otherwise
// ("request", "reply not_leader", "notify"). Decoding uses each protocol's public codec, so a
// name is never guessed from bytes that do not decode.
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.h"

namespace lockstep::harness {

// `payload` is a whole message as the world carries it (envelope byte first). Returns "message"
// for bytes no codec of `protocol` accepts (the protected resource's own traffic, say).
std::string describe_message(std::string_view protocol, ByteView payload);

}  // namespace lockstep::harness
