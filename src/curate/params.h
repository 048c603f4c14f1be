// One description of every option of a curation step, so the YAML config reader, the manifest's
// options JSON (which decides reruns) and `curate --list-steps` all come from the same place as
// the struct that declares the defaults. An options struct lists its fields in visit().
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace nlm::curate {

class ParamVisitor {
 public:
  virtual ~ParamVisitor() = default;
  virtual void on(const char* name, double& value, const char* help) = 0;
  virtual void on(const char* name, int64_t& value, const char* help) = 0;
  virtual void on(const char* name, bool& value, const char* help) = 0;
  virtual void on(const char* name, std::string& value, const char* help) = 0;
  virtual void on(const char* name, std::vector<std::string>& value, const char* help) = 0;
};

using VisitFn = std::function<void(ParamVisitor&)>;

// "name: value  # help" lines, one per option, each starting with `indent` (for --list-steps).
std::string describe_params(const VisitFn& visit, const std::string& indent);
// The options as a JSON object in declaration order (for manifests and report.json).
std::string params_to_json(const VisitFn& visit);

}  // namespace nlm::curate
