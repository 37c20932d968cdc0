// Exchange of the GPT-2-architecture model as a Hugging Face folder (config.json + safetensors).
#pragma once

#include "core/text/gpt.h"
#include "core/text/tokenizer.h"

#include <memory>
#include <string>

namespace preflab::core {

// Writes `dir` (created when missing) so that transformers' GPT2LMHeadModel.from_pretrained()
// loads it: config.json, generation_config.json, model.safetensors with GPT-2's tensor names
// ("transformer.h.0.attn.c_attn.weight", ...) and Conv1D weights transposed to [in, out], and
// the tokenizer: a Hugging Face one as tokenizer.json + tokenizer_config.json (EOS / BOS names),
// PrefLab's byte-level one as preflab_tokenizer.json, so that importHfGpt2 restores it.
// lm_head.weight is not written: it is tied to transformer.wte.weight, which transformers re-ties.
// A model with a score head is written as GPT2ForSequenceClassification ("score.weight", one
// label, pad_token_id = EOS). Note that transformers scores the last non-pad token itself, where
// GptImpl::score takes the index from the caller.
// Reads the model's parameters (any device, any float dtype); the caller must not train it
// concurrently. Throws std::invalid_argument when the tokenizer's vocabulary is larger than the
// model's, std::runtime_error when a file cannot be written. Each file is replaced atomically.
void exportHfGpt2(const GptImpl &model, const Tokenizer &tokenizer, const std::string &dir);
inline void exportHfGpt2(const Gpt &model, const Tokenizer &tokenizer, const std::string &dir) {
  exportHfGpt2(*model, tokenizer, dir);
}

// Loads a GPT-2 folder written by exportHfGpt2 or by transformers (model_type "gpt2"), on the
// CPU, in float32 (F16/BF16/F64 weights are converted), in training mode as a fresh Gpt is.
// - Tensor names may carry the "transformer." prefix or not; the "attn.bias"/"attn.masked_bias"
//   buffers older transformers saved are ignored. Every other tensor must be one the model
//   expects, with the expected shape; nothing is dropped silently.
// - lm_head.weight, when present, must equal transformer.wte.weight exactly (the head is tied
//   here); a different one is an error rather than being ignored, since ignoring it would compute
//   a different function than the file describes.
// - Hyper-parameters our model hard-wires (tanh GELU, layer-norm epsilon 1e-5, n_inner = 4 *
//   n_embd, scaled attention) are checked, not assumed. dropout = resid_pdrop.
// - tokenizerOut, when not null, receives preflab_tokenizer.json's tokenizer, else the folder's
//   Hugging Face tokenizer.json (or vocab.json + merges.txt: GPT-2's real BPE), else a
//   ByteTokenizer when vocab_size is 257; any other folder is an InputError. Pass null to load
//   the weights alone.
// Throws InputError naming the file and key (tensor name, config key) on any bad input.
Gpt importHfGpt2(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizerOut = nullptr);

} // namespace preflab::core
