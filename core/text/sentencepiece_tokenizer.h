// A SentencePiece tokenizer.model (as Llama 2 and Mistral ship them) through Debian's libsentencepiece.
#pragma once

#include "core/text/tokenizer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// What tokenizer_config.json says about a SentencePiece model; the defaults are Hugging Face's
// LlamaTokenizer's.
struct SentencePieceOptions {
  std::string eosToken;     // the EOS piece by name; empty: the model's own eos_id
  std::string bosToken;     // the BOS piece by name; empty: the model's own bos_id
  bool addBosToken = true;  // encodeWithSpecialTokens() puts the BOS first (add_bos_token)
  bool addEosToken = false; // ... and the EOS last (add_eos_token)
  std::string chatTemplate;
};

// libsentencepiece is not linked into core: its own copy of protobuf clashes with LibTorch's in one
// process (see core/sentencepiece_shim/sentencepiece_shim.h). The first tokenizer loads
// libpreflab_sentencepiece.so with dlopen(RTLD_LOCAL | RTLD_DEEPBIND) from, in order:
// $PREFLAB_SENTENCEPIECE_LIBRARY, the executable's folder, the executable's ../lib, then the path
// the build put it at (the define PREFLAB_SENTENCEPIECE_SHIM). A process that links the shim
// itself (the fuzz target, no LibTorch) uses that copy. AddressSanitizer and ThreadSanitizer abort
// the process on RTLD_DEEPBIND, so in a sanitized process the constructors throw instead. The
// shim refuses model files that would crash libsentencepiece (model_proto_check.h).
//
// Immutable after construction, and the library's encoder and decoder are const: one instance may
// be shared by several threads. Copies share the loaded model.
class SentencePieceTokenizer : public Tokenizer {
public:
  // `modelBytes`: the serialized ModelProto (a tokenizer.model's contents); `file` names it in
  // errors. Throws InputError(file, ...) for bytes that are not a SentencePiece model, a named
  // token the model lacks, a model without an EOS piece, or when the library cannot be loaded.
  SentencePieceTokenizer(std::string modelBytes, const std::string &file, SentencePieceOptions options = {});
  // Reads the file; throws as above, and InputError when it cannot be opened.
  static std::shared_ptr<SentencePieceTokenizer> fromFile(const std::string &path,
                                                          SentencePieceOptions options = {});
  // From describe()'s output ("type": "sentencepiece"); throws InputError with the key.
  explicit SentencePieceTokenizer(const nlohmann::json &description);

  // SentencePiece's own ids (EncodeAsIds): the normalizer, the dummy "▁" prefix, byte fallback.
  // Text such as "<s>" stays text; user-defined pieces match. Throws InputError if the library
  // reports an error (it does not for a loaded model).
  std::vector<std::int64_t> encode(const std::string &text) const override;
  // encode() with the BOS first and / or the EOS last, as the options say.
  std::vector<std::int64_t> encodeWithSpecialTokens(const std::string &text) const override;
  // SentencePiece's decoding: control pieces (BOS, EOS, pad) give nothing, byte pieces their bytes
  // (U+FFFD for a broken UTF-8 sequence), the unknown piece the model's unk_surface (" ⁇ ").
  // Ids outside the vocabulary are dropped.
  std::string decode(const std::vector<std::int64_t> &ids) const override;
  // decode(); unless `skipSpecialTokens`, control pieces appear as their text ("<s>") and the ids
  // between them are decoded as a sequence of their own, as the slow LlamaTokenizer does.
  std::string decodeTokens(const std::vector<std::int64_t> &ids, bool skipSpecialTokens) const override;
  std::int64_t vocabSize() const override;
  std::int64_t eosId() const override { return m_eosId; }
  std::optional<std::int64_t> bosId() const override { return m_bosId; }
  // The piece: "▁world", "<0x0A>", "<s>".
  std::optional<std::string> idToToken(std::int64_t id) const override;
  std::string chatTemplate() const override { return m_options.chatTemplate; }
  // {"type": "sentencepiece", "model": base64 of modelBytes(), "eos_token", "bos_token",
  // "add_bos_token", "add_eos_token", "vocab_size", "chat_template"}.
  nlohmann::json describe() const override;

  // The tokenizer.model bytes it was built from, unchanged (export writes them back).
  const std::string &modelBytes() const { return m_modelBytes; }
  const SentencePieceOptions &options() const { return m_options; }

private:
  struct Model;
  std::string m_modelBytes;
  SentencePieceOptions m_options;
  std::shared_ptr<const Model> m_model;
  std::int64_t m_eosId = -1;
  std::optional<std::int64_t> m_bosId;

  std::string decodeRun(const std::vector<std::int32_t> &ids) const;
};

} // namespace preflab::core
