// A Graphviz message-sequence diagram of a run's last events (RunTimeline::window): one vertical
// lane per node, time flowing down, one row per event; each message an arrow from the row of its
// send to the row of its delivery, labelled with its type; drops end in a red bar, faults are
// written in red beside the row they happened in. Written as DOT text; `render_dot` turns it into
// SVG when Graphviz's `dot` is installed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "harness/run_timeline.h"

namespace lockstep::reports {

// The diagram of `timeline.window`; `title` heads it. Deterministic: the same window gives the
// same text.
std::string message_sequence_dot(const harness::RunTimeline& timeline, std::string_view title);

// Whether `dot` can be run (asked once per process).
bool dot_available();

// Runs `dot -Tsvg` on `dot_file`, writing `svg_file`. Returns an error message when dot is not
// available or fails.
std::optional<std::string> render_dot(const std::filesystem::path& dot_file,
                                      const std::filesystem::path& svg_file);

}  // namespace lockstep::reports
