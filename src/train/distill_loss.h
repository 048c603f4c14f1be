// The knowledge-distillation loss of `nativelm distill` on host logits, in double precision, with
// its gradient by the student's logits (what Llama::backward_logits takes). Per position, with
// temperature τ, teacher logits t and student logits s over the vocabulary V:
//   p = softmax(t/τ)                       the teacher's softened distribution
//   q = p on the support S, renormalised   S = V (top_k = 0) or the teacher's top_k ids; q_i = p_i / Σ_S p
//   log r = log_softmax(s/τ)               over the full vocabulary, read at the ids of S
//   kd = τ² · Σ_{i∈S} q_i (log q_i − log r_i)        ∂kd/∂s_j = τ · (softmax(s/τ)_j − q_j)   (q_j = 0 off S)
//   ce = −log softmax(s)_target                        ∂ce/∂s_j = softmax(s)_j − [j = target]
//   loss = alpha · mean kd + (1 − alpha) · mean ce     (means over positions whose target ≥ 0)
// The tail outside the top-k support is dropped, not bucketed: the teacher mass there is spread
// over S by the renormalisation, and the student is pulled only at the ids of S (its probability
// elsewhere falls because its log-softmax is over all of V). kd ≥ 0 still holds (Σ_S r ≤ 1), and
// with top_k = V it is exactly the full KL. τ² keeps the gradient's size independent of τ
// (Hinton et al. 2015), so alpha mixes like-sized terms. τ defaults to 1 (as Minitron and Gemma 2
// distil LMs): a teacher's distribution over a vocabulary already spreads mass over runner-up
// tokens, and τ = 2 was clearly worse in distill_test's runs (held-out KL 1.25 vs 0.74 at τ = 1).
#pragma once
#include <cstdint>
#include <vector>

namespace nlm::train {

struct DistillLossOptions {
  double temperature = 1.0;  // τ > 0
  double alpha = 0.5;        // weight of kd; 1 − alpha of ce
  int64_t top_k = 0;         // teacher ids kept per position (0 = the full vocabulary)
};

// The teacher's side of the loss for N positions: K targets per position (K = V with top_k = 0,
// ids then implicit 0..V−1; top_k > V is an error). What a precomputed teacher would store.
struct TeacherTargets {
  int64_t N = 0, V = 0, K = 0;
  std::vector<int32_t> ids;  // [N, K] vocabulary ids (empty when K = V: the identity)
  std::vector<float> probs;  // [N, K] q, summing to 1 per position
};

// From teacher logits [N, V] (row-major) at temperature τ; top-k ids are ordered by logit, ties
// by id, so the result does not depend on the thread count.
TeacherTargets teacher_targets(const std::vector<float>& logits, int64_t N, int64_t V, const DistillLossOptions& o);

struct DistillLoss {
  double kd = 0, ce = 0, total = 0;  // means over the counted positions
  int64_t positions = 0;             // targets ≥ 0
};

// The loss of student logits [N, V] against `teacher` and the LM targets [N] (< 0 skipped).
// With `grad` (resized to N·V), ∂total/∂logits · scale is written there (0 on skipped rows).
DistillLoss distill_loss(const std::vector<float>& student, const std::vector<int32_t>& targets,
                         const TeacherTargets& teacher, const DistillLossOptions& o, double scale,
                         std::vector<float>* grad);

// Full-vocabulary KL(softmax(t) ‖ softmax(s)) at τ = 1, summed over positions whose target ≥ 0:
// the held-out figure of how far the student is from the teacher, whatever the training τ and k.
double kl_sum(const std::vector<float>& teacher, const std::vector<float>& student, const std::vector<int32_t>& targets,
              int64_t V);

}  // namespace nlm::train
