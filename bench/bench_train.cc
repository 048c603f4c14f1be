// Training throughput: nativelm vs PyTorch CPU on the same Llama config and thread count.
// Config: d=384, 6 layers, 6 heads, 2 KV heads, SwiGLU 1536, vocab 8192, untied (~19M params),
// batch 8 × seq 256, AdamW. Prints tokens/s for both, the ratio, and nativelm's MFU against the
// measured OpenBLAS sgemm peak. The PyTorch side is a script this benchmark writes and runs with
// /usr/bin/python3 (Debian python3-torch); without torch it reports nativelm alone.
//   bench_train [steps=6] [threads=0 (all)]
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "core/runtime.h"
#include "bench_model.h"
#include "harness.h"
#include "model/llama.h"
#include "tensor/cpu/cpu_backend.h"
#include "tensor/cpu/sgemm_peak.h"
#include "train/adamw.h"

namespace {

using namespace nlm;

constexpr int kB = bench::kTrainB, kT = bench::kTrainT;

const char* kTorchScript = R"PY(
import sys, time, math, torch, torch.nn as nn, torch.nn.functional as F
steps, threads = int(sys.argv[1]), int(sys.argv[2])
torch.set_num_threads(threads)
torch.manual_seed(0)
V, C, L, NH, NKV, I, B, T = 8192, 384, 6, 6, 2, 1536, 8, 256
hs = C // NH
class RMSNorm(nn.Module):
    def __init__(s, d): super().__init__(); s.weight = nn.Parameter(torch.ones(d))
    def forward(s, x): return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * s.weight
inv = 1.0 / (10000 ** (torch.arange(0, hs, 2).float() / hs))
ang = torch.outer(torch.arange(T).float(), inv); emb = torch.cat([ang, ang], -1)
cos, sin = emb.cos(), emb.sin()
def rot(x): x1, x2 = x[..., : hs // 2], x[..., hs // 2 :]; return torch.cat([-x2, x1], -1)
class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln1, s.ln2 = RMSNorm(C), RMSNorm(C)
        s.q, s.k, s.v = nn.Linear(C, NH * hs, bias=False), nn.Linear(C, NKV * hs, bias=False), nn.Linear(C, NKV * hs, bias=False)
        s.o = nn.Linear(NH * hs, C, bias=False)
        s.g, s.u, s.d = nn.Linear(C, I, bias=False), nn.Linear(C, I, bias=False), nn.Linear(I, C, bias=False)
    def forward(s, x, mask):
        h = s.ln1(x)
        q = s.q(h).view(B, T, NH, hs).transpose(1, 2); k = s.k(h).view(B, T, NKV, hs).transpose(1, 2)
        v = s.v(h).view(B, T, NKV, hs).transpose(1, 2)
        q, k = q * cos + rot(q) * sin, k * cos + rot(k) * sin
        k, v = k.repeat_interleave(NH // NKV, 1), v.repeat_interleave(NH // NKV, 1)
        a = (q @ k.transpose(-1, -2)) / math.sqrt(hs) + mask
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(B, T, C)
        x = x + s.o(y)
        h = s.ln2(x)
        return x + s.d(F.silu(s.g(h)) * s.u(h))
class Model(nn.Module):
    def __init__(s):
        super().__init__()
        s.emb = nn.Embedding(V, C); s.blocks = nn.ModuleList([Block() for _ in range(L)])
        s.norm = RMSNorm(C); s.head = nn.Linear(C, V, bias=False)
    def forward(s, ids, tgt):
        mask = torch.full((T, T), float("-inf")).triu(1)
        x = s.emb(ids)
        for b in s.blocks: x = b(x, mask)
        return F.cross_entropy(s.head(s.norm(x)).view(-1, V), tgt.view(-1))
m = Model()
for p in m.parameters():
    if p.dim() == 2: nn.init.normal_(p, std=0.02)
opt = torch.optim.AdamW(m.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)
ids = torch.randint(0, V, (B, T)); tgt = torch.randint(0, V, (B, T))
def step():
    opt.zero_grad(set_to_none=True); loss = m(ids, tgt); loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0); opt.step(); return loss.item()
step()
t = time.time()
for _ in range(steps): step()
dt = time.time() - t
print("params", sum(p.numel() for p in m.parameters()))
print("tokens_per_s", steps * B * T / dt)
)PY";

double run_torch(int steps, int threads) {
  const char* path = "/tmp/nativelm_bench_train_torch.py";
  std::ofstream(path) << kTorchScript;
  std::string cmd = "/usr/bin/python3 " + std::string(path) + " " + std::to_string(steps) + " " +
                    std::to_string(threads) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char line[512];
  double tps = -1;
  while (std::fgets(line, sizeof line, p)) {
    if (std::sscanf(line, "tokens_per_s %lf", &tps) == 1) continue;
    std::fputs(line, stderr);
  }
  pclose(p);
  return tps;
}

}  // namespace

int main(int argc, char** argv) {
  int steps = argc > 1 ? std::atoi(argv[1]) : 6;
  int threads = argc > 2 ? std::atoi(argv[2]) : 0;
  RuntimeOptions ro;
  ro.threads = threads;
  set_runtime_options(ro);
  threads = thread_count();
  auto& be = static_cast<tensor::CpuBackend&>(tensor::cpu_backend());
  be.set_threads(threads);

  double peak = tensor::measure_sgemm_gflops(1024, 5);
  bench::report_value("sgemm_peak_gflops threads=" + std::to_string(threads), peak, "GFLOP/s");

  model::ModelConfig cfg = bench::train_bench_config();
  model::Llama m(cfg, be);
  m.init_random(1);
  train::AdamW opt(m, {});
  std::mt19937 rng(3);
  model::Batch batch;
  batch.B = kB;
  batch.T = kT;
  for (int i = 0; i < kB * kT; ++i) {
    batch.inputs.push_back(static_cast<int32_t>(rng() % cfg.vocab_size));
    batch.targets.push_back(static_cast<int32_t>(rng() % cfg.vocab_size));
  }
  batch.set_default_positions();
  std::printf("nativelm params %lld\n", static_cast<long long>(cfg.parameter_count()));
  auto step = [&] {
    m.zero_grad();
    m.forward_backward(batch);
    opt.step(3e-4);
  };
  bench::Sample s = bench::time_runs(step, steps, 1);
  const double tokens = double(kB) * kT;
  bench::report_rate("nativelm_train_tokens_per_s", tokens, s, "tokens/s");
  double tps = tokens / s.median;
  double mfu = tps * m.train_flops_per_token(kT) / (peak * 1e9);
  bench::report_value("nativelm_train_mfu_vs_sgemm_peak", 100 * mfu, "%");

  double torch_tps = run_torch(steps, threads);
  if (torch_tps > 0) {
    bench::report_value("pytorch_train_tokens_per_s", torch_tps, "tokens/s");
    bench::report_value("nativelm_over_pytorch", tps / torch_tps, "x");
  } else {
    std::printf("PyTorch not available (install python3-torch libopenblas0-pthread); nativelm only\n");
  }
  return 0;
}
