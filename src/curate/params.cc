// Rendering of step options as text and JSON from their visit() lists.
#include "curate/params.h"

#include <nlohmann/json.hpp>

namespace nlm::curate {

namespace {
class JsonVisitor : public ParamVisitor {
 public:
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  void on(const char* n, double& v, const char*) override { j[n] = v; }
  void on(const char* n, int64_t& v, const char*) override { j[n] = v; }
  void on(const char* n, bool& v, const char*) override { j[n] = v; }
  void on(const char* n, std::string& v, const char*) override { j[n] = v; }
  void on(const char* n, std::vector<std::string>& v, const char*) override { j[n] = v; }
};

class TextVisitor : public ParamVisitor {
 public:
  explicit TextVisitor(std::string indent) : indent_(std::move(indent)) {}
  std::string out;
  void on(const char* n, double& v, const char* h) override { line(n, nlohmann::json(v).dump(), h); }
  void on(const char* n, int64_t& v, const char* h) override { line(n, std::to_string(v), h); }
  void on(const char* n, bool& v, const char* h) override { line(n, v ? "true" : "false", h); }
  void on(const char* n, std::string& v, const char* h) override {
    line(n, nlohmann::json(v).dump(), h);
  }
  void on(const char* n, std::vector<std::string>& v, const char* h) override {
    line(n, nlohmann::json(v).dump(), h);
  }

 private:
  void line(const char* name, const std::string& value, const char* help) {
    out += indent_ + name + ": " + value + "  # " + help + "\n";
  }
  std::string indent_;
};
}  // namespace

std::string describe_params(const VisitFn& visit, const std::string& indent) {
  TextVisitor v(indent);
  visit(v);
  return v.out;
}

std::string params_to_json(const VisitFn& visit) {
  JsonVisitor v;
  visit(v);
  return v.j.dump();
}

}  // namespace nlm::curate
