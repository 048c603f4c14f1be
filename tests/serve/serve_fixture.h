// Shared by the server tests: a tiny model folder (a byte-level BPE tokenizer with ChatML special
// tokens and a random Llama over its vocabulary), and a `nativelm serve` child process on a free
// port whose URL is read from its stdout.
#pragma once
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "model/hf_checkpoint.h"
#include "model/llama.h"
#include "model/model_helpers.h"
#include "tensor/backend.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trainer.h"

namespace nlm::testing {

// demo_shape: the shape of the demo's model (examples/demo.yaml: vocab 4096 — here mostly rows
// past the tokenizer's, as a padded vocabulary has —, d=192, 4 layers, 6 heads, 2 KV heads).
// extra_specials: more special tokens (e.g. fill-in-the-middle ones), after the three.
inline void write_tiny_model(const std::string& dir, bool demo_shape = false,
                             const std::vector<std::string>& extra_specials = {}) {
  tokenizer::TrainOptions o;
  o.vocab_size = 300;
  o.min_frequency = 1;
  o.special_tokens = {"<|begin_of_text|>", "<|im_start|>", "<|im_end|>"};
  o.special_tokens.insert(o.special_tokens.end(), extra_specials.begin(), extra_specials.end());
  std::vector<std::pair<std::string, uint64_t>> counts = {
      {"The", 9}, {" cat", 7}, {" sat", 6}, {" on", 5}, {" the", 8}, {" mat", 4}, {"Tá", 3}, {" sé", 3}};
  auto tok = tokenizer::train_bpe_from_counts(counts, o);
  model::ModelConfig c = tiny_config(/*tied=*/true);
  c.vocab_size = tok.vocab_size();
  c.max_position_embeddings = 256;
  if (demo_shape) {
    c.vocab_size = 4096;
    c.hidden_size = 192;
    c.intermediate_size = 512;
    c.num_hidden_layers = 4;
    c.num_attention_heads = 6;
    c.num_key_value_heads = 2;
    c.head_dim = 0;
    c.initializer_range = 0.02;
  }
  c.bos_token_id = tok.token_id("<|begin_of_text|>");
  c.eos_token_id = tok.token_id("<|im_end|>");
  model::Llama m(c, tensor::backend_for("cpu"));
  m.init_random(11);
  model::save_hf_model(dir, m);
  tok.save(dir);
}

// A `nativelm serve` child; stopped with SIGTERM by stop() or the destructor.
class ServerProcess {
 public:
  ServerProcess(const std::string& model_dir, const std::string& scratch, std::vector<std::string> extra = {})
      : out_(scratch + "/serve.out"), err_(scratch + "/serve.err") {
    std::vector<std::string> argv = {"serve", model_dir, "--port", "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = spawn_nativelm(argv, out_, err_);
    const std::string marker = "listening on http://";
    for (int i = 0; i < 600 && pid_ > 0; ++i) {  // up to 60 s on a busy machine
      std::string text = read_text(out_);
      size_t p = text.find(marker);
      if (p != std::string::npos && text.find('\n', p) != std::string::npos) {
        std::string hostport = text.substr(p + marker.size(), text.find('\n', p) - p - marker.size());
        host_ = hostport.substr(0, hostport.rfind(':'));
        port_ = std::stoi(hostport.substr(hostport.rfind(':') + 1));
        url_ = "http://" + hostport;
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ~ServerProcess() { stop(); }
  bool up() const { return port_ > 0; }
  const std::string& host() const { return host_; }
  int port() const { return port_; }
  const std::string& url() const { return url_; }
  std::string log() const { return read_text(err_); }
  // SIGTERM, then the exit code (128 + signal when killed by one; -1 when not running).
  int stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  std::string out_, err_, host_, url_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// Why the official `openai` npm client cannot run here, or "" when it can (node and
// node_modules/openai, from scripts/install-npm-peers.sh).
inline std::string openai_client_missing() {
  if (std::system("node --version >/dev/null 2>&1") != 0) return "node is not installed";
  if (!std::filesystem::exists(std::string(NATIVELM_SOURCE_DIR) + "/node_modules/openai"))
    return "node_modules/openai is absent (run scripts/install-npm-peers.sh)";
  return "";
}

}  // namespace nlm::testing
