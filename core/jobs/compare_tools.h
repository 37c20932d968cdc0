// Torch-free side-by-side comparison of two models' generations with per-token log-ratios to a reference.
#pragma once

#include "core/text/sampling_options.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// One displayable piece of a response: a token, or several consecutive byte-level tokens merged
// so that `text` is whole UTF-8 characters (bytes that never form a valid character become
// U+FFFD). Log-probs are summed over the merged tokens.
struct TokenDelta {
  std::string text;         // valid UTF-8; empty for the end-of-text token
  double logpModel = 0;     // log π_θ of the piece, θ = the model that generated this side
  double logpReference = 0; // log π_ref of the piece
  int tokenCount = 1;       // tokens merged into this piece
  bool isEnd = false;       // the end-of-text token the model chose to stop with
  double delta() const { return logpModel - logpReference; }
};

struct ComparedText {
  std::string text;            // the decoded response (raw bytes as the tokenizer decodes them)
  std::optional<double> score; // oracle or reward-model score; none when the scorer is "none"
  double logpModel = 0;        // Σ of tokens[].logpModel (the sequence log-prob under θ)
  double logpReference = 0;    // Σ of tokens[].logpReference
  std::vector<TokenDelta> tokens;
};

struct ComparedPrompt {
  std::string prompt;
  std::uint64_t seed = 0;
  ComparedText a, b;
};

// What to compare. Folders may be native (gpt_config.json + model.pt), Hugging Face GPT-2
// (config.json + model.safetensors) or training checkpoints (model.pt + trainer_state.json).
// Models that share a folder are loaded once.
struct CompareRequest {
  std::string modelA;       // e.g. the reference model
  std::string modelB;       // e.g. a tuned checkpoint, or run B's policy
  std::string referenceDir; // π_ref of the colouring; empty: modelA
  std::vector<std::string> prompts;
  std::vector<std::uint64_t> seeds; // one per prompt; A and B draw from the same seed
  // When not empty (one per prompt), B draws from seedsB[i] instead: two samples of one model
  // (modelA == modelB) for labeling.
  std::vector<std::uint64_t> seedsB;
  SamplingOptions sampling;
  // "sentiment" (the built-in lexicon oracle's reward in (0, 1)), "none", or the folder of a
  // reward model with a score head (score of prompt ⊕ response at its last token).
  std::string scorer = "sentiment";
  std::string device = "cpu"; // "cpu", "cuda" or "auto"
  std::int64_t batchSize = 8; // prompts per generation batch (and per progress/cancel step)
};

// stage ("loading models", "generating", "scoring"), fraction done in [0, 1].
using CompareProgressFn = std::function<void(const std::string &stage, double fraction)>;

// Generates one response per prompt from A and from B with the prompt's seed (so a model gives
// the same text for the same prompt and seed, whatever else is in the batch), scores both and
// computes the per-token log-probs under the generating model and under the reference (the
// end-of-text token is included when the model stopped by itself). `cancel`, when set, is read
// between batches: the prompts finished so far are returned. Any thread (the call builds its
// own models and sets no-grad itself); slow: call it off the GUI thread.
// Throws InputError naming the folder for a missing or bad model folder, or for prompts/seeds
// of different lengths or an empty prompt.
std::vector<ComparedPrompt> compareGenerations(const CompareRequest &request,
                                               const CompareProgressFn &progress = {},
                                               const std::atomic<bool> *cancel = nullptr);

// Texts generated earlier (e.g. samples/eval_samples.jsonl): the same as compareGenerations,
// but textsA[i] / textsB[i] are taken as A's / B's responses to prompts[i] instead of being
// sampled. request.sampling is unused. Throws InputError as compareGenerations does, and when
// the text lists do not match the prompts in number.
std::vector<ComparedPrompt> scoreExistingTexts(const CompareRequest &request,
                                               const std::vector<std::string> &textsA,
                                               const std::vector<std::string> &textsB,
                                               const CompareProgressFn &progress = {},
                                               const std::atomic<bool> *cancel = nullptr);

// One line of samples/eval_samples.jsonl: a fixed eval prompt with the reference's and the tuned
// policy's samples and their oracle rewards.
struct EvalSample {
  std::string prompt;
  std::uint64_t seed = 0;
  std::string policy, reference;
  std::optional<double> rewardPolicy, rewardReference;
};

// Reads samples/eval_samples.jsonl. Throws InputError naming the file and line for a line that
// is not an object with a string "prompt" and an integer "seed".
std::vector<EvalSample> readEvalSamples(const std::string &path);

// `count` prompts of the built-in sentiment task (its held-out evaluation openers), deterministic
// for a seed.
std::vector<std::string> sentimentPrompts(std::int64_t count, std::uint64_t seed);

// Splits raw bytes into displayable UTF-8: consecutive pieces are merged until they form whole
// characters; bytes that can never start or continue a character become U+FFFD. Exposed for tests.
std::vector<TokenDelta> mergeUtf8Pieces(const std::vector<TokenDelta> &pieces);

} // namespace preflab::core
