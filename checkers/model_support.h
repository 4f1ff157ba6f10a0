// Small helpers the model files share for checking operations' shapes.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "checkers/models.h"

namespace lockstep::checkers::model_support {

inline bool is_string(const Value& v) { return std::holds_alternative<std::string>(v); }
inline bool is_nil(const Value& v) { return std::holds_alternative<std::monostate>(v); }

inline std::optional<OperationProblem> problem(std::string field, std::string expected) {
  return OperationProblem{std::move(field), std::move(expected)};
}

}  // namespace lockstep::checkers::model_support
