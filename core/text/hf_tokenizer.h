// HfTokenizer: a Hugging Face tokenizer.json (BPE model) with its normalizer, pre-tokenizer,
// added tokens, post-processor and decoder, giving the ids Hugging Face's tokenizers gives.
#pragma once

#include "core/text/tokenizer.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// Which added token is the end (and beginning) of a sequence: from tokenizer_config.json /
// special_tokens_map.json beside the file, which tokenizer.json itself does not say.
struct SpecialTokenNames {
  std::string eos, bos;
  std::string chatTemplate; // tokenizer_config.json's chat_template (the default one of a list)
};

// Immutable after construction: encode and decode may be called from several threads.
class HfTokenizer : public Tokenizer {
public:
  // `description`: the parsed tokenizer.json. Throws InputError with the key path for anything
  // unsupported or malformed (a model other than BPE, an unknown stage, a merge outside the
  // vocabulary); the caller adds the file name.
  explicit HfTokenizer(nlohmann::json description, SpecialTokenNames names = {});
  ~HfTokenizer() override;

  // Without the post-processor's special tokens (TRL tokenises prompts and completions so).
  std::vector<std::int64_t> encode(const std::string &text) const override;
  std::vector<std::int64_t> encodeWithSpecialTokens(const std::string &text) const override;
  // Skips special tokens (EOS among them) and unknown ids.
  std::string decode(const std::vector<std::int64_t> &ids) const override;
  std::string decodeTokens(const std::vector<std::int64_t> &ids, bool skipSpecialTokens) const override;
  std::int64_t vocabSize() const override;
  std::int64_t eosId() const override;
  std::optional<std::int64_t> bosId() const override;
  std::optional<std::string> idToToken(std::int64_t id) const override;
  std::string chatTemplate() const override;
  // The tokenizer.json it was built from, unchanged.
  nlohmann::json describe() const override;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace preflab::core
