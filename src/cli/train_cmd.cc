// `nativelm train`: parses a YAML config and flags (flags win) into train::TrainOptions and runs it.
#include <cstdio>

#include "cli/command.h"
#include "train/trainer.h"

namespace {

using namespace nlm;

void setup(CLI::App& root, cli::Actions& actions) {
  struct Opts {
    std::string config;
    train::TrainOptions o;
    std::vector<std::string> train_shards, eval_shards;
    bool no_doc_masking = false;
    bool shuffle = false;
  };
  auto p = std::make_shared<Opts>();
  auto& o = p->o;
  auto* sub = root.add_subcommand("train", "Pretrain or continue pretraining a Llama-family model on .tok shards");
  sub->add_option("config", p->config, "YAML config (keys in docs/train.md); flags override it");
  auto* out = sub->add_option("-o,--out", o.out_dir, "Run directory (metrics, checkpoints, model/)");
  auto* init = sub->add_option("--init-from", o.init_from, "HF model directory to continue from");
  auto* ext = sub->add_option("--vocab-extension", o.vocab_extension, "Map of new token -> old ids (mean init)");
  auto* tok = sub->add_option("--tokenizer", o.tokenizer, "tokenizer.json to ship with the model");
  auto* tr = sub->add_option("--train", p->train_shards, "Training .tok shards (one source, weight 1)");
  auto* ev = sub->add_option("--eval", p->eval_shards, "Held-out .tok shards");
  auto* steps = sub->add_option("--steps", o.steps, "Optimizer steps")->capture_default_str();
  auto* bs = sub->add_option("--batch-size", o.batch_size, "Rows per micro-batch")->capture_default_str();
  auto* sl = sub->add_option("--seq-len", o.seq_len, "Tokens per row")->capture_default_str();
  auto* ga = sub->add_option("--grad-accum", o.grad_accum, "Micro-batches per step")->capture_default_str();
  auto* lr = sub->add_option("--lr", o.schedule.lr, "Peak learning rate")->capture_default_str();
  auto* minlr = sub->add_option("--min-lr", o.schedule.min_lr, "Final learning rate")->capture_default_str();
  auto* sched = sub->add_option("--schedule", o.schedule.type, "cosine, wsd or constant")->capture_default_str();
  auto* warm = sub->add_option("--warmup-steps", o.schedule.warmup_steps, "Warmup steps")->capture_default_str();
  auto* ee = sub->add_option("--eval-every", o.eval_every, "Steps between evals")->capture_default_str();
  auto* eb = sub->add_option("--eval-batches", o.eval_batches, "Micro-batches per eval")->capture_default_str();
  auto* ce = sub->add_option("--checkpoint-every", o.checkpoint_every, "Steps between checkpoints")->capture_default_str();
  auto* le = sub->add_option("--log-every", o.log_every, "Steps between progress lines")->capture_default_str();
  auto* seed = sub->add_option("--seed", o.seed, "Random seed")->capture_default_str();
  auto* res = sub->add_flag("--resume", p->o.resume, "Continue from the newest checkpoint in --out");
  auto* rec = sub->add_flag("--recompute", p->o.recompute, "Recompute activations in backward");
  auto* ndm = sub->add_flag("--no-doc-masking", p->no_doc_masking, "Let tokens attend across documents in a row");
  auto* shuf = sub->add_flag("--shuffle-documents", p->shuffle, "Read documents in a seeded random order per epoch");
  actions[sub] = [p, out, init, ext, tok, tr, ev, steps, bs, sl, ga, lr, minlr, sched, warm, ee, eb, ce, le, seed,
                  res, rec, ndm, shuf] {
    train::TrainOptions flags = p->o;  // values CLI11 stored
    train::TrainOptions o;
    if (!p->config.empty()) train::load_train_yaml(p->config, o);
    // Flags given on the command line override the YAML.
    if (out->count()) o.out_dir = flags.out_dir;
    if (init->count()) o.init_from = flags.init_from;
    if (ext->count()) o.vocab_extension = flags.vocab_extension;
    if (tok->count()) o.tokenizer = flags.tokenizer;
    if (tr->count()) o.train_data = {{p->train_shards, 1.0}};
    if (ev->count()) o.eval_shards = p->eval_shards;
    if (steps->count()) o.steps = flags.steps;
    if (bs->count()) o.batch_size = flags.batch_size;
    if (sl->count()) o.seq_len = flags.seq_len;
    if (ga->count()) o.grad_accum = flags.grad_accum;
    if (lr->count()) o.schedule.lr = flags.schedule.lr;
    if (minlr->count()) o.schedule.min_lr = flags.schedule.min_lr;
    if (sched->count()) o.schedule.type = flags.schedule.type;
    if (warm->count()) o.schedule.warmup_steps = flags.schedule.warmup_steps;
    if (ee->count()) o.eval_every = flags.eval_every;
    if (eb->count()) o.eval_batches = flags.eval_batches;
    if (ce->count()) o.checkpoint_every = flags.checkpoint_every;
    if (le->count()) o.log_every = flags.log_every;
    if (seed->count()) o.seed = flags.seed;
    if (res->count()) o.resume = true;
    if (rec->count()) o.recompute = true;
    if (ndm->count()) o.doc_masking = false;
    if (shuf->count()) o.shuffle_documents = true;
    auto r = train::run_train(o);
    std::printf("trained %lld steps: loss %.4f", static_cast<long long>(r.steps), r.last_loss);
    if (r.last_eval_loss >= 0) std::printf(", eval loss %.4f", r.last_eval_loss);
    if (r.last_eval_bpb >= 0) std::printf(", eval bits/byte %.4f", r.last_eval_bpb);
    std::printf(", %.0f tokens/s, MFU %.1f%% of %.0f GFLOP/s sgemm; model in %s/model\n", r.tokens_per_second,
                100 * r.mfu, r.sgemm_gflops, o.out_dir.c_str());
    return 0;
  };
}

}  // namespace

NLM_REGISTER_COMMAND(50, setup);
