// `size: auto` (see auto_size.h): the plan options of a train run, the plan applied to its
// options with explicit keys kept, and plan.json, which lets a rerun or a resumed run reuse the
// plan instead of measuring the machine again (the CPU's sgemm peak moves from run to run, and
// with it the steps and learning rate).
#include "plan/auto_size.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_ints.h"
#include "data/token_shard.h"

namespace nlm::plan {

using nlohmann::json;

void declare(opt::Schema& s, AutoSizeOptions& o) {
  s.add("size", o.size,
        "auto = plan the model shape, batch, steps and learning rate from the plan.* budget, this stage's device "
        "and the tokenize stage's tokens (docs/plan.md); empty = the model.* shape as given");
  declare_budget(s, o.budget, "plan.",
                 "With device cuda: the GPU kind (a100, h100, h200, l40s, rtx4090) for its peak and memory; with "
                 "device cpu leave it out (this machine's CPU is measured)");
  s.check([&o] {
    if (o.size.empty()) {
      if (o.budget.hours > 0 || o.budget.gpu_hours > 0)
        opt::fail(o.budget.hours > 0 ? "plan.hours" : "plan.gpu_hours", "is set but size is not auto",
                  "add size: auto to plan the model from this budget, or remove the plan keys");
      return;
    }
    if (o.size != "auto")
      opt::fail("size", "must be auto or left out, got " + echoed(o.size),
                "write size: auto, or give the shape with the model.* keys");
    if (o.budget.hours <= 0 && o.budget.gpu_hours <= 0)
      opt::fail("plan.hours", "is required with size: auto", "give the budget, e.g. plan: {hours: 2}");
  });
}

PlanOptions plan_options_for(const AutoSizeOptions& a, const train::TrainOptions& t, const opt::Schema& given,
                             const std::string& data_dir, int64_t vocab) {
  PlanOptions p;
  static_cast<BudgetOptions&>(p) = a.budget;
  const bool cpu = t.device == "cpu";
  if (cpu) {
    if (given.given("plan.gpu") && a.budget.gpu != "cpu")
      opt::fail("plan.gpu", "is " + echoed(a.budget.gpu) + " but device is cpu",
                "leave plan.gpu out: the plan is made for the hardware this stage trains on");
    p.gpu = "cpu";
  } else {
    if (!given.given("plan.gpu") || a.budget.gpu == "cpu")
      opt::fail("plan.gpu", "must name the GPU kind with device " + t.device,
                "give one of a100, h100, h200, l40s, rtx4090");
    gpu_hardware(a.budget.gpu);  // an unknown kind is a usage error now, not after the earlier stages
  }
  p.gpus = 1;  // one train process, one device
  p.nodes = 1;
  p.data = data_dir;
  p.vocab_size = vocab;
  p.init_from = t.init_from;
  if (given.given("seq_len")) p.seq_len = t.seq_len;
  return p;
}

std::string plan_inputs_json(const PlanOptions& p, const std::vector<std::string>& train_shards) {
  uint64_t tokens = 0;
  for (const auto& f : train_shards) tokens += data::TokShardReader(f).size();
  return json{{"options", json::parse(opt::json_of(p))}, {"shards", train_shards}, {"tokens", tokens}}.dump();
}

std::vector<std::string> apply_plan(const Plan& plan, train::TrainOptions& t, const opt::Schema& given) {
  std::vector<std::string> kept;
  auto set = [&](const char* key, auto& field, auto value) {
    if (given.given(key)) kept.push_back(key);
    else field = static_cast<std::decay_t<decltype(field)>>(value);
  };
  if (t.init_from.empty()) {
    const auto& m = plan.shape;
    set("model.num_hidden_layers", t.model.num_hidden_layers, m.num_hidden_layers);
    set("model.hidden_size", t.model.hidden_size, m.hidden_size);
    set("model.num_attention_heads", t.model.num_attention_heads, m.num_attention_heads);
    set("model.num_key_value_heads", t.model.num_key_value_heads, m.num_key_value_heads);
    set("model.intermediate_size", t.model.intermediate_size, m.intermediate_size);
    set("model.tie_word_embeddings", t.model.tie_word_embeddings, m.tie_word_embeddings);
  }
  if (!given.given("seq_len")) t.seq_len = plan.seq_len;  // given, it was planned for (plan_options_for)
  if (t.init_from.empty())
    set("model.max_position_embeddings", t.model.max_position_embeddings, std::max<int64_t>(t.seq_len, plan.seq_len));
  set("batch_size", t.batch_size, plan.micro_batch);
  set("grad_accum", t.grad_accum, plan.grad_accum);
  set("steps", t.steps, plan.steps);
  set("recompute", t.recompute, plan.recompute);
  set("schedule.type", t.schedule.type, std::string("cosine"));
  set("schedule.lr", t.schedule.lr, plan.lr);
  set("schedule.min_lr", t.schedule.min_lr, plan.min_lr);
  set("schedule.warmup_steps", t.schedule.warmup_steps, plan.warmup_steps);
  return kept;
}

std::string auto_size_json(const AutoSize& a) {
  const Plan& p = a.plan;
  const auto& m = p.shape;
  json j = {{"inputs", json::parse(a.inputs)},
            {"text", a.text},
            {"explicit", a.explicit_keys},
            {"plan",
             {{"hardware", p.hw.name},
              {"peak_tflops", p.hw.peak_tflops},
              {"achieved_tflops", p.achieved_tflops},
              {"measured", !p.probes.empty()},
              {"hours", p.hours},
              {"dataset_tokens", p.dataset_tokens},
              {"binds", p.binds},
              {"binds_why", p.binds_why},
              {"shape",
               {{"num_hidden_layers", m.num_hidden_layers},
                {"hidden_size", m.hidden_size},
                {"num_attention_heads", m.num_attention_heads},
                {"num_key_value_heads", m.num_key_value_heads},
                {"intermediate_size", m.intermediate_size},
                {"vocab_size", m.vocab_size},
                {"tie_word_embeddings", m.tie_word_embeddings}}},
              {"params", p.params},
              {"train_tokens", p.train_tokens},
              {"epochs", p.epochs},
              {"seq_len", p.seq_len},
              {"batch_tokens", p.batch_tokens},
              {"micro_batch", p.micro_batch},
              {"grad_accum", p.grad_accum},
              {"steps", p.steps},
              {"lr", p.lr},
              {"min_lr", p.min_lr},
              {"warmup_steps", p.warmup_steps},
              {"recompute", p.recompute},
              {"expected_hours", p.expected_hours}}}};
  return j.dump(2) + "\n";
}

AutoSize auto_size_from_json(const std::string& text, const std::string& path) {
  AutoSize a;
  try {
    json j = json::parse(text);
    a.inputs = j.at("inputs").dump();
    a.text = j.at("text").get<std::string>();
    a.explicit_keys = j.at("explicit").get<std::vector<std::string>>();
    const json& p = j.at("plan");
    Plan& q = a.plan;
    q.hw.name = p.at("hardware").get<std::string>();
    q.hw.peak_tflops = p.at("peak_tflops").get<double>();
    q.achieved_tflops = p.at("achieved_tflops").get<double>();
    if (p.at("measured").get<bool>()) q.probes.resize(1);  // only "measured" is read back
    q.hours = p.at("hours").get<double>();
    q.dataset_tokens = json_uint(p.at("dataset_tokens"), "dataset_tokens", path);
    q.binds = p.at("binds").get<std::string>();
    q.binds_why = p.at("binds_why").get<std::string>();
    const json& m = p.at("shape");
    q.shape.num_hidden_layers = json_int(m.at("num_hidden_layers"), "num_hidden_layers", path);
    q.shape.hidden_size = json_int(m.at("hidden_size"), "hidden_size", path);
    q.shape.num_attention_heads = json_int(m.at("num_attention_heads"), "num_attention_heads", path);
    q.shape.num_key_value_heads = json_int(m.at("num_key_value_heads"), "num_key_value_heads", path);
    q.shape.intermediate_size = json_int(m.at("intermediate_size"), "intermediate_size", path);
    q.shape.vocab_size = json_int(m.at("vocab_size"), "vocab_size", path);
    q.shape.tie_word_embeddings = m.at("tie_word_embeddings").get<bool>();
    q.params = p.at("params").get<double>();
    q.train_tokens = p.at("train_tokens").get<double>();
    q.epochs = p.at("epochs").get<double>();
    q.seq_len = static_cast<int>(json_int(p.at("seq_len"), "seq_len", path));
    q.shape.max_position_embeddings = q.seq_len;
    q.batch_tokens = json_int(p.at("batch_tokens"), "batch_tokens", path);
    q.micro_batch = static_cast<int>(json_int(p.at("micro_batch"), "micro_batch", path));
    q.grad_accum = static_cast<int>(json_int(p.at("grad_accum"), "grad_accum", path));
    q.steps = json_int(p.at("steps"), "steps", path);
    q.lr = p.at("lr").get<double>();
    q.min_lr = p.at("min_lr").get<double>();
    q.warmup_steps = json_int(p.at("warmup_steps"), "warmup_steps", path);
    q.recompute = p.at("recompute").get<bool>();
    q.expected_hours = p.at("expected_hours").get<double>();
  } catch (const json::exception& e) {
    runtime_error(std::string("damaged plan file: ") + e.what(), path, "delete it; the next build plans again");
  }
  return a;
}

std::string plan_summary_json(const AutoSize& a) {
  const Plan& p = a.plan;
  const auto& m = p.shape;
  char lr[32];
  std::snprintf(lr, sizeof lr, "%.3g", p.lr);
  const std::string shape = std::to_string(m.num_hidden_layers) + " layers x " + std::to_string(m.hidden_size) + ", " +
                            std::to_string(m.num_attention_heads) + " heads (" +
                            std::to_string(m.num_key_value_heads) + " KV), FFN " +
                            std::to_string(m.intermediate_size) + ", seq " + std::to_string(p.seq_len);
  json j = {{"shape", shape},
            {"params", p.params},
            {"binds", p.binds},
            {"binds_why", p.binds_why},
            {"epochs", p.epochs},
            {"train_tokens", p.train_tokens},
            {"dataset_tokens", p.dataset_tokens},
            {"steps", p.steps},
            {"batch_tokens", p.batch_tokens},
            {"lr", lr},
            {"hardware", p.hw.name},
            {"achieved_tflops", p.achieved_tflops},
            {"throughput", p.probes.empty() ? "assumed" : "measured"},
            {"budget_hours", p.hours},
            {"expected_hours", p.expected_hours},
            {"explicit", a.explicit_keys}};
  return j.dump();
}

}  // namespace nlm::plan
