// Embedded "sentiment steering" task: a deterministic review corpus and a lexicon sentiment oracle.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace preflab::core {

// Counts positive minus negative lexicon words (whole words, case-insensitive). Thread-safe.
class SentimentOracle {
public:
  // Lexicon score: #positive − #negative words.
  static int score(const std::string &text);
  // Oracle reward in (0, 1): σ(score), the probability that a reader calls the text positive.
  static double reward(const std::string &text);
  // Simulated raters: each prefers `a` with probability σ((score(a) − score(b)) / temperature).
  // Returns how many of `raters` preferred `a`. Draws from `rng`.
  static int rateA(const std::string &a, const std::string &b, int raters, double temperature,
                   std::mt19937_64 &rng);
  static const std::vector<std::string> &positiveWords();
  static const std::vector<std::string> &negativeWords();
};

// The second objective of the sentiment task (MPO's IMDb setting: sentiment and conciseness pull
// apart, since praise takes words): shorter continuations score higher. Thread-safe.
struct ConcisenessOracle {
  // −(words)/4: four words cost as much as one lexicon word gains. Words are maximal runs of
  // non-space bytes.
  static double score(const std::string &text);
  // σ(2 + score): 0.5 at eight words.
  static double reward(const std::string &text);
};

// Which oracle labels the task's pairs (sentiment.reward): the lexicon, conciseness, or the
// minimum of the two standardised scores (MaxMin-RLHF's target on normalised rewards).
enum class TaskReward { Sentiment, Conciseness, MaxMin };
// "sentiment", "conciseness" or "maxmin"; throws InputError (key sentiment.reward) otherwise.
TaskReward taskRewardNamed(const std::string &name);

// The built-in corpus: short reviews from templates, mixed sentiment, deterministic for a seed.
struct SentimentCorpus {
  // Prompts of the labelled pairs, or of evaluation: disjoint sets of openers, so evaluation
  // asks for continuations of openings no training pair had.
  enum class PromptSet { Pairs, Evaluation };
  // Review openers of one set; the first words of a review are its prompt.
  static const std::vector<std::string> &openers(PromptSet set);
  // `count` reviews as (prompt, continuation), openers of both sets; continuation starts with a space.
  static std::vector<std::pair<std::string, std::string>> reviews(std::int64_t count, std::uint64_t seed);
  // `count` prompts drawn from one set's openers, deterministic for a seed.
  static std::vector<std::string> prompts(std::int64_t count, std::uint64_t seed, PromptSet set);
  // Sampling seeds: the pairs' have the top bit clear, evaluation's have it set, so the two never
  // share a seed whatever the run's seed and sizes.
  // Validation's (eval_split: validation) have bit 62 set instead; the pairs' have neither.
  static constexpr std::uint64_t kEvalSeedBit = 1ull << 63;
  static constexpr std::uint64_t kValidationSeedBit = 1ull << 62;
  static std::uint64_t pairSampleSeed(std::uint64_t runSeed, std::uint64_t index);
  static std::uint64_t evalSampleSeed(std::uint64_t index);
  static std::uint64_t validationSampleSeed(std::uint64_t index);
};

} // namespace preflab::core
