// `nativelm train` as a process: the model folders it writes are complete HF folders (checked
// with Python's json module), Ctrl-C/SIGTERM stop it with a checkpoint and a resume hint, and a
// rerun into a folder holding checkpoints asks for --resume or --force instead of training over it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/hash.h"
#include "data/token_shard.h"
#include "test_util.h"

namespace nlm::testing {
namespace {

namespace fs = std::filesystem;

// Eight byte-level documents in DIR/t.tok (vocabulary 256) and a tiny model config in DIR/c.yaml.
void write_run_inputs(const TempDir& dir, int64_t vocab = 256) {
  data::TokShardWriter w(dir.file("t.tok"), 256, Hash128{});
  std::string text = "nativelm trains small models. ";
  for (int d = 0; d < 8; ++d) w.add_document(std::vector<uint32_t>(text.begin(), text.end()));
  w.finish();
  write_text(dir.file("c.yaml"), "model:\n  vocab_size: " + std::to_string(vocab) +
                                     "\n  hidden_size: 16\n  intermediate_size: 32\n  num_hidden_layers: 1\n"
                                     "  num_attention_heads: 2\n  max_position_embeddings: 32\n"
                                     "batch_size: 2\nseq_len: 16\nlog_every: 0\nschedule: {lr: 0.01, warmup_steps: 2}\n");
}

std::string args(const TempDir& dir, const std::string& out) {
  return "--threads 1 train " + dir.file("c.yaml") + " --out " + dir.file(out) + " --train " + dir.file("t.tok");
}

// Runs python3 on `script` (which reads sys.argv[1]); its stdout, or "python3 failed".
std::string python(const std::string& script, const std::string& arg, const TempDir& dir) {
  write_text(dir.file("check.py"), script);
  std::string out = dir.file("py.out");
  int rc = std::system(("python3 " + dir.file("check.py") + " '" + arg + "' >" + out + " 2>&1").c_str());
  return rc == 0 ? read_text(out) : "python3 failed: " + read_text(out);
}

const char* kCheckFolder = R"(import json, os, sys
d = sys.argv[1]
for name in ["config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json"]:
    with open(os.path.join(d, name)) as f:
        json.load(f)
tc = json.load(open(os.path.join(d, "tokenizer_config.json")))
gc = json.load(open(os.path.join(d, "generation_config.json")))
cfg = json.load(open(os.path.join(d, "config.json")))
print(tc.get("tokenizer_class"), tc.get("eos_token"), gc.get("eos_token_id"), cfg.get("eos_token_id"),
      gc.get("temperature"), gc.get("top_k"), gc.get("do_sample"))
)";

TEST(TrainRun, ModelAndCheckpointsAreCompleteHfFolders) {
  TempDir dir;
  // A tokenizer of 300 tokens whose EOS the tokenize command appends, and shards made with it.
  write_text(dir.file("c.txt"), "Der Hund läuft im Park. The dog runs in the park.\n\nEl perro corre.\n");
  auto r = run_nativelm("--threads 1 tokenizer train " + dir.file("c.txt") + " -o " + dir.file("tok") +
                            " --vocab-size 300 --min-frequency 1",
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::remove(dir.file("tok/tokenizer_config.json"));  // derived when the tokenizer has none beside it
  auto tok = nlohmann::json::parse(read_text(dir.file("tok/tokenizer.json")));
  int64_t eos = -1, vocab = 0;
  std::string eos_text;
  for (auto& [piece, id] : tok["model"]["vocab"].items()) vocab = std::max<int64_t>(vocab, id.get<int64_t>() + 1);
  for (auto& a : tok["added_tokens"]) {
    vocab = std::max<int64_t>(vocab, a["id"].get<int64_t>() + 1);
    if (a["special"] == true && a["content"].get<std::string>().find("end") != std::string::npos) {
      eos = a["id"];
      eos_text = a["content"];
    }
  }
  write_run_inputs(dir, vocab);
  ASSERT_GE(eos, 0) << tok["added_tokens"].dump();
  r = run_nativelm(args(dir, "run") + " --steps 2 --tokenizer " + dir.file("tok/tokenizer.json") +
                       " --model-eos-token-id " + std::to_string(eos),
                   dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string want = "PreTrainedTokenizerFast " + eos_text + " " + std::to_string(eos) + " " +
                           std::to_string(eos) + " 0.8 40 True\n";
  EXPECT_EQ(python(kCheckFolder, dir.file("run/model"), dir), want);
  EXPECT_EQ(python(kCheckFolder, dir.file("run/checkpoints/step-00000002"), dir), want);
  auto state = nlohmann::json::parse(read_text(dir.file("run/checkpoints/step-00000002/trainer_state.json")));
  EXPECT_EQ(state["config"]["steps"], 2);
  EXPECT_EQ(state["config"]["model"]["eos_token_id"], eos);
  EXPECT_EQ(state["config"]["data"]["train"][0]["shards"][0], dir.file("t.tok"));

  // A tokenizer_config.json beside the tokenizer (chat template and all) is copied as it is.
  const std::string own = "{\"tokenizer_class\": \"PreTrainedTokenizerFast\", \"chat_template\": \"{{ x }}\"}\n";
  write_text(dir.file("tok/tokenizer_config.json"), own);
  // --tokenizer takes the folder 'tokenizer train' wrote as well as its tokenizer.json (a folder
  // used to end in "internal error: filesystem error: cannot copy file").
  r = run_nativelm(args(dir, "run2") + " --steps 1 --tokenizer " + dir.file("tok"), dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(dir.file("run2/model/tokenizer.json")), read_text(dir.file("tok/tokenizer.json")));
  EXPECT_EQ(read_text(dir.file("run2/model/tokenizer_config.json")), own);
  EXPECT_EQ(read_text(dir.file("run2/checkpoints/step-00000001/tokenizer_config.json")), own);
  // Without a tokenizer there is still a generation_config.json (no BOS/EOS ids to give).
  r = run_nativelm(args(dir, "run3") + " --steps 1", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto gen = nlohmann::json::parse(read_text(dir.file("run3/model/generation_config.json")));
  EXPECT_EQ(gen["max_new_tokens"], 128);
  EXPECT_FALSE(gen.contains("eos_token_id"));
  EXPECT_FALSE(fs::exists(dir.file("run3/model/tokenizer_config.json")));
}

size_t lines_in(const std::string& path) {
  if (!fs::exists(path)) return 0;
  std::string t = read_text(path);
  return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
}

void interrupt_and_resume(int sig, const char* name) {
  TempDir dir;
  write_run_inputs(dir);
  // Far more steps than run before the signal; checkpoints only at the end.
  std::vector<std::string> argv = {"--threads", "1", "train", dir.file("c.yaml"), "--out", dir.file("run"),
                                   "--train", dir.file("t.tok"), "--steps", "1000000", "--checkpoint-every", "0",
                                   "--mlflow", dir.file("mlruns")};
  pid_t pid = spawn_nativelm(argv, dir.file("out.txt"), dir.file("err.txt"));
  ASSERT_GT(pid, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (lines_in(dir.file("run/metrics.jsonl")) < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(kill(pid, sig), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::string err = read_text(dir.file("err.txt"));
  EXPECT_NE(err.find(std::string("interrupted by ") + name + " after step "), std::string::npos) << err;
  EXPECT_NE(err.find("nativelm train <the same arguments> --resume"), std::string::npos) << err;
  // The checkpoint holds the last finished step, which metrics.jsonl ends with.
  auto ck = fs::directory_iterator(dir.file("run/checkpoints"));
  ASSERT_NE(ck, fs::directory_iterator());
  std::string ck_dir = ck->path().string();
  EXPECT_NE(err.find(ck_dir), std::string::npos) << err;
  auto state = nlohmann::json::parse(read_text(ck_dir + "/trainer_state.json"));
  int64_t step = state["step"];
  EXPECT_GE(step, 3);
  EXPECT_EQ(lines_in(dir.file("run/metrics.jsonl")), static_cast<size_t>(step));
  EXPECT_FALSE(fs::exists(dir.file("run/model")));
  // The MLflow run ended KILLED with the steps metrics.jsonl has.
  const std::string mlflow_run = dir.file("mlruns/1/" + read_text(dir.file("run/mlflow_run_id")).substr(0, 32));
  EXPECT_NE(read_text(mlflow_run + "/meta.yaml").find("\nstatus: 5\n"), std::string::npos);
  EXPECT_EQ(lines_in(mlflow_run + "/metrics/loss"), static_cast<size_t>(step));

  // Resuming continues from that step (to a nearer end here, to keep the test short).
  auto r = run_nativelm("--threads 1 train " + dir.file("c.yaml") + " --out " + dir.file("run") + " --train " +
                            dir.file("t.tok") + " --checkpoint-every 0 --resume --steps " + std::to_string(step + 2) +
                            " --mlflow " + dir.file("mlruns"),
                        dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resumed from " + ck_dir + " at step " + std::to_string(step)), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("trained " + std::to_string(step + 2) + " steps"), std::string::npos) << r.out;
  EXPECT_EQ(lines_in(dir.file("run/metrics.jsonl")), static_cast<size_t>(step + 2));
  EXPECT_NE(read_text(mlflow_run + "/meta.yaml").find("\nstatus: 3\n"), std::string::npos);
  EXPECT_EQ(lines_in(mlflow_run + "/metrics/loss"), static_cast<size_t>(step + 2));
}

TEST(TrainRun, CtrlCWritesACheckpointAndSaysHowToResume) { interrupt_and_resume(SIGINT, "SIGINT"); }
TEST(TrainRun, SigtermWritesACheckpointAndSaysHowToResume) { interrupt_and_resume(SIGTERM, "SIGTERM"); }

TEST(TrainRun, RerunIntoACheckpointFolderAsksForResumeOrForce) {
  TempDir dir;
  write_run_inputs(dir);
  auto r = run_nativelm(args(dir, "run") + " --steps 3", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string before = read_text(dir.file("run/checkpoints/step-00000003/model.safetensors"));
  // The same command again: a usage error, and nothing is trained over.
  r = run_nativelm(args(dir, "run") + " --steps 3", dir.path());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--out holds checkpoints of an earlier run (newest: step-00000003)"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("add --resume to continue that run, --force to start over"), std::string::npos) << r.err;
  EXPECT_EQ(read_text(dir.file("run/checkpoints/step-00000003/model.safetensors")), before);
  EXPECT_EQ(lines_in(dir.file("run/metrics.jsonl")), 3u);
  // --resume continues it; --force starts over from step 0 and drops the old checkpoints.
  r = run_nativelm(args(dir, "run") + " --steps 5 --resume", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("run/checkpoints/step-00000005")));
  r = run_nativelm(args(dir, "run") + " --steps 2 --force", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("run/checkpoints/step-00000002")));
  EXPECT_FALSE(fs::exists(dir.file("run/checkpoints/step-00000005")));
  EXPECT_EQ(lines_in(dir.file("run/metrics.jsonl")), 2u);
  // The same seed from scratch gives the same weights as the first run's first steps would.
  r = run_nativelm(args(dir, "fresh") + " --steps 2", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(dir.file("run/model/model.safetensors")), read_text(dir.file("fresh/model/model.safetensors")));
}

// A run killed while it appends to metrics.jsonl leaves a torn last line; '{"step":1' of step 12
// reads like step 1. The resumed run keeps only whole lines up to its checkpoint.
TEST(TrainRun, ResumeDropsATornMetricsLine) {
  TempDir dir;
  write_run_inputs(dir);
  auto r = run_nativelm(args(dir, "run") + " --steps 3", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write_text(dir.file("run/metrics.jsonl"), read_text(dir.file("run/metrics.jsonl")) + "{\"step\":1");
  r = run_nativelm(args(dir, "run") + " --steps 5 --resume", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string text = read_text(dir.file("run/metrics.jsonl"));
  ASSERT_EQ(lines_in(dir.file("run/metrics.jsonl")), 5u) << text;
  size_t start = 0;
  for (int step = 1; step <= 5; ++step) {
    size_t end = text.find('\n', start);
    auto line = nlohmann::json::parse(text.substr(start, end - start));
    EXPECT_EQ(line["step"], step);
    start = end + 1;
  }
}

// A run killed right after saving its last checkpoint, before rotating the oldest out, and with
// temps of half-written files and half-saved or half-deleted checkpoints about: the resumed run
// ends with the checkpoints and files an uninterrupted run has.
TEST(TrainRun, ResumeAfterTheLastCheckpointRotatesAndSweepsTemps) {
  TempDir dir;
  write_run_inputs(dir);
  auto r = run_nativelm(args(dir, "run") + " --steps 3 --checkpoint-every 1 --keep-checkpoints 2", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  fs::copy(dir.file("run/checkpoints/step-00000002"), dir.file("run/checkpoints/step-00000001"));
  write_text(dir.file("run/.metrics.jsonl.tmp.999999999.0"), "{\"step\":");
  write_text(dir.file("run/model/.model.safetensors.tmp.999999999.1"), "partial");
  write_text(dir.file("run/checkpoints/.step-00000001.old/config.json"), "{}");  // killed mid-rotation
  write_text(dir.file("run/checkpoints/.step-00000004.tmp/model.safetensors"), "");  // killed mid-save
  r = run_nativelm(args(dir, "run") + " --steps 3 --checkpoint-every 1 --keep-checkpoints 2 --resume", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("trained 3 steps: loss "), std::string::npos) << r.out;  // not "0 steps"
  std::vector<std::string> left;
  for (auto& e : fs::recursive_directory_iterator(dir.file("run")))
    if (e.is_directory() ? e.path().parent_path().filename() == "checkpoints" : e.path().filename().string()[0] == '.')
      left.push_back(fs::relative(e.path(), dir.file("run")).string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"checkpoints/step-00000002", "checkpoints/step-00000003"}));
}

}  // namespace
}  // namespace nlm::testing
