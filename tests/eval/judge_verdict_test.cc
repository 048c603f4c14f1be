// Reading judge outputs: MT-Bench's [[rating]] with its [rating] fallback, the pairwise verdict,
// and the both-orders rule (disagreement is a tie).
#include <gtest/gtest.h>

#include "eval/judge/verdict.h"

namespace nlm::eval::judge {
namespace {

TEST(JudgeVerdict, Ratings) {
  EXPECT_EQ(parse_rating("The answer is fine. Rating: [[7]]"), 7.0);
  EXPECT_EQ(parse_rating("Rating: [[7.5]]"), 7.5);
  EXPECT_EQ(parse_rating("[[10]]"), 10.0);
  EXPECT_EQ(parse_rating("[[1]]"), 1.0);
  EXPECT_EQ(parse_rating("[[8.]]"), 8.0);
  // Several ratings: the first double-bracketed one, as MT-Bench's re.search.
  EXPECT_EQ(parse_rating("I thought [[3]] but then [[9]]"), 3.0);
  EXPECT_EQ(parse_rating("[4] first, then Rating: [[6]]"), 6.0);
  // The single-bracket fallback.
  EXPECT_EQ(parse_rating("Rating: [6]"), 6.0);
  EXPECT_EQ(parse_rating("see [note] then [[x]] then [5]"), 5.0);
  // None, or out of range.
  EXPECT_FALSE(parse_rating("No rating here."));
  EXPECT_FALSE(parse_rating("Rating: [[rating]]"));
  EXPECT_FALSE(parse_rating("Rating: 7/10"));
  EXPECT_FALSE(parse_rating("[[11]]"));
  EXPECT_FALSE(parse_rating("[[0]]"));
  EXPECT_FALSE(parse_rating("[[10.5]]"));
  EXPECT_FALSE(parse_rating("[[-3]]"));
  EXPECT_FALSE(parse_rating("[[ 7 ]]"));
  // A number too long for a double is out of range, not an exception.
  EXPECT_FALSE(parse_rating("Rating: [[" + std::string(400, '9') + "]]"));
  EXPECT_EQ(parse_rating("[[7." + std::string(400, '0') + "1]]"), 7.0);
  EXPECT_FALSE(parse_rating(""));
  EXPECT_FALSE(parse_rating("[["));
}

TEST(JudgeVerdict, Verdicts) {
  EXPECT_EQ(parse_verdict("Assistant A is clearer. [[A]]"), Verdict::A);
  EXPECT_EQ(parse_verdict("[[B]]"), Verdict::B);
  EXPECT_EQ(parse_verdict("Both equal: [[C]]"), Verdict::Tie);
  // MT-Bench's precedence when several appear: A, then B, then C.
  EXPECT_EQ(parse_verdict("[[B]] ... on reflection [[A]]"), Verdict::A);
  EXPECT_EQ(parse_verdict("[[C]] or [[B]]"), Verdict::B);
  EXPECT_FALSE(parse_verdict("A is better"));
  EXPECT_FALSE(parse_verdict("[A]"));
  EXPECT_FALSE(parse_verdict("[[a]]"));
}

TEST(JudgeVerdict, BothOrdersRule) {
  // Game 2 shows answer_b as "A": its A means the record's B.
  EXPECT_EQ(unswap(Verdict::A), Verdict::B);
  EXPECT_EQ(unswap(Verdict::B), Verdict::A);
  EXPECT_EQ(unswap(Verdict::Tie), Verdict::Tie);
  // A consistent judge: A wins in game 1, and in game 2 picks the second slot ([[B]]) = A.
  EXPECT_EQ(combine(Verdict::A, unswap(Verdict::B)), Verdict::A);
  EXPECT_EQ(combine(Verdict::B, unswap(Verdict::A)), Verdict::B);
  // A position-biased judge ([[A]] both times) disagrees with itself: a tie.
  EXPECT_EQ(combine(Verdict::A, unswap(Verdict::A)), Verdict::Tie);
  EXPECT_EQ(combine(Verdict::A, unswap(Verdict::Tie)), Verdict::Tie);
  EXPECT_EQ(combine(Verdict::Tie, Verdict::Tie), Verdict::Tie);
  EXPECT_STREQ(verdict_name(Verdict::Tie), "tie");
}

}  // namespace
}  // namespace nlm::eval::judge
