// Reading a judge's free text: MT-Bench's "[[rating]]" (with its "[rating]" fallback) and the
// pairwise "[[A]]" / "[[B]]" / "[[C]]" verdict, and MT-Bench's rule for a pair judged in both
// orders (two verdicts that disagree are a tie).
#pragma once
#include <optional>
#include <string_view>

namespace nlm::eval::judge {

// The first "[[N]]" in `text` (N: digits with an optional fraction, as MT-Bench's
// \[\[(\d+\.?\d*)\]\]), else the first "[N]"; nullopt when there is none or the number it
// finds is outside 1..10 (MT-Bench itself would keep such a number; here it counts as unparsed).
std::optional<double> parse_rating(std::string_view text);

enum class Verdict { A, B, Tie };

// MT-Bench's rule: "[[A]]" anywhere wins over "[[B]]", which wins over "[[C]]" (tie); nullopt
// when none of the three appears.
std::optional<Verdict> parse_verdict(std::string_view text);

// The verdict of the swapped game (answer_b shown as A) in the record's own terms.
Verdict unswap(Verdict swapped);

// Both orders' verdicts, in the record's terms, combined: equal verdicts stand, disagreement
// is a tie.
Verdict combine(Verdict first, Verdict second_unswapped);

const char* verdict_name(Verdict v);  // "A", "B", "tie"

}  // namespace nlm::eval::judge
