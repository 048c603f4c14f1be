// Load test of `nativelm serve` on loopback, and the same load on llama-server with the same
// weights: C concurrent streaming clients send /v1/completions requests back to back for S
// seconds (the first tenth is warm-up, not counted). Reports requests, errors, p50/p99 time to
// first token and inter-token latency, aggregate generated tokens/s, and the server's RSS after
// warm-up and at the end (the goal: within 10 %). While the load runs, a hostile client sends
// 1,000 malformed requests (bad JSON, wrong types, huge and negative numbers, a 10 MB body,
// invalid UTF-8, unknown fields, deep nesting) and a slowloris trickle; every one must get a
// 4xx and the streaming clients must see no error. The hostile requests run in a second load of
// their own, so the aggregate ratio compares the two servers under the same clean load.
//   bench_serve [seconds=60] [clients=32] [slots=32] [size=10m] [weights=f32]
// LLAMA_SERVER=path/to/llama-server adds the llama-server run (scripts/build-llama-cpp.sh).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench_inference_model.h"
#include "core/runtime.h"
#include "harness.h"
#include "tensor/cpu/cpu_backend.h"

namespace {

using namespace nlm;
using json = nlohmann::json;

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  return pid;
}

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t n = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &n);
  close(s);
  return ntohs(a.sin_port);
}

bool wait_healthy(int port, pid_t pid, double seconds) {
  httplib::Client c("127.0.0.1", port);
  for (double t0 = bench::now_seconds(); bench::now_seconds() - t0 < seconds;) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return false;
    auto r = c.Get("/health");
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

double rss_mb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;
  return 0;
}

struct Stats {
  std::mutex mu;
  std::vector<double> ttft, itl;
  uint64_t tokens = 0, requests = 0, errors = 0;
  std::string first_error;
};

// One client: streamed completions back to back until `end`; counts from `warm` on.
void client(int port, const std::string& body, double warm, double end, Stats& st) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(300, 0);
  while (bench::now_seconds() < end) {
    httplib::Request req;
    req.method = "POST";
    req.path = "/v1/completions";
    req.headers = {{"Content-Type", "application/json"}};
    req.body = body;
    const double t0 = bench::now_seconds();
    double last = -1;
    std::vector<double> ttft, itl;
    std::string buf;
    bool done = false;
    int64_t chunks = 0, usage = -1;
    req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
      buf.append(data, len);
      for (size_t p; (p = buf.find("\n\n")) != std::string::npos; buf.erase(0, p + 2)) {
        std::string e = buf.substr(0, p);
        if (e.rfind("data: ", 0) != 0) continue;
        e = e.substr(6);
        if (e == "[DONE]") {
          done = true;
          continue;
        }
        auto j = json::parse(e, nullptr, false);
        if (j.is_discarded()) continue;
        if (j.contains("usage") && j["usage"].is_object()) usage = j["usage"].value("completion_tokens", int64_t(-1));
        if (!j.contains("choices") || j["choices"].empty()) continue;
        auto& c = j["choices"][0];
        if (!c.contains("text") || !c["text"].is_string() || c["text"].get<std::string>().empty()) continue;
        const double t = bench::now_seconds();
        (last < 0 ? ttft : itl).push_back(last < 0 ? t - t0 : t - last);
        last = t;
        ++chunks;
      }
      return true;
    };
    auto res = cli.send(req);
    const bool ok = res && res->status == 200 && done;
    std::lock_guard<std::mutex> lock(st.mu);
    if (!ok) {
      ++st.errors;
      if (st.first_error.empty())
        st.first_error = res ? "status " + std::to_string(res->status) + ": " + res->body.substr(0, 200)
                             : "no response: " + httplib::to_string(res.error());
      continue;
    }
    if (t0 < warm) continue;
    ++st.requests;
    st.tokens += static_cast<uint64_t>(usage >= 0 ? usage : chunks);
    st.ttft.insert(st.ttft.end(), ttft.begin(), ttft.end());
    st.itl.insert(st.itl.end(), itl.begin(), itl.end());
  }
}

// 1,000 hostile requests and a slowloris trickle; returns how many did not get a 4xx.
int hostile(int port, std::string& first_bad) {
  const std::vector<std::string> bodies = {
      "{", "[]", "null", "{\"prompt\": 5}", "{\"prompt\": \"x\", \"max_tokens\": -1}",
      "{\"prompt\": \"x\", \"max_tokens\": 1e300}", "{\"prompt\": \"x\", \"max_tokens\": 99999999999999999999999}",
      "{\"prompt\": \"x\", \"temperature\": \"hot\"}", "{\"prompt\": \"x\", \"n\": 100000}", "{\"prompt\": \"x\", \"stop\": [1]}",
      "{\"prompt\": \"x\", \"bogus\": 1}", "{\"prompt\": \"\xff\xfe\xc3\"}", std::string(4000, '[') + std::string(4000, ']'),
      "{\"prompt\": \"x\", \"logprobs\": 1000}", "{\"messages\": \"hi\"}", "{\"prompt\": \"x\", \"seed\": 1.5}",
      std::string("{\"prompt\": \"") + std::string(10 << 20, 'a') + "\"}"};
  httplib::Client cli("127.0.0.1", port);
  cli.set_read_timeout(60, 0);
  int bad = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::string& b = bodies[static_cast<size_t>(i) % bodies.size()];
    auto r = cli.Post(i % 7 == 3 ? "/v1/chat/completions" : "/v1/completions", b, "application/json");
    if (r && r->status >= 400 && r->status < 500) continue;
    ++bad;
    if (first_bad.empty()) first_bad = (r ? std::to_string(r->status) : "no response") + " for " + b.substr(0, 60);
  }
  // Slowloris: a request head sent a byte every 50 ms for 3 s, never finished.
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string head = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n";
    for (size_t i = 0; i < head.size() && i < 60; ++i) {
      if (send(s, &head[i], 1, MSG_NOSIGNAL) != 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  close(s);
  return bad;
}

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * double(v.size())))];
}

struct RunResult {
  double tokens_per_s = 0;
  uint64_t errors = 0;
  int bad = 0;  // hostile requests that did not get a 4xx
};

RunResult load(const std::string& name, int port, pid_t pid, int seconds, int clients, bool with_hostile,
               bool llama_server) {
  json request = {{"prompt", "Euskara Euskal Herrian hitz egiten den hizkuntza da."},
                  {"max_tokens", 64},
                  {"temperature", 0.8},
                  {"stream", true},
                  {"stream_options", {{"include_usage", true}}}};
  if (llama_server) request["ignore_eos"] = true;  // a llama-server extension nativelm refuses
  const std::string body = request.dump();
  Stats st;
  const double start = bench::now_seconds(), warm = start + seconds / 10.0, end = start + seconds;
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) threads.emplace_back([&] { client(port, body, warm, end, st); });
  double rss_warm = 0;
  std::thread sampler([&] {
    while (bench::now_seconds() < warm) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    rss_warm = rss_mb(pid);
  });
  int bad = 0;
  std::string first_bad;
  std::thread h;
  if (with_hostile) h = std::thread([&] { bad = hostile(port, first_bad); });
  for (auto& t : threads) t.join();
  sampler.join();
  if (h.joinable()) h.join();
  const double rss_end = rss_mb(pid);
  const double counted = end - warm;
  RunResult r;
  r.tokens_per_s = double(st.tokens) / counted;
  r.errors = st.errors;
  r.bad = bad;
  std::printf("%s: %d clients, %d s: %llu requests, %llu errors%s%s\n", name.c_str(), clients, seconds,
              static_cast<unsigned long long>(st.requests), static_cast<unsigned long long>(st.errors),
              st.first_error.empty() ? "" : " (first: ", st.first_error.empty() ? "" : (st.first_error + ")").c_str());
  bench::report_value(name + " aggregate", r.tokens_per_s, "tokens/s");
  bench::report_value(name + " requests", double(st.requests) / counted, "requests/s");
  bench::report_value(name + " ttft p50", pct(st.ttft, 0.5) * 1e3, "ms");
  bench::report_value(name + " ttft p99", pct(st.ttft, 0.99) * 1e3, "ms");
  bench::report_value(name + " itl p50", pct(st.itl, 0.5) * 1e3, "ms");
  bench::report_value(name + " itl p99", pct(st.itl, 0.99) * 1e3, "ms");
  bench::report_value(name + " rss after warm-up", rss_warm, "MB");
  bench::report_value(name + " rss at end", rss_end, "MB");
  if (rss_warm > 0) bench::report_value(name + " rss end/warm", rss_end / rss_warm, "x");
  if (with_hostile) {
    bench::report_value(name + " hostile requests without a 4xx", bad, "of 1000");
    if (bad) std::printf("  first: %s\n", first_bad.c_str());
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = argc > 1 ? std::atoi(argv[1]) : 60;
  const int clients = argc > 2 ? std::atoi(argv[2]) : 32;
  const int slots = argc > 3 ? std::atoi(argv[3]) : 32;
  const std::string size = argc > 4 ? argv[4] : "10m";
  const std::string weights = argc > 5 ? argv[5] : "f32";
  const std::string nativelm = (std::filesystem::path(argv[0]).parent_path() / "nativelm").string();
  const char* ls = std::getenv("LLAMA_SERVER");
  const std::string scratch = (std::filesystem::temp_directory_path() / "nativelm_bench_serve").string();
  std::filesystem::create_directories(scratch);
  const std::string dir = scratch + "/" + size;
  {
    auto cfg = bench::inference_config(size);
    // Every request generates exactly 64 tokens on both servers: the EOS id is a padding row
    // past the tokenizer's vocabulary, which nativelm never samples, and llama-server is told
    // ignore_eos.
    cfg.eos_token_id = cfg.vocab_size - 1;
    auto& be = tensor::cpu_backend();
    model::Llama m(cfg, be);
    m.init_random(1);
    bench::save_model_folder(dir, m, bench::small_tokenizer(scratch));
  }
  const int ctx = 128;  // per slot: the prompt (~30 tokens) and 64 new ones
  int port = free_port();
  pid_t pid = spawn({nativelm, "serve", dir, "--port", std::to_string(port), "--parallel", std::to_string(slots),
                     "--context", std::to_string(ctx), "--queue", std::to_string(clients + 16), "--weights", weights},
                    scratch + "/nativelm.log");
  if (!wait_healthy(port, pid, 120)) {
    std::fprintf(stderr, "bench_serve: nativelm serve did not start (%s/nativelm.log)\n", scratch.c_str());
    return 1;
  }
  // The aggregate ratio compares like with like: both servers under the same clean load. The
  // hostile requests (59 of them 10 MB bodies) cost CPU that llama-server's run would not pay, so
  // they come in a second, shorter run of their own, under the same streaming load.
  auto ours = load("serve/" + size + "/" + weights + "/nativelm", port, pid, seconds, clients, false, false);
  auto hostile_run = load("serve/" + size + "/" + weights + "/nativelm+hostile", port, pid, std::max(20, seconds / 2),
                          clients, true, false);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  bench::report_value("serve/nativelm exit status after SIGTERM", WIFEXITED(status) ? WEXITSTATUS(status) : -1, "");
  if (ls) {
    const std::string gguf = bench::export_gguf_file(dir, weights == "int8" ? model::GgufOutType::Q8_0 : model::GgufOutType::F32,
                                                     weights == "int8" ? "q8_0" : "f32");
    port = free_port();
    pid = spawn({ls, "-m", gguf, "--port", std::to_string(port), "--host", "127.0.0.1", "-np", std::to_string(slots), "-c",
                 std::to_string(ctx * slots), "-t", std::to_string(thread_count())},
                scratch + "/llama-server.log");
    if (!wait_healthy(port, pid, 120)) {
      std::fprintf(stderr, "bench_serve: llama-server did not start (%s/llama-server.log)\n", scratch.c_str());
      kill(pid, SIGKILL);
      return 1;
    }
    auto theirs = load("serve/" + size + "/" + weights + "/llama-server", port, pid, seconds, clients, false, true);
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    if (theirs.tokens_per_s > 0)
      bench::report_value("serve/" + size + "/" + weights + " aggregate ratio", ours.tokens_per_s / theirs.tokens_per_s, "x");
  }
  return ours.errors == 0 && hostile_run.errors == 0 && hostile_run.bad == 0 ? 0 : 1;
}
