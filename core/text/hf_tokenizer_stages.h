// The stages of a Hugging Face tokenizer.json around its model: normalizers, pre-tokenizers and
// decoders, each built from its JSON object.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace preflab::core::hf {

// A piece of the input on its way to the model. `atStart`: it begins at offset 0 of the
// original text (Metaspace's prepend_scheme "first" prepends only there).
struct Piece {
  std::string text;
  bool atStart = false;
};

class Normalizer {
public:
  virtual ~Normalizer() = default;
  // `atStart` (in and out): the text's first character comes from offset 0 of the original
  // text; cleared when the normalizer removes the characters there (Strip, Replace with "").
  virtual std::string normalize(std::string text, bool &atStart) const = 0;
  std::string normalize(std::string text) const {
    bool ignored = false;
    return normalize(std::move(text), ignored);
  }
};

class PreTokenizer {
public:
  virtual ~PreTokenizer() = default;
  // Splits and rewrites `pieces` in place; empty pieces are dropped.
  virtual void split(std::vector<Piece> &pieces) const = 0;
};

class Decoder {
public:
  virtual ~Decoder() = default;
  // Token strings in, strings out (joined with "" by the caller), as tokenizers' decode_chain.
  virtual std::vector<std::string> decodeChain(std::vector<std::string> tokens) const = 0;
};

// Each throws InputError with the key path under `key` (e.g. "pre_tokenizer.pretokenizers[1]
// .type") for an unknown type, a missing or mistyped field, or a pattern that does not compile.
// A null JSON value gives nullptr (no such stage).
std::unique_ptr<Normalizer> makeNormalizer(const nlohmann::json &j, const std::string &key);
std::unique_ptr<PreTokenizer> makePreTokenizer(const nlohmann::json &j, const std::string &key);
std::unique_ptr<Decoder> makeDecoder(const nlohmann::json &j, const std::string &key);

// GPT-2's byte-to-character table: every byte maps to a printable character.
const std::string &byteToCharUtf8(unsigned char byte);
// The inverse; -1 for a code point that is no byte's character.
int charToByte(char32_t cp);

// Field readers that name the key path when a field is missing or of the wrong type.
const nlohmann::json &field(const nlohmann::json &j, const std::string &name, const std::string &key);
std::string stringField(const nlohmann::json &j, const std::string &name, const std::string &key);
bool boolField(const nlohmann::json &j, const std::string &name, const std::string &key, bool fallback);
std::string typeOf(const nlohmann::json &j, const std::string &key);

} // namespace preflab::core::hf
