// What `lockstep lincheck` prints: the verdict of a linearizability check as text for people, as
// JSON for scripts, and, for a violation, an SVG timeline of the calls around the one that cannot
// be placed. Everything here depends only on its arguments, so the same check always gives the
// same bytes (the CLI adds the elapsed time to the text itself).
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "checkers/history.h"
#include "checkers/linearizability.h"
#include "checkers/models.h"

namespace lockstep::checkers {

struct LincheckReport {
  std::string file;    // as the user named it
  std::string format;  // "jepsen-etcd"
  ModelKind model = ModelKind::register_;
  const History* history = nullptr;
  const CheckResult* result = nullptr;
};

// The text report: what was read, the search effort, the verdict, and for a violation the call
// that cannot be placed, what it needed, the states it could have seen, the shortest illegal
// prefix and the calls around it.
void print_lincheck_text(std::ostream& out, const LincheckReport& report);

nlohmann::ordered_json lincheck_json(const LincheckReport& report);

// One call as JSON: the fields of the lockstep history format, with "call" and "return" on the
// history's time axis (nanoseconds, or line numbers; "return" null when open) and "origin".
nlohmann::ordered_json operation_json(const Operation& op);

// An SVG timeline of `violation`'s context: one row per process, one bar per call from its call to
// its return (open-ended for unknown outcomes), the call that cannot be placed in red, and the
// end of the shortest illegal prefix marked. The whole document, from "<svg" to "</svg>\n".
std::string render_violation_svg(const History& history, const Violation& violation,
                                 ModelKind model);

}  // namespace lockstep::checkers
