// The chain of curation steps and its configuration. ChainConfig is the one source of truth for
// what `curate` does: the CLI flags, the YAML config file and a pipeline's curate stage
// (config.h) all fill it through the steps' declare() functions, and its JSON form goes into
// manifests so a change of any option reruns the shards it affects.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "curate/doc_context.h"
#include "curate/html_extract.h"
#include "curate/lid.h"
#include "curate/normalize.h"
#include "curate/pii.h"
#include "curate/profiles.h"
#include "curate/quality.h"
#include "curate/step.h"

namespace nlm::curate {

// Every step kind, in a sensible default order:
//   normalize, lid, c4, gopher_quality, gopher_repetition, fineweb, nemo, quality, pii.
const std::vector<std::string>& known_steps();
bool is_filter_step(const std::string& step);  // thresholds live in the profiles

struct ChainConfig {
  // The steps to run, in order; each kind at most once. The default is the default
  // chain: normalise, language ID, Gopher quality and repetition, FineWeb, PII.
  std::vector<std::string> steps = {"normalize", "lid", "gopher_quality", "gopher_repetition",
                                    "fineweb", "pii"};
  NormalizeOptions normalize;
  LidOptions lid;
  PiiOptions pii;
  // The fastText quality classifier (quality.h); only validated when "quality" is in steps.
  QualityOptions quality;
  // Filter thresholds per language; see profiles.h.
  ProfileMap profiles = builtin_profiles();
  // HTML main-text extraction of WARC responses (before the steps run).
  HtmlOptions html;

  // Throws an opt::OptionError for key "steps" on an unknown or repeated step.
  void validate() const;
  // The steps in use and their options, each step's object from its declaration (for manifests
  // and report.json): {"steps", "html", "normalize"/"lid"/"pii" when in the chain, "profiles"
  // with each profile's filter steps in the chain}.
  std::string to_json() const;
};

// Declares the options of a non-filter step ("normalize", "lid", "quality", "pii") of `config`, or of its
// HTML extraction ("html"); false when `name` is none of these.
bool declare_step(opt::Schema& schema, ChainConfig& config, const std::string& name);

// Every step and option with its default, from the declarations (for `curate --list-steps`).
std::string describe_steps();

// One chain per worker thread: steps hold per-thread state (ICU iterators, buffers).
class Chain {
 public:
  explicit Chain(const ChainConfig& config);
  ~Chain();
  // Runs the steps over `doc`, editing it; returns the first rejection, or nullopt if kept.
  std::optional<Rejection> run(corpus::Document& doc);
  // Index into config.steps of the step that made the last rejection.
  size_t last_step() const { return last_step_; }
  const std::vector<std::string>& step_names() const { return names_; }
  Counters& counters() { return ctx_.counters(); }
  DocContext& context() { return ctx_; }

 private:
  std::vector<std::unique_ptr<Step>> steps_;
  std::vector<std::string> names_;
  ProfileMap profiles_;  // a copy, so the chain does not depend on the config's lifetime
  DocContext ctx_;
  size_t last_step_ = 0;
};

}  // namespace nlm::curate
