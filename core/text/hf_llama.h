// Exchange of Llama-family models (llama, mistral, qwen2, qwen3) as Hugging Face folders.
#pragma once

#include "core/text/causal_lm.h"
#include "core/text/tokenizer.h"

#include <memory>
#include <string>

namespace preflab::core {

class LlamaImpl;

// Loads a folder transformers wrote: config.json (llamaConfigFromHf: unsupported keys refused
// by name), weights from model.safetensors or the shards model.safetensors.index.json lists,
// in F32, F16 or BF16 (computed in float32 here). Every tensor must be one the model expects,
// with its shape, and every expected tensor must be there (errors name the file and tensor);
// "rotary_emb.inv_freq" buffers of older files are skipped; with tied embeddings an lm_head
// must equal the embedding. tokenizerOut, when not null, receives the folder's tokenizer
// (tokenizer.json or vocab.json + merges.txt): InputError when there is none, when its
// vocabulary exceeds the model's, or when it names no EOS token. On the CPU, in training mode.
CausalLm importHfLlama(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizerOut);

// Writes `dir` (created when missing) so that the folder loads wherever the original did:
// config.json of the model's own model_type, generation_config.json, model.safetensors with
// Hugging Face's tensor names in the dtype the model was read in (torch_dtype), and the
// tokenizer files (writeTokenizerFiles). Shards and an index left in `dir` by an earlier
// export are removed. Throws std::runtime_error when a file cannot be written.
void exportHfLlama(const LlamaImpl &model, const Tokenizer &tokenizer, const std::string &dir);

} // namespace preflab::core
