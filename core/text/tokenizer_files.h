// Opening a tokenizer as users have one: a tokenizer.json, a tokenizer.model, or a model folder.
#pragma once

#include "core/text/tokenizer.h"

#include <memory>
#include <string>

namespace preflab::core {

// `path` is one of:
//   - a Hugging Face tokenizer.json (any name ending in .json), with tokenizer_config.json or
//     special_tokens_map.json beside it naming the EOS / BOS tokens when present;
//   - a SentencePiece tokenizer.model (any name ending in .model), with tokenizer_config.json
//     beside it for eos_token / bos_token / add_bos_token / add_eos_token / chat_template;
//   - a folder holding tokenizer.json, else tokenizer.model, else vocab.json + merges.txt (GPT-2's
//     byte-level BPE files).
// JSON files may be gzip-compressed. Throws InputError naming the file and key for anything
// missing, malformed or unsupported.
std::shared_ptr<Tokenizer> loadTokenizer(const std::string &path);

// Writes `tokenizer` into the model folder `dir` so that loadTokenizer(dir) (and Hugging Face's
// libraries) restore it: a Hugging Face tokenizer as the tokenizer.json it came from plus
// tokenizer_config.json naming its EOS / BOS tokens; a SentencePiece one as the tokenizer.model it
// came from plus tokenizer_config.json (a tokenizer.json left there is removed: it would win);
// PrefLab's byte-level one as preflab_tokenizer.json. Returns the file name written. Throws
// std::runtime_error when a file cannot be written.
std::string writeTokenizerFiles(const Tokenizer &tokenizer, const std::string &dir,
                                std::int64_t modelMaxLength);

} // namespace preflab::core
