// Step construction from ChainConfig, and the filter steps that read their thresholds from the
// document's language profile.
#include "curate/chain.h"

#include <algorithm>
#include <set>

#include "core/error.h"
#include "core/json_escape.h"
#include "core/options.h"

namespace nlm::curate {

const std::vector<std::string>& known_steps() {
  static const std::vector<std::string> steps = {"normalize", "lid", "c4", "gopher_quality",
                                                 "gopher_repetition", "fineweb", "nemo", "quality", "pii"};
  return steps;
}

bool is_filter_step(const std::string& s) {
  return s == "gopher_quality" || s == "gopher_repetition" || s == "c4" || s == "fineweb" ||
         s == "nemo";
}

void ChainConfig::validate() const {
  std::set<std::string> seen;
  for (const auto& s : steps) {
    if (std::find(known_steps().begin(), known_steps().end(), s) == known_steps().end())
      opt::fail("steps", "has unknown curate step '" + s + "'", "see 'nativelm curate --list-steps'");
    if (!seen.insert(s).second) opt::fail("steps", "lists step '" + s + "' twice", "list each step once");
  }
  if (!profiles.count("default"))
    opt::fail("profiles", "has no 'default' threshold profile", "do not remove 'default'");
  check_stopwords_option(html.stopwords);
}

bool declare_step(opt::Schema& s, ChainConfig& c, const std::string& name) {
  if (name == "normalize") declare(s, c.normalize);
  else if (name == "lid") declare(s, c.lid);
  else if (name == "pii") declare(s, c.pii);
  else if (name == "quality") declare(s, c.quality);
  else if (name == "html") declare(s, c.html);
  else return false;
  return true;
}

std::string ChainConfig::to_json() const {
  ChainConfig copy = *this;  // schemas bind to mutable fields
  auto json_of_step = [&copy](const std::string& name) {
    opt::Schema s(name);
    declare_step(s, copy, name);
    return s.to_json();
  };
  std::string list = "[";
  for (size_t i = 0; i < steps.size(); ++i) list += (i ? "," : "") + json_quote(steps[i]);
  std::string j = opt::with_member("{}", "steps", list + "]");
  j = opt::with_member(j, "html", json_of_step("html"));
  bool any_filter = false;
  for (const auto& s : steps) {
    if (is_filter_step(s)) any_filter = true;
    else j = opt::with_member(j, s, json_of_step(s));
  }
  if (any_filter) {
    std::string all = "{}";
    for (auto& [name, profile] : copy.profiles) {
      std::string one = "{}";
      for (const auto& s : steps) {
        opt::Schema schema(s);
        if (declare_filter(schema, profile, s)) one = opt::with_member(one, s, schema.to_json());
      }
      all = opt::with_member(all, name, one);
    }
    j = opt::with_member(j, "profiles", all);
  }
  return j;
}

namespace {
// "    key: default  # doc (bounds)" for each field.
std::string describe(const opt::Schema& s, const std::string& indent) {
  std::string out;
  for (const auto& f : s.fields()) {
    std::string doc = f.doc;
    auto num = [&f](double v) { return f.type == opt::Type::Real ? opt::real_text(v) : std::to_string(static_cast<int64_t>(v)); };
    if (f.lo && f.hi) doc += " (" + num(*f.lo) + " to " + num(*f.hi) + ")";
    else if (f.lo) doc += " (at least " + num(*f.lo) + ")";
    if (f.type == opt::Type::Choice) doc += " (" + f.type_name + ")";
    out += indent + f.key + ": " + (f.json ? f.json() : json_quote(f.text())) + "  # " + doc + "\n";
  }
  return out;
}
}  // namespace

std::string describe_steps() {
  std::string out =
      "Steps (run in the order given; the default chain is normalize, lid, gopher_quality,\n"
      "gopher_repetition, fineweb, pii). Options and defaults:\n";
  Profile defaults;
  ChainConfig config;
  for (const auto& s : known_steps()) {
    out += "- " + s + ":\n";
    opt::Schema schema(s);
    if (!declare_step(schema, config, s)) declare_filter(schema, defaults, s);
    out += describe(schema, "    ");
  }
  out += "- html (extraction of WARC HTML responses, before the steps):\n";
  opt::Schema html("html");
  declare_step(html, config, "html");
  out += describe(html, "    ");
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
    else if (s == "quality") steps_.push_back(std::make_unique<QualityStep>(config.quality));
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
