// Byte-level tokenizer and the factory that restores a tokenizer from its saved description.
#include "core/text/tokenizer.h"

#include "core/io/input_error.h"
#include "core/text/hf_tokenizer.h"
#include "core/text/sentencepiece_tokenizer.h"

namespace preflab::core {

std::vector<std::int64_t> ByteTokenizer::encode(const std::string &text) const {
  std::vector<std::int64_t> ids;
  ids.reserve(text.size());
  for (unsigned char c : text)
    ids.push_back(static_cast<std::int64_t>(c));
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<std::int64_t> &ids) const {
  std::string text;
  text.reserve(ids.size());
  for (std::int64_t id : ids)
    if (id >= 0 && id < 256)
      text.push_back(static_cast<char>(id));
  return text;
}

nlohmann::json ByteTokenizer::describe() const {
  return {{"type", "byte"}, {"vocab_size", vocabSize()}, {"eos_token_id", kEosId},
          {"eos_token", "<|endoftext|>"}};
}

std::shared_ptr<Tokenizer> tokenizerFromDescription(const nlohmann::json &description) {
  if (!description.is_object())
    throw InputError({}, 0, {},
                     std::string("a tokenizer description must be a JSON object, got ") +
                         description.type_name());
  if (description.contains("model") && description["model"].is_object()) // a Hugging Face tokenizer.json
    return std::make_shared<HfTokenizer>(description);
  if (description.contains("type") && !description["type"].is_string())
    throw InputError({}, 0, "type", std::string("must be a string, got ") + description["type"].type_name());
  const std::string type = description.value("type", "");
  if (type == "byte")
    return std::make_shared<ByteTokenizer>();
  if (type == "sentencepiece")
    return std::make_shared<SentencePieceTokenizer>(description);
  throw InputError({}, 0, "type",
                   "unknown tokenizer type '" + type + "' (known: byte, sentencepiece, or a tokenizer.json)");
}

std::vector<std::string> tokenPieces(const Tokenizer &tokenizer, const std::vector<std::int64_t> &ids) {
  constexpr std::size_t kWindow = 4;
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::size_t from = i > kWindow ? i - kWindow : 0;
    const std::vector<std::int64_t> before(ids.begin() + std::ptrdiff_t(from),
                                           ids.begin() + std::ptrdiff_t(i));
    auto with = before;
    with.push_back(ids[i]);
    const auto a = tokenizer.decodeTokens(before, true), b = tokenizer.decodeTokens(with, true);
    out.push_back(b.compare(0, a.size(), a) == 0 ? b.substr(a.size())
                                                 : tokenizer.decodeTokens({ids[i]}, true));
  }
  return out;
}

std::vector<std::int64_t> withBos(const Tokenizer &tokenizer, std::vector<std::int64_t> ids) {
  if (const auto bos = tokenizer.bosId(); bos && (ids.empty() || ids.front() != *bos))
    ids.insert(ids.begin(), *bos);
  return ids;
}

std::vector<std::int64_t> encodePrompt(const Tokenizer &tokenizer, const std::string &prompt) {
  auto ids = withBos(tokenizer, tokenizer.encode(prompt));
  if (ids.empty())
    ids.push_back(tokenizer.eosId());
  return ids;
}

} // namespace preflab::core
