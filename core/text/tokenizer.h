// Tokenizer interface and the byte-level tokenizer used by the embedded defaults.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// Turns text into token ids and back. Implementations are immutable after construction, so one
// instance may be shared by several threads.
class Tokenizer {
public:
  virtual ~Tokenizer() = default;
  // The text's ids, without special tokens around them.
  virtual std::vector<std::int64_t> encode(const std::string &text) const = 0;
  // With the special tokens the tokenizer adds around a sequence (a BOS, a template), if any.
  virtual std::vector<std::int64_t> encodeWithSpecialTokens(const std::string &text) const {
    return encode(text);
  }
  // Ids outside the vocabulary and special tokens (EOS among them) decode to nothing.
  virtual std::string decode(const std::vector<std::int64_t> &ids) const = 0;
  // decode(), keeping special tokens unless `skipSpecialTokens`.
  virtual std::string decodeTokens(const std::vector<std::int64_t> &ids, bool skipSpecialTokens) const {
    (void)skipSpecialTokens;
    return decode(ids);
  }
  virtual std::int64_t vocabSize() const = 0;
  virtual std::int64_t eosId() const = 0;
  virtual std::optional<std::int64_t> bosId() const { return std::nullopt; }
  // The token's own string (byte-level tokens in their mapped characters); nullopt when unknown.
  virtual std::optional<std::string> idToToken(std::int64_t id) const {
    (void)id;
    return std::nullopt;
  }
  // The model's chat template (Jinja source from tokenizer_config.json's chat_template), or empty.
  virtual std::string chatTemplate() const { return {}; }
  // A JSON description that tokenizerFromDescription() turns back into an equal tokenizer.
  virtual nlohmann::json describe() const = 0;
};

// Bytes 0..255 are ids 0..255; id 256 is "<|endoftext|>". Lossless for any byte string.
class ByteTokenizer : public Tokenizer {
public:
  static constexpr std::int64_t kEosId = 256;

  std::vector<std::int64_t> encode(const std::string &text) const override;
  std::string decode(const std::vector<std::int64_t> &ids) const override;
  std::int64_t vocabSize() const override { return 257; }
  std::int64_t eosId() const override { return kEosId; }
  nlohmann::json describe() const override;
};

// `ids` with the tokenizer's BOS in front, when it has one and they do not start with it (as
// TRL's DPO trainer prepares prompts).
std::vector<std::int64_t> withBos(const Tokenizer &tokenizer, std::vector<std::int64_t> ids);

// A prompt's ids as TRL's DPO trainer makes them: encoded without special tokens, then withBos.
// An empty prompt of a tokenizer without BOS is the single EOS id: the model is conditioned on a
// document boundary, as GPT-2 conditions unprompted text on <|endoftext|>. Every response is
// predicted from at least one token, so log-probs never read before a row.
std::vector<std::int64_t> encodePrompt(const Tokenizer &tokenizer, const std::string &prompt);

// The text each id adds to the decoded sequence, in order: decode(ids[..i]) minus
// decode(ids[..i-1]) over a window of a few earlier ids, so that a tokenizer whose decoder
// strips or merges across tokens (SentencePiece-style "▁word", byte fallback) shows "Hello",
// " world" rather than "Hello", "world". A piece may be empty (a byte of a character that the
// next id completes comes out with that id) or hold a partial UTF-8 character.
std::vector<std::string> tokenPieces(const Tokenizer &tokenizer, const std::vector<std::int64_t> &ids);

// Builds a tokenizer from describe()'s output; throws InputError on an unknown "type".
std::shared_ptr<Tokenizer> tokenizerFromDescription(const nlohmann::json &description);

} // namespace preflab::core
