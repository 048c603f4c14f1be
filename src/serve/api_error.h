// An error answered to an HTTP client in OpenAI's shape:
// {"error": {"message", "type", "param", "code"}} with its HTTP status. Handlers throw it; the
// server turns it into the response, so bad input never escapes as a crash or a 500.
#pragma once
#include <stdexcept>
#include <string>

namespace nlm::serve {

struct ApiError : std::runtime_error {
  int status;         // 400, 401, 404, 413, 429, ...
  std::string type;   // "invalid_request_error", "authentication_error", ...
  std::string param;  // the offending request field, "" when none
  std::string code;   // machine-readable code, "" when none
  ApiError(int status, std::string message, std::string param = {}, std::string code = {},
           std::string type = "invalid_request_error")
      : std::runtime_error(std::move(message)), status(status), type(std::move(type)), param(std::move(param)),
        code(std::move(code)) {}
};

// The JSON body for an error (message cleaned of control bytes, invalid UTF-8 replaced).
std::string error_body(const ApiError& e);

}  // namespace nlm::serve
