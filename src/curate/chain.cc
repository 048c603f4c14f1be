// Step construction from ChainConfig, and the filter steps that read their thresholds from the
// document's language profile.
#include "curate/chain.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"

namespace nlm::curate {

const std::vector<std::string>& known_steps() {
  static const std::vector<std::string> steps = {"normalize", "lid", "c4", "gopher_quality",
                                                 "gopher_repetition", "fineweb", "nemo", "pii"};
  return steps;
}

bool is_filter_step(const std::string& s) {
  return s == "gopher_quality" || s == "gopher_repetition" || s == "c4" || s == "fineweb" ||
         s == "nemo";
}

void ChainConfig::validate(const std::string& where) const {
  std::set<std::string> seen;
  for (const auto& s : steps) {
    if (std::find(known_steps().begin(), known_steps().end(), s) == known_steps().end())
      usage_error("unknown curate step '" + s + "'", where,
                  "see 'nativelm curate --list-steps'");
    if (!seen.insert(s).second)
      usage_error("step '" + s + "' appears twice", where, "list each step once");
  }
  if (!profiles.count("default"))
    usage_error("no 'default' threshold profile", where, "do not remove 'default'");
}

std::string ChainConfig::to_json() const {
  using nlohmann::ordered_json;
  ordered_json j;
  j["steps"] = steps;
  auto opts = [](auto o) {
    return ordered_json::parse(params_to_json([&](ParamVisitor& v) { o.visit(v); }));
  };
  j["html"] = opts(html);
  bool any_filter = false;
  for (const auto& s : steps) {
    if (s == "normalize") j["normalize"] = opts(normalize);
    else if (s == "lid") j["lid"] = opts(lid);
    else if (s == "pii") j["pii"] = opts(pii);
    else any_filter = true;
  }
  if (any_filter) {
    ordered_json p = ordered_json::object();
    for (const auto& [name, profile] : profiles) {
      ordered_json one = ordered_json::object();
      for (const auto& s : steps) {
        if (!is_filter_step(s)) continue;
        Profile copy = profile;
        one[s] = ordered_json::parse(params_to_json([&](ParamVisitor& v) { copy.visit_step(s, v); }));
      }
      p[name] = one;
    }
    j["profiles"] = p;
  }
  return j.dump();
}

std::string describe_steps() {
  std::string out =
      "Steps (run in the order given; the default chain is normalize, lid, gopher_quality,\n"
      "gopher_repetition, fineweb, pii). Options and defaults:\n";
  Profile defaults;
  ChainConfig config;
  for (const auto& s : known_steps()) {
    out += "- " + s + ":\n";
    if (s == "normalize")
      out += describe_params([&](ParamVisitor& v) { config.normalize.visit(v); }, "    ");
    else if (s == "lid")
      out += describe_params([&](ParamVisitor& v) { config.lid.visit(v); }, "    ");
    else if (s == "pii")
      out += describe_params([&](ParamVisitor& v) { config.pii.visit(v); }, "    ");
    else
      out += describe_params([&](ParamVisitor& v) { defaults.visit_step(s, v); }, "    ");
  }
  out += "- html (extraction of WARC HTML responses, before the steps):\n";
  out += describe_params([&](ParamVisitor& v) { config.html.visit(v); }, "    ");
  out += "Threshold profiles (filter steps): ";
  for (const auto& [name, p] : config.profiles) out += name + " ";
  out += "\n";
  return out;
}

namespace {
class GopherQualityStep : public Step {
 public:
  std::string_view name() const override { return "gopher_quality"; }
  std::optional<Rejection> apply(corpus::Document&, DocContext& ctx) override {
    return impl_.check(ctx, ctx.profile().gopher_quality);
  }

 private:
  GopherQuality impl_;
};

class GopherRepetitionStep : public Step {
 public:
  std::string_view name() const override { return "gopher_repetition"; }
  std::optional<Rejection> apply(corpus::Document&, DocContext& ctx) override {
    return impl_.check(ctx, ctx.profile().gopher_repetition);
  }

 private:
  GopherRepetition impl_;
};

class FineWebStep : public Step {
 public:
  std::string_view name() const override { return "fineweb"; }
  std::optional<Rejection> apply(corpus::Document&, DocContext& ctx) override {
    return impl_.check(ctx, ctx.profile().fineweb);
  }

 private:
  FineWeb impl_;
};

class NemoStep : public Step {
 public:
  std::string_view name() const override { return "nemo"; }
  std::optional<Rejection> apply(corpus::Document&, DocContext& ctx) override {
    return nemo_check(ctx, ctx.profile().nemo);
  }
};

class C4Step : public Step {
 public:
  std::string_view name() const override { return "c4"; }
  std::optional<Rejection> apply(corpus::Document& doc, DocContext& ctx) override {
    return impl_.apply(doc, ctx, ctx.profile().c4);
  }

 private:
  C4Filter impl_;
};
}  // namespace

Chain::Chain(const ChainConfig& config) : profiles_(config.profiles), ctx_(profiles_) {
  config.validate();
  for (const auto& s : config.steps) {
    if (s == "normalize") steps_.push_back(std::make_unique<Normalize>(config.normalize));
    else if (s == "lid") steps_.push_back(std::make_unique<LanguageId>(config.lid));
    else if (s == "pii") steps_.push_back(std::make_unique<PiiStep>(config.pii));
    else if (s == "gopher_quality") steps_.push_back(std::make_unique<GopherQualityStep>());
    else if (s == "gopher_repetition") steps_.push_back(std::make_unique<GopherRepetitionStep>());
    else if (s == "fineweb") steps_.push_back(std::make_unique<FineWebStep>());
    else if (s == "c4") steps_.push_back(std::make_unique<C4Step>());
    else if (s == "nemo") steps_.push_back(std::make_unique<NemoStep>());
    names_.push_back(s);
  }
}

Chain::~Chain() = default;

std::optional<Rejection> Chain::run(corpus::Document& doc) {
  ctx_.reset(doc);
  for (size_t i = 0; i < steps_.size(); ++i) {
    if (auto r = steps_[i]->apply(doc, ctx_)) {
      last_step_ = i;
      return r;
    }
  }
  return std::nullopt;
}

}  // namespace nlm::curate
