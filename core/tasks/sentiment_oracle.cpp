// Review templates and the lexicon oracle of the sentiment-steering task.
#include "core/tasks/sentiment_oracle.h"

#include "core/io/input_error.h"
#include "core/tasks/raters.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace preflab::core {

namespace {

const std::vector<std::string> kPositive = {
    "great",      "wonderful", "fun",       "brilliant", "lovely", "moving", "superb", "charming",
    "delightful", "excellent", "beautiful", "funny",     "clever", "fresh",  "warm",   "perfect"};
const std::vector<std::string> kNegative = {"boring",  "awful", "dull",  "terrible", "weak", "bland",
                                            "painful", "messy", "silly", "poor",     "flat", "clumsy",
                                            "tedious", "cheap", "lazy",  "bad"};
const std::vector<std::string> kNeutral = {"long",    "short", "loud", "quiet", "simple",
                                           "strange", "slow",  "fast", "old",   "new"};
const std::vector<std::string> kSubjects = {"the acting",   "the plot",   "the music", "the ending",
                                            "the cast",     "the script", "the story", "the pacing",
                                            "the dialogue", "the jokes"};
// Openers of the labelled pairs, and openers held out for evaluation only (the SFT corpus has
// both, so the reference can continue either).
const std::vector<std::string> kPairOpeners = {"the movie", "this film",   "the show",   "this book",
                                               "the play",  "this series", "the sequel", "this story"};
const std::vector<std::string> kEvalOpeners = {"the documentary", "this album", "the novel", "this musical"};
const std::vector<std::string> kOpeners = [] {
  auto all = kPairOpeners;
  all.insert(all.end(), kEvalOpeners.begin(), kEvalOpeners.end());
  return all;
}();
const std::vector<std::string> kLinks = {" and ", " but ", ", and ", " while "};

template <typename T> const T &pick(const std::vector<T> &v, std::mt19937_64 &rng) {
  return v[std::size_t(rng() % v.size())];
}

// An adjective whose polarity follows the review's mood: +1 positive, -1 negative, 0 mixed.
const std::string &adjective(int mood, std::mt19937_64 &rng) {
  const double u = double(rng() >> 11) / 9007199254740992.0;
  const double pPos = mood > 0 ? 0.75 : mood < 0 ? 0.1 : 0.4;
  const double pNeg = mood > 0 ? 0.1 : mood < 0 ? 0.75 : 0.4;
  if (u < pPos)
    return pick(kPositive, rng);
  if (u < pPos + pNeg)
    return pick(kNegative, rng);
  return pick(kNeutral, rng);
}

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

} // namespace

int SentimentOracle::score(const std::string &text) {
  static const std::set<std::string> pos(kPositive.begin(), kPositive.end());
  static const std::set<std::string> neg(kNegative.begin(), kNegative.end());
  int s = 0;
  std::string word;
  auto flush = [&] {
    s += int(pos.count(word)) - int(neg.count(word));
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isalpha(c))
      word.push_back(char(std::tolower(c)));
    else
      flush();
  }
  flush();
  return s;
}

double SentimentOracle::reward(const std::string &text) {
  return sigmoid(double(score(text)));
}

double ConcisenessOracle::score(const std::string &text) {
  int words = 0;
  bool inWord = false;
  for (unsigned char c : text) {
    const bool space = std::isspace(c) != 0;
    words += !space && !inWord;
    inWord = !space;
  }
  return -double(words) / 4.0;
}

double ConcisenessOracle::reward(const std::string &text) {
  return sigmoid(2.0 + score(text));
}

TaskReward taskRewardNamed(const std::string &name) {
  if (name == "sentiment")
    return TaskReward::Sentiment;
  if (name == "conciseness")
    return TaskReward::Conciseness;
  if (name == "maxmin")
    return TaskReward::MaxMin;
  throw InputError({}, 0, "sentiment.reward", "is '" + name + "', must be sentiment, conciseness or maxmin");
}

int SentimentOracle::rateA(const std::string &a, const std::string &b, int raters, double temperature,
                           std::mt19937_64 &rng) {
  return simulateRaterVotes(double(score(a)), double(score(b)), raters, temperature, rng);
}

const std::vector<std::string> &SentimentOracle::positiveWords() {
  return kPositive;
}
const std::vector<std::string> &SentimentOracle::negativeWords() {
  return kNegative;
}

const std::vector<std::string> &SentimentCorpus::openers(PromptSet set) {
  return set == PromptSet::Pairs ? kPairOpeners : kEvalOpeners;
}

std::vector<std::pair<std::string, std::string>> SentimentCorpus::reviews(std::int64_t count,
                                                                          std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::pair<std::string, std::string>> out;
  for (std::int64_t i = 0; i < count; ++i) {
    const int mood = int(rng() % 3) - 1;
    std::string text = " was " + adjective(mood, rng) + ".";
    // One or two more clauses keep reviews under ~90 bytes, so a byte-level model sees whole ones.
    text += " " + pick(kSubjects, rng) + " was " + adjective(mood, rng);
    if (rng() % 2)
      text += pick(kLinks, rng) + pick(kSubjects, rng) + " was " + adjective(mood, rng);
    text += ".";
    out.emplace_back(pick(kOpeners, rng), text);
  }
  return out;
}

std::vector<std::string> SentimentCorpus::prompts(std::int64_t count, std::uint64_t seed, PromptSet set) {
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  std::vector<std::string> out;
  for (std::int64_t i = 0; i < count; ++i)
    out.push_back(pick(openers(set), rng));
  return out;
}

std::uint64_t SentimentCorpus::pairSampleSeed(std::uint64_t runSeed, std::uint64_t index) {
  return (runSeed * 7919ull + index) & ~(kEvalSeedBit | kValidationSeedBit);
}

std::uint64_t SentimentCorpus::validationSampleSeed(std::uint64_t index) {
  return kValidationSeedBit | (2000003ull + index);
}

std::uint64_t SentimentCorpus::evalSampleSeed(std::uint64_t index) {
  return kEvalSeedBit | (1000003ull + index);
}

} // namespace preflab::core
