#include "service/lock/lock_commands.h"

namespace lockstep::service::lock {

bool is_read(const Command& command) {
  return std::holds_alternative<Get>(command) || std::holds_alternative<List>(command) ||
         std::holds_alternative<Observe>(command) ||
         std::holds_alternative<CheckSequencer>(command);
}

bool is_leader_command(const Command& command) {
  return std::holds_alternative<BeginLeadership>(command) ||
         std::holds_alternative<ExpireSession>(command) ||
         std::holds_alternative<EndLockDelay>(command);
}

std::string_view command_name(const Command& command) {
  static constexpr std::string_view kNames[] = {"open_session",
                                                "keep_alive",
                                                "close_session",
                                                "create",
                                                "delete",
                                                "get",
                                                "set",
                                                "list",
                                                "acquire",
                                                "release",
                                                "check_sequencer",
                                                "campaign",
                                                "resign",
                                                "observe",
                                                "watch",
                                                "unwatch",
                                                "begin_leadership",
                                                "expire_session",
                                                "end_lock_delay"};
  static_assert(std::size(kNames) == std::variant_size_v<Command>);
  return kNames[command.index()];
}

}  // namespace lockstep::service::lock
