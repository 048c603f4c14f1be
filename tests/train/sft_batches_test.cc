// SFT packing: best-fit decreasing places every example once within capacity; a packed row
// computes for each example exactly the per-token losses it gets alone (document masking and
// position resets), so the packed batch loss equals the mean over the same examples unpacked;
// padding rows, the cursor and its restore.
#include "train/sft_batches.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "model/model_helpers.h"

namespace nlm::testing {
namespace {

using train::SftBatches;
using train::SftTokens;

TEST(SftPacking, BestFitDecreasingPlacesEachItemOnceWithinCapacity) {
  std::vector<uint32_t> sizes = {2, 5, 4, 7, 1, 3, 8, 2, 6, 3};
  auto bins = train::pack_best_fit_decreasing(sizes, 10);
  std::vector<int> seen(sizes.size(), 0);
  for (auto& b : bins) {
    uint32_t used = 0;
    for (uint32_t i : b) {
      ++seen[i];
      used += sizes[i];
    }
    EXPECT_LE(used, 10u);
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  // 41 slots: at least 5 bins of 10; BFD finds 5 here (8+2, 7+3, 6+4, 5+3+2, 1).
  EXPECT_EQ(bins.size(), 5u);
  EXPECT_EQ(bins[0], (std::vector<uint32_t>{6, 0}));  // 8, then the 2 that fits best
  EXPECT_THROW(train::pack_best_fit_decreasing({11}, 10), Error);
  EXPECT_TRUE(train::pack_best_fit_decreasing({}, 10).empty());
}

std::vector<SftTokens> examples(int V) {
  std::vector<SftTokens> ex;
  const int lens[] = {7, 4, 9, 3, 6};
  uint32_t x = 1;
  for (int L : lens) {
    SftTokens e;
    for (int t = 0; t < L; ++t) {
      x = x * 1103515245u + 12345u;
      e.ids.push_back((x >> 8) % static_cast<uint32_t>(V));
      e.mask.push_back(t >= L / 2 ? 1 : 0);  // the second half is the "response"
    }
    ex.push_back(e);
  }
  return ex;
}

TEST(SftPacking, PackedForwardEqualsSeparateForwards) {
  auto cfg = tiny_config(true);
  auto& be = tensor::backend_for("cpu");
  model::Llama m(cfg, be);
  m.init_random(3);
  auto ex = examples(static_cast<int>(cfg.vocab_size));
  // All five examples (24 slots) packed into rows of 12.
  SftBatches packed(ex, 4, 12, data::SftPacking::Bfd, 1, 0);
  ASSERT_LE(packed.rows(), 3u);
  int64_t tokens = 0;
  model::Batch pb = packed.rows_batch(0, packed.rows(), tokens);
  EXPECT_EQ(tokens, 6 + 3 + 8 + 2 + 5);
  double packed_loss = m.forward(pb);
  auto packed_losses = m.token_losses();

  // Each example alone in a row of its own length: its per-token losses and their total.
  double total = 0;
  int64_t count = 0;
  std::vector<std::vector<double>> alone;
  for (auto& e : ex) {
    std::vector<SftTokens> one = {e};
    SftBatches single(one, 1, 12, data::SftPacking::None, 1, 0);
    int64_t n = 0;
    model::Batch b = single.rows_batch(0, 1, n);
    EXPECT_EQ(b.T, static_cast<int>(e.ids.size()) - 1);  // padded to its own length: no padding
    m.forward(b);
    alone.push_back(m.token_losses());
    for (size_t k = 0; k < b.targets.size(); ++k)
      if (b.targets[k] >= 0) {
        total += alone.back()[k];
        ++count;
      }
  }
  EXPECT_EQ(count, static_cast<int64_t>(train::loss_tokens(ex)));
  EXPECT_NEAR(packed_loss, total / static_cast<double>(count), 1e-5);

  // Token by token: find each example in the packed rows by its document id.
  std::vector<int> found(ex.size(), 0);
  for (int r = 0; r < pb.B; ++r)
    for (int t = 0; t < pb.T; ++t) {
      size_t k = static_cast<size_t>(r) * pb.T + t;
      if (pb.docs[k] < 0 || pb.positions[k] != 0) continue;
      // The example starting here: match by its first input id and length.
      int len = 0;
      while (t + len < pb.T && pb.docs[k + len] == pb.docs[k] && (len == 0 || pb.positions[k + len] != 0)) ++len;
      for (size_t e = 0; e < ex.size(); ++e) {
        if (static_cast<int>(ex[e].ids.size()) - 1 != len || static_cast<int32_t>(ex[e].ids[0]) != pb.inputs[k])
          continue;
        ++found[e];
        for (int j = 0; j < len; ++j) EXPECT_NEAR(packed_losses[k + j], alone[e][j], 1e-5) << "example " << e;
      }
    }
  for (int f : found) EXPECT_EQ(f, 1);

  // Without document masking the packed row would differ: the masking is what makes them equal.
  model::Batch leaky = pb;
  leaky.set_default_positions();
  EXPECT_GT(std::abs(m.forward(leaky) - packed_loss), 1e-4);
}

TEST(SftPacking, PaddedRowsIgnorePaddingAndMaskPrompt) {
  std::vector<SftTokens> ex = {{{5, 6, 7, 8}, {0, 0, 1, 1}}, {{9, 10}, {0, 1}}};
  SftBatches b(ex, 2, 16, data::SftPacking::None, 1, 3);
  int64_t tokens = 0;
  model::Batch x = b.rows_batch(0, 2, tokens);
  EXPECT_EQ(tokens, 4);
  EXPECT_EQ(x.T, 3);
  EXPECT_EQ(x.inputs, (std::vector<int32_t>{5, 6, 7, 9, 3, 3}));
  EXPECT_EQ(x.targets, (std::vector<int32_t>{-1, 7, 8, 10, -1, -1}));
  EXPECT_TRUE(x.docs.empty());
  EXPECT_EQ(train::loss_tokens(ex), 3u);
}

TEST(SftPacking, CursorRestoresAndEpochsReshuffle) {
  auto ex = examples(13);
  SftBatches a(ex, 2, 8, data::SftPacking::Bfd, 9, 0);
  int64_t n = 0;
  a.next(n);
  std::string state = a.state_json();
  model::Batch expect = a.next(n);
  SftBatches b(ex, 2, 8, data::SftPacking::Bfd, 9, 0);
  b.restore(state);
  model::Batch got = b.next(n);
  EXPECT_EQ(got.inputs, expect.inputs);
  EXPECT_EQ(got.targets, expect.targets);
  // A cursor for another packing is refused, naming the mismatch.
  SftBatches c(ex, 2, 20, data::SftPacking::Bfd, 9, 0);
  try {
    c.restore(state);
    ADD_FAILURE() << "restore accepted a cursor of another packing";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rows"), std::string::npos) << e.what();
  }
  EXPECT_THROW(c.restore("{\"epoch\": \"x\"}"), Error);
  // An example longer than the row is a usage error, not a crash.
  EXPECT_THROW(SftBatches(ex, 2, 4, data::SftPacking::Bfd, 9, 0), Error);
}

}  // namespace
}  // namespace nlm::testing
