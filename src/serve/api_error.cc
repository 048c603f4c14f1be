// OpenAI-style error bodies (see api_error.h).
#include "serve/api_error.h"

#include <nlohmann/json.hpp>

namespace nlm::serve {

std::string error_body(const ApiError& e) {
  nlohmann::ordered_json err = {{"message", e.what()},
                                {"type", e.type},
                                {"param", e.param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.param)},
                                {"code", e.code.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.code)}};
  return nlohmann::ordered_json{{"error", err}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace nlm::serve
