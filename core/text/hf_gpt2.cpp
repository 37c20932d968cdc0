// Hugging Face GPT-2 folders: name mapping, Conv1D transposition, config translation, checks.
#include "core/text/hf_gpt2.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/safetensors.h"
#include "core/text/lora.h"
#include "core/text/tokenizer_files.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace preflab::core {

namespace fs = std::filesystem;

namespace {

const std::string kPrefix = "transformer.";
constexpr const char *kWeightsFile = "model.safetensors";
constexpr const char *kConfigFile = "config.json";
constexpr const char *kTokenizerFile = "preflab_tokenizer.json";

bool endsWith(const std::string &s, const std::string &tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// GPT-2 stores these projections as Conv1D, weight [in, out]; ours are Linear, [out, in].
bool isConv1dWeight(const std::string &ourName) {
  return endsWith(ourName, ".attn.c_attn.weight") || endsWith(ourName, ".attn.c_proj.weight") ||
         endsWith(ourName, ".mlp.c_fc.weight") || endsWith(ourName, ".mlp.c_proj.weight");
}

std::string hfName(const std::string &ourName) {
  return ourName == "score_head.weight" ? "score.weight" : kPrefix + ourName;
}

// The shape a parameter has in the file: Conv1D weights are stored transposed.
std::vector<std::int64_t> fileShape(const std::string &ourName, const torch::Tensor &param) {
  return (isConv1dWeight(ourName) ? param.t() : param).sizes().vec();
}

std::string shapeText(torch::IntArrayRef sizes) {
  std::ostringstream out;
  out << sizes;
  return out.str();
}

std::string torchDtypeName(torch::ScalarType type) {
  if (type == torch::kFloat16)
    return "float16";
  if (type == torch::kBFloat16)
    return "bfloat16";
  return type == torch::kFloat64 ? "float64" : "float32";
}

void writeJson(const fs::path &path, const nlohmann::json &json) {
  writeFileAtomic(path.string(), json.dump(2) + "\n");
}

nlohmann::json readJson(const fs::path &path) {
  const std::string text = readFile(path.string());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception &e) {
    throw InputError(path.string(), 0, {}, std::string("not valid JSON: ") + e.what());
  }
}

nlohmann::json hfConfigJson(const GptConfig &c, const Tokenizer &tokenizer, torch::ScalarType dtype,
                            const std::string &tokenizerFile) {
  nlohmann::json j = {{"model_type", "gpt2"},
                      {"architectures", {c.scoreHead ? "GPT2ForSequenceClassification" : "GPT2LMHeadModel"}},
                      {"n_layer", c.nLayer},
                      {"n_head", c.nHead},
                      {"n_embd", c.nEmbd},
                      {"n_positions", c.blockSize},
                      {"n_ctx", c.blockSize},
                      {"n_inner", nullptr}, // = 4 * n_embd
                      {"vocab_size", c.vocabSize},
                      {"activation_function", "gelu_new"},
                      {"layer_norm_epsilon", 1e-5},
                      {"resid_pdrop", c.dropout},
                      {"embd_pdrop", c.dropout},
                      {"attn_pdrop", c.dropout},
                      {"initializer_range", 0.02},
                      {"scale_attn_weights", true},
                      {"bos_token_id", tokenizer.eosId()},
                      {"eos_token_id", tokenizer.eosId()},
                      {"tie_word_embeddings", true},
                      {"torch_dtype", torchDtypeName(dtype)},
                      {"preflab", {{"score_head", c.scoreHead}, {"tokenizer", tokenizerFile}}}};
  if (c.scoreHead) {
    // One regression-style label; transformers needs a pad id to find each row's last token.
    j["id2label"] = {{"0", "LABEL_0"}};
    j["label2id"] = {{"LABEL_0", 0}};
    j["pad_token_id"] = tokenizer.eosId();
  }
  return j;
}

// --- import: config.json -------------------------------------------------------------------

class HfConfigReader {
public:
  HfConfigReader(std::string path, const nlohmann::json &json)
      : m_path(std::move(path)), m_json(json) {}

  // Throws InputError naming the file and key; JSON type errors included.
  GptConfig read() const;

private:
  GptConfig readUnchecked() const;
  [[noreturn]] void fail(const std::string &key, const std::string &message) const {
    throw InputError(m_path, 0, key, message);
  }
  std::int64_t integer(const std::string &key) const;
  double number(const std::string &key, double fallback) const;
  void checkFixedArchitecture() const;

  std::string m_path;
  const nlohmann::json &m_json;
};

std::int64_t HfConfigReader::integer(const std::string &key) const {
  if (!m_json.contains(key))
    fail(key, "missing");
  if (!m_json[key].is_number_integer())
    fail(key, "must be an integer, got " + m_json[key].dump());
  return m_json[key].get<std::int64_t>();
}

double HfConfigReader::number(const std::string &key, double fallback) const {
  if (!m_json.contains(key) || m_json[key].is_null())
    return fallback;
  if (!m_json[key].is_number())
    fail(key, "must be a number, got " + m_json[key].dump());
  return m_json[key].get<double>();
}

// GPT-2 options that change the computed function but that GptImpl hard-wires: refuse files
// that set them differently instead of loading a model that silently computes something else.
void HfConfigReader::checkFixedArchitecture() const {
  const std::string act = m_json.value("activation_function", std::string("gelu_new"));
  if (act != "gelu_new" && act != "gelu_pytorch_tanh")
    fail("activation_function", "'" + act + "' is not supported (only the tanh GELU: gelu_new)");
  const double eps = number("layer_norm_epsilon", 1e-5);
  if (std::abs(eps - 1e-5) > 1e-12)
    fail("layer_norm_epsilon", "must be 1e-05, the value the model uses");
  const std::int64_t nEmbd = integer("n_embd");
  if (m_json.contains("n_inner") && !m_json["n_inner"].is_null() &&
      !(m_json["n_inner"].is_number_integer() &&
        m_json["n_inner"].get<std::int64_t>() == 4 * nEmbd))
    fail("n_inner", "must be null or 4 * n_embd = " + std::to_string(4 * nEmbd));
  if (!m_json.value("scale_attn_weights", true))
    fail("scale_attn_weights", "false is not supported");
  if (m_json.value("scale_attn_by_inverse_layer_idx", false))
    fail("scale_attn_by_inverse_layer_idx", "true is not supported");
  if (m_json.value("add_cross_attention", false))
    fail("add_cross_attention", "true is not supported (decoder-only models only)");
}

GptConfig HfConfigReader::read() const {
  try {
    return readUnchecked();
  } catch (const nlohmann::json::exception &e) {
    fail({}, e.what());
  }
}

GptConfig HfConfigReader::readUnchecked() const {
  if (!m_json.is_object())
    fail({}, "must be a JSON object");
  const std::string type = m_json.value("model_type", std::string("gpt2"));
  if (type != "gpt2")
    fail("model_type", "'" + type + "': only GPT-2 models (model_type \"gpt2\") can be imported");
  checkFixedArchitecture();
  GptConfig c;
  c.nLayer = integer("n_layer");
  c.nHead = integer("n_head");
  c.nEmbd = integer("n_embd");
  c.vocabSize = integer("vocab_size");
  c.blockSize = integer(m_json.contains("n_positions") ? "n_positions" : "n_ctx");
  c.dropout = number("resid_pdrop", 0.1); // transformers' default when absent
  c.scoreHead = m_json.contains("preflab") && m_json["preflab"].is_object() &&
                m_json["preflab"].value("score_head", false);
  try {
    c.validate();
  } catch (const InputError &e) {
    const std::string key = e.key() == "block_size" ? "n_positions"
                            : e.key() == "dropout"  ? "resid_pdrop"
                                                    : e.key();
    fail(key, e.message());
  }
  return c;
}

// --- import: model.safetensors -------------------------------------------------------------

struct FileTensor {
  std::string fileName; // as spelled in the file, for error messages
  torch::Tensor tensor;
};

struct HfWeights {
  std::map<std::string, FileTensor> byOurName;
  std::optional<FileTensor> lmHead;
};

std::string locateWeights(const fs::path &root) {
  const fs::path weights = root / kWeightsFile;
  if (fs::exists(weights))
    return weights.string();
  if (fs::exists(root / "model.safetensors.index.json"))
    throw InputError(weights.string(), 0, {},
                     "not found; sharded checkpoints (model.safetensors.index.json) are not "
                     "supported yet");
  if (fs::exists(root / "pytorch_model.bin"))
    throw InputError(
        weights.string(), 0, {},
        "not found; only safetensors weights are read (pytorch_model.bin is a pickle)");
  throw InputError(weights.string(), 0, {}, "not found");
}

// Maps file names to ours: strips "transformer.", drops the causal-mask buffers, sets lm_head
// aside, renames the classification head.
HfWeights collectWeights(const std::string &path) {
  HfWeights out;
  for (auto &[name, tensor] : readSafetensors(path)) {
    std::string ours = name.rfind(kPrefix, 0) == 0 ? name.substr(kPrefix.size()) : name;
    if (endsWith(ours, ".attn.bias") || endsWith(ours, ".attn.masked_bias"))
      continue;
    if (ours == "lm_head.weight") {
      out.lmHead = FileTensor{name, tensor};
      continue;
    }
    if (ours == "score.weight")
      ours = "score_head.weight";
    if (out.byOurName.count(ours))
      throw InputError(path, 0, name,
                       "same tensor as '" + out.byOurName[ours].fileName +
                           "' (given both with and without the \"transformer.\" prefix)");
    out.byOurName[ours] = FileTensor{name, tensor};
  }
  return out;
}

// Checks shape and dtype of one file tensor and returns it as our float32 parameter layout.
torch::Tensor toParameter(const std::string &path, const std::string &ourName,
                          const FileTensor &file, const torch::Tensor &param) {
  const bool conv1d = isConv1dWeight(ourName);
  const auto expected = fileShape(ourName, param);
  if (file.tensor.sizes().vec() != expected)
    throw InputError(path, 0, file.fileName,
                     "shape " + shapeText(expected) + " expected" +
                         (conv1d ? " (Conv1D layout [in, out])" : "") + ", file has " +
                         shapeText(file.tensor.sizes()));
  if (!file.tensor.is_floating_point())
    throw InputError(path, 0, file.fileName,
                     std::string("dtype ") + c10::toString(file.tensor.scalar_type()) +
                         ": a floating-point tensor is expected");
  auto value = file.tensor.to(torch::kFloat32);
  return conv1d ? value.t() : value;
}

void checkLmHead(const std::string &path, const HfWeights &weights, const torch::Tensor &wte,
                 const fs::path &configPath, bool tied) {
  if (!weights.lmHead) {
    if (!tied)
      throw InputError(configPath.string(), 0, "tie_word_embeddings",
                       "false, but the weights have no lm_head.weight (untied heads are not "
                       "supported)");
    return;
  }
  const auto &head = *weights.lmHead;
  if (head.tensor.sizes() != wte.sizes() || !head.tensor.is_floating_point() ||
      !torch::equal(head.tensor.to(torch::kFloat32), wte))
    throw InputError(path, 0, head.fileName,
                     "differs from transformer.wte.weight; the output projection is tied to the "
                     "token embedding here, so an untied head cannot be loaded");
}

void loadWeights(Gpt &model, const std::string &path, HfWeights weights, const fs::path &configPath,
                 bool tied) {
  torch::NoGradGuard noGrad;
  for (auto &item : model->named_parameters()) {
    const auto found = weights.byOurName.find(item.key());
    if (found == weights.byOurName.end())
      throw InputError(path, 0, hfName(item.key()),
                       "missing (expected shape " + shapeText(fileShape(item.key(), item.value())) +
                           ")");
    item.value().copy_(toParameter(path, item.key(), found->second, item.value()));
    weights.byOurName.erase(found);
  }
  if (!weights.byOurName.empty())
    throw InputError(path, 0, weights.byOurName.begin()->second.fileName,
                     "unexpected tensor: not part of a GPT-2 model with this config (" +
                         std::to_string(weights.byOurName.size()) + " such tensor(s))");
  checkLmHead(path, weights, model->wte->weight, configPath, tied);
}

// The folder's tokenizer: PrefLab's own description (preflab_tokenizer.json), else a Hugging
// Face tokenizer.json or vocab.json + merges.txt (GPT-2's real BPE), else the byte-level
// tokenizer when the vocabulary has its size.
std::shared_ptr<Tokenizer> tokenizerOf(const fs::path &root, const GptConfig &config) {
  const fs::path path = root / kTokenizerFile;
  std::shared_ptr<Tokenizer> tokenizer;
  std::string source = path.string();
  if (fs::exists(path)) {
    try {
      tokenizer = tokenizerFromDescription(readJson(path));
    } catch (const InputError &e) {
      throw InputError(path.string(), 0, e.key(), e.message());
    }
  } else if (fs::exists(root / "tokenizer.json") || fs::exists(root / "vocab.json")) {
    tokenizer = loadTokenizer(root.string());
    source = (root / (fs::exists(root / "tokenizer.json") ? "tokenizer.json" : "vocab.json")).string();
  } else if (config.vocabSize == ByteTokenizer().vocabSize()) {
    return std::make_shared<ByteTokenizer>();
  } else {
    throw InputError(root.string(), 0, {},
                     "no tokenizer: expected tokenizer.json, vocab.json + merges.txt or " +
                         std::string(kTokenizerFile) + " (vocab_size " + std::to_string(config.vocabSize) +
                         " is not the byte-level tokenizer's 257)");
  }
  if (tokenizer->vocabSize() > config.vocabSize)
    throw InputError(source, 0, "vocab_size",
                     std::to_string(tokenizer->vocabSize()) + " is larger than the model's " +
                         std::to_string(config.vocabSize));
  if (tokenizer->eosId() < 0)
    throw InputError(source, 0, "eos_token",
                     "no end-of-sequence token found (name it with eos_token in tokenizer_config.json)");
  return tokenizer;
}

} // namespace

void exportHfGpt2(const GptImpl &model, const Tokenizer &tokenizer, const std::string &dir) {
  if (loraSettingsOf(model))
    throw std::invalid_argument("a model with LoRA adapters is exported merged (mergedCopy) or as an adapter "
                                "(saveLoraAdapter)");
  const GptConfig &config = model.config();
  if (tokenizer.vocabSize() > config.vocabSize)
    throw std::invalid_argument(
        "exportHfGpt2: tokenizer vocabulary (" + std::to_string(tokenizer.vocabSize()) +
        ") is larger than the model's (" + std::to_string(config.vocabSize) + ")");
  const fs::path root(dir);
  fs::create_directories(root);
  torch::NoGradGuard noGrad;
  std::map<std::string, torch::Tensor> tensors;
  for (const auto &item : model.named_parameters()) {
    const auto value = item.value().detach();
    tensors[hfName(item.key())] = isConv1dWeight(item.key()) ? value.t() : value;
  }
  writeSafetensors((root / kWeightsFile).string(), tensors, {{"format", "pt"}});
  const auto tokenizerFile = writeTokenizerFiles(tokenizer, root.string(), config.blockSize);
  writeJson(root / "generation_config.json",
            {{"bos_token_id", tokenizer.eosId()}, {"eos_token_id", tokenizer.eosId()}});
  // config.json last, so that a fresh folder which has it is complete.
  writeJson(root / kConfigFile,
            hfConfigJson(config, tokenizer, model.wte->weight.scalar_type(), tokenizerFile));
}

Gpt importHfGpt2(const std::string &dir, std::shared_ptr<Tokenizer> *tokenizerOut) {
  const fs::path root(dir);
  const fs::path configPath = root / kConfigFile;
  const nlohmann::json hf = readJson(configPath);
  GptConfig config = HfConfigReader(configPath.string(), hf).read();
  const std::string weightsPath = locateWeights(root);
  HfWeights weights = collectWeights(weightsPath);
  config.scoreHead = config.scoreHead || weights.byOurName.count("score_head.weight") > 0;
  const bool tied = !hf.contains("tie_word_embeddings") || hf["tie_word_embeddings"] != false;
  Gpt model(config);
  loadWeights(model, weightsPath, std::move(weights), configPath, tied);
  if (tokenizerOut)
    *tokenizerOut = tokenizerOf(root, config);
  return model;
}

} // namespace preflab::core
