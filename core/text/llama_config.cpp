// Llama-family shapes: validation, PrefLab's shape JSON, and Hugging Face config.json both ways.
#include "core/text/llama_config.h"

#include "core/io/input_error.h"
#include "core/runtime/machine_memory.h"

#include <map>
#include <set>

namespace preflab::core {

namespace {

const std::set<std::string> kFamilies = {"llama", "mistral", "qwen2", "qwen3"};

std::string ropeName(RopeScaling s) {
  return s == RopeScaling::Linear ? "linear" : s == RopeScaling::Llama3 ? "llama3" : "none";
}

} // namespace

std::int64_t LlamaConfig::blockSize() const {
  return slidingWindow > 0 && slidingWindow < maxPositions ? slidingWindow : maxPositions;
}

double LlamaConfig::parameterCount() const {
  const double h = double(hiddenSize), q = double(nHead * headDim), kv = double(nKvHead * headDim);
  const double i = double(intermediateSize);
  double layer = h * (q + 2.0 * kv) + q * h + 3.0 * h * i + 2.0 * h;
  if (qkvBias)
    layer += q + 2.0 * kv;
  if (oBias)
    layer += h;
  if (mlpBias)
    layer += 2.0 * i + h;
  if (qkNorm)
    layer += 2.0 * double(headDim);
  const bool lmHead = !tieEmbeddings && !scoreHead;
  return double(nLayer) * layer + h + double(vocabSize) * h * (lmHead ? 2.0 : 1.0) + (scoreHead ? h : 0.0);
}

void LlamaConfig::validate() const {
  requireInput(kFamilies.count(family) > 0, "model_type",
               "'" + family + "' is not a Llama-family type (llama, mistral, qwen2, qwen3)");
  requireInput(nLayer >= 1 && nLayer <= 512, "num_hidden_layers", "must be in 1..512");
  requireInput(hiddenSize >= 1 && hiddenSize <= (1 << 17), "hidden_size", "must be in 1..131072");
  requireInput(intermediateSize >= 1 && intermediateSize <= (1 << 20), "intermediate_size",
               "must be in 1..1048576");
  requireInput(nHead >= 1 && nHead <= 1024, "num_attention_heads", "must be in 1..1024");
  requireInput(nKvHead >= 1 && nHead % nKvHead == 0, "num_key_value_heads",
               "must divide num_attention_heads (" + std::to_string(nHead) + ")");
  requireInput(headDim >= 2 && headDim % 2 == 0 && headDim <= 1024, "head_dim", "must be even, in 2..1024");
  requireInput(maxPositions >= 2 && maxPositions <= (1 << 24), "max_position_embeddings",
               "must be in 2..16777216");
  requireInput(vocabSize >= 2 && vocabSize <= (1 << 24), "vocab_size", "must be in 2..16777216");
  requireInput(rmsNormEps > 0.0 && rmsNormEps < 1.0, "rms_norm_eps", "must be in (0, 1)");
  requireInput(ropeTheta > 1.0, "rope_theta", "must be > 1");
  requireInput(ropeFactor > 0.0, "rope_scaling.factor", "must be > 0");
  requireInput(
      ropeScaling != RopeScaling::Llama3 || (ropeHighFreqFactor > ropeLowFreqFactor &&
                                             ropeLowFreqFactor > 0.0 && ropeOriginalMaxPositions >= 1),
      "rope_scaling",
      "llama3 scaling needs high_freq_factor > low_freq_factor > 0 and original_max_position_embeddings "
      ">= 1");
  requireInput(dropout >= 0.0 && dropout < 1.0, "attention_dropout", "must be in [0, 1)");
  const double parameters = parameterCount();
  const double memory = physicalMemoryBytes();
  requireInput(memory <= 0 || parameters * 4.0 <= memory, "hidden_size",
               "the model has " + std::to_string(std::int64_t(parameters)) + " parameters, about " +
                   std::to_string(std::int64_t(parameters * 4.0 / double(1 << 30))) +
                   " GiB in float32, and this machine has " +
                   std::to_string(std::int64_t(memory / double(1 << 30))) + " GiB");
}

nlohmann::json toJson(const LlamaConfig &c) {
  return {{"architecture", c.family},
          {"vocab_size", c.vocabSize},
          {"hidden_size", c.hiddenSize},
          {"intermediate_size", c.intermediateSize},
          {"num_hidden_layers", c.nLayer},
          {"num_attention_heads", c.nHead},
          {"num_key_value_heads", c.nKvHead},
          {"head_dim", c.headDim},
          {"max_position_embeddings", c.maxPositions},
          {"sliding_window", c.slidingWindow},
          {"rms_norm_eps", c.rmsNormEps},
          {"rope_theta", c.ropeTheta},
          {"rope_scaling", ropeName(c.ropeScaling)},
          {"rope_factor", c.ropeFactor},
          {"rope_low_freq_factor", c.ropeLowFreqFactor},
          {"rope_high_freq_factor", c.ropeHighFreqFactor},
          {"rope_original_max_position_embeddings", c.ropeOriginalMaxPositions},
          {"tie_word_embeddings", c.tieEmbeddings},
          {"qkv_bias", c.qkvBias},
          {"o_bias", c.oBias},
          {"mlp_bias", c.mlpBias},
          {"qk_norm", c.qkNorm},
          {"dropout", c.dropout},
          {"score_head", c.scoreHead},
          {"storage_dtype", c.storageDtype}};
}

LlamaConfig llamaConfigFromJson(const nlohmann::json &j) {
  if (!j.is_object())
    throw InputError({}, 0, {}, "a Llama shape must be a JSON object");
  LlamaConfig c;
  std::string key;
  try {
    auto read = [&](const char *name, auto &field) {
      key = name;
      if (j.contains(name))
        field = j.at(name).get<std::decay_t<decltype(field)>>();
    };
    read("architecture", c.family);
    read("vocab_size", c.vocabSize);
    read("hidden_size", c.hiddenSize);
    read("intermediate_size", c.intermediateSize);
    read("num_hidden_layers", c.nLayer);
    read("num_attention_heads", c.nHead);
    read("num_key_value_heads", c.nKvHead);
    read("head_dim", c.headDim);
    read("max_position_embeddings", c.maxPositions);
    read("sliding_window", c.slidingWindow);
    read("rms_norm_eps", c.rmsNormEps);
    read("rope_theta", c.ropeTheta);
    std::string rope = "none";
    read("rope_scaling", rope);
    c.ropeScaling = rope == "linear"   ? RopeScaling::Linear
                    : rope == "llama3" ? RopeScaling::Llama3
                                       : RopeScaling::None;
    read("rope_factor", c.ropeFactor);
    read("rope_low_freq_factor", c.ropeLowFreqFactor);
    read("rope_high_freq_factor", c.ropeHighFreqFactor);
    read("rope_original_max_position_embeddings", c.ropeOriginalMaxPositions);
    read("tie_word_embeddings", c.tieEmbeddings);
    read("qkv_bias", c.qkvBias);
    read("o_bias", c.oBias);
    read("mlp_bias", c.mlpBias);
    read("qk_norm", c.qkNorm);
    read("dropout", c.dropout);
    read("score_head", c.scoreHead);
    read("storage_dtype", c.storageDtype);
  } catch (const nlohmann::json::exception &) {
    throw InputError({}, 0, key, "has the wrong type");
  }
  c.validate();
  return c;
}

namespace {

// Keys that describe the file or the training that made it, not the function the model computes.
const std::set<std::string> kMetadataKeys = {"architectures",
                                             "model_type",
                                             "transformers_version",
                                             "torch_dtype",
                                             "dtype",
                                             "use_cache",
                                             "bos_token_id",
                                             "eos_token_id",
                                             "pad_token_id",
                                             "unk_token_id",
                                             "initializer_range",
                                             "_name_or_path",
                                             "output_attentions",
                                             "output_hidden_states",
                                             "return_dict",
                                             "torchscript",
                                             "is_decoder",
                                             "tokenizer_class",
                                             "max_length",
                                             "use_return_dict",
                                             "id2label",
                                             "label2id",
                                             "problem_type",
                                             "finetuning_task",
                                             "chunk_size_feed_forward",
                                             "prefix",
                                             "task_specific_params",
                                             "max_window_layers",
                                             "use_sliding_window",
                                             "sliding_window",
                                             "layer_types"};

class HfReader {
public:
  HfReader(const nlohmann::json &j, std::string file) : m_j(j), m_file(std::move(file)) {}

  [[noreturn]] void fail(const std::string &key, const std::string &message) const {
    throw InputError(m_file, 0, key, message);
  }
  bool has(const char *key) const { return m_j.contains(key) && !m_j[key].is_null(); }
  std::int64_t integer(const char *key) {
    m_used.insert(key);
    if (!has(key) || !m_j[key].is_number_integer())
      fail(key, has(key) ? "must be an integer" : "missing");
    return m_j[key].get<std::int64_t>();
  }
  std::int64_t integer(const char *key, std::int64_t fallback) {
    return has(key) ? integer(key) : (m_used.insert(key), fallback);
  }
  double number(const nlohmann::json &j, const std::string &key) const {
    if (!j.is_number())
      fail(key, "must be a number");
    return j.get<double>();
  }
  double number(const char *key, double fallback) {
    m_used.insert(key);
    return has(key) ? number(m_j[key], key) : fallback;
  }
  bool flag(const char *key, bool fallback) {
    m_used.insert(key);
    if (!has(key))
      return fallback;
    if (!m_j[key].is_boolean())
      fail(key, "must be true or false");
    return m_j[key].get<bool>();
  }
  void rope(LlamaConfig &c) {
    m_used.insert("rope_scaling");
    if (!has("rope_scaling"))
      return;
    const auto &s = m_j["rope_scaling"];
    if (!s.is_object())
      fail("rope_scaling", "must be an object or null");
    const auto type = s.contains("rope_type") ? s["rope_type"]
                      : s.contains("type")    ? s["type"]
                                              : nlohmann::json();
    if (!type.is_string())
      fail("rope_scaling.rope_type", "missing");
    const auto name = type.get<std::string>();
    auto value = [&](const char *k) {
      if (!s.contains(k))
        fail(std::string("rope_scaling.") + k, "missing");
      return number(s[k], std::string("rope_scaling.") + k);
    };
    if (name == "default")
      return;
    c.ropeFactor = value("factor");
    if (name == "linear") {
      c.ropeScaling = RopeScaling::Linear;
    } else if (name == "llama3") {
      c.ropeScaling = RopeScaling::Llama3;
      c.ropeLowFreqFactor = value("low_freq_factor");
      c.ropeHighFreqFactor = value("high_freq_factor");
      c.ropeOriginalMaxPositions = std::int64_t(value("original_max_position_embeddings"));
    } else {
      fail("rope_scaling.rope_type", "'" + name + "' is not supported (supported: default, linear, llama3)");
    }
    for (const auto &[k, v] : s.items())
      if (k != "rope_type" && k != "type" && k != "factor" &&
          !(name == "llama3" &&
            (k == "low_freq_factor" || k == "high_freq_factor" || k == "original_max_position_embeddings")))
        fail("rope_scaling." + k, "is not supported with rope_type " + name);
  }
  void refuseUnused() const {
    for (const auto &[key, value] : m_j.items())
      if (!m_used.count(key) && !kMetadataKeys.count(key) && !value.is_null())
        fail(key, "is not supported: PrefLab would compute a different model than the file describes");
  }
  // Whether `architectures` names the family's *ForSequenceClassification class (a reward model);
  // it must then have one label, the one score the reward objectives and Compare read.
  bool scoreHead(const std::string &family) {
    if (!has("architectures") || !m_j["architectures"].is_array())
      return false;
    bool classifier = false;
    for (const auto &a : m_j["architectures"])
      if (a.is_string() && a.get<std::string>().find("ForSequenceClassification") != std::string::npos)
        classifier = true;
    if (!classifier)
      return false;
    if (has("num_labels") && m_j["num_labels"] != 1)
      fail("num_labels", "must be 1: a reward model gives one score per sequence");
    m_used.insert("num_labels");
    if (has("id2label") && (!m_j["id2label"].is_object() || m_j["id2label"].size() != 1))
      fail("id2label", "must hold one label: a reward model gives one score per sequence (" + family +
                           "ForSequenceClassification with num_labels 1)");
    return true;
  }
  void use(const char *key) { m_used.insert(key); }
  const nlohmann::json &at(const char *key) const { return m_j[key]; }

private:
  const nlohmann::json &m_j;
  std::string m_file;
  std::set<std::string> m_used;
};

} // namespace

LlamaConfig llamaConfigFromHf(const nlohmann::json &j, const std::string &file) {
  HfReader r(j, file);
  LlamaConfig c;
  if (!j.contains("model_type") || !j["model_type"].is_string())
    r.fail("model_type", "missing");
  c.family = j["model_type"].get<std::string>();
  if (!kFamilies.count(c.family))
    r.fail("model_type", "'" + c.family + "' is not a Llama-family type (llama, mistral, qwen2, qwen3)");
  c.vocabSize = r.integer("vocab_size");
  c.hiddenSize = r.integer("hidden_size");
  c.intermediateSize = r.integer("intermediate_size");
  c.nLayer = r.integer("num_hidden_layers");
  c.nHead = r.integer("num_attention_heads");
  c.nKvHead = r.integer("num_key_value_heads", c.nHead);
  c.headDim = r.integer("head_dim", c.nHead > 0 ? c.hiddenSize / c.nHead : 0);
  if (c.family != "qwen3" && c.headDim * c.nHead != c.hiddenSize)
    r.fail("head_dim", "must be hidden_size / num_attention_heads for " + c.family);
  c.maxPositions = r.integer("max_position_embeddings");
  c.rmsNormEps = r.number("rms_norm_eps", 1e-6);
  c.ropeTheta = r.number("rope_theta", 10000.0);
  r.rope(c);
  c.tieEmbeddings = r.flag("tie_word_embeddings", c.family == "qwen2" || c.family == "qwen3");
  c.dropout = r.number("attention_dropout", 0.0);
  r.use("hidden_act");
  if (r.has("hidden_act") && r.at("hidden_act") != "silu")
    r.fail("hidden_act", "must be silu (SwiGLU), got " + r.at("hidden_act").dump());
  r.use("pretraining_tp");
  if (r.has("pretraining_tp") && r.at("pretraining_tp") != 1)
    r.fail("pretraining_tp", "must be 1");
  if (c.family == "qwen2") {
    c.qkvBias = true;
  } else {
    c.qkvBias = c.oBias = r.flag("attention_bias", false);
  }
  if (c.family == "llama")
    c.mlpBias = r.flag("mlp_bias", false);
  c.qkNorm = c.family == "qwen3";
  // Sliding-window attention: Mistral's window caps the sequence length; Qwen's is refused when
  // switched on (its window applies only to some layers).
  if (c.family == "mistral" && r.has("sliding_window")) {
    c.slidingWindow = r.integer("sliding_window");
  } else if ((c.family == "qwen2" || c.family == "qwen3") && r.has("use_sliding_window") &&
             r.at("use_sliding_window") == true) {
    r.fail("use_sliding_window", "sliding-window attention on some layers is not supported");
  }
  if (r.has("layer_types")) {
    for (const auto &t : r.at("layer_types"))
      if (t != "full_attention")
        r.fail("layer_types", "only full_attention layers are supported, got " + t.dump());
  }
  c.scoreHead = r.scoreHead(c.family);
  if (r.has("torch_dtype") && r.at("torch_dtype").is_string())
    c.storageDtype = r.at("torch_dtype").get<std::string>();
  r.refuseUnused();
  try {
    c.validate();
  } catch (const InputError &e) {
    throw InputError(file, 0, e.key(), e.message());
  }
  return c;
}

nlohmann::json hfConfigJson(const LlamaConfig &c, std::int64_t bosId, std::int64_t eosId) {
  static const std::map<std::string, std::string> classes = {
      {"llama", "Llama"}, {"mistral", "Mistral"}, {"qwen2", "Qwen2"}, {"qwen3", "Qwen3"}};
  const auto className = classes.at(c.family) + (c.scoreHead ? "ForSequenceClassification" : "ForCausalLM");
  nlohmann::json j = {{"model_type", c.family},
                      {"architectures", {className}},
                      {"vocab_size", c.vocabSize},
                      {"hidden_size", c.hiddenSize},
                      {"intermediate_size", c.intermediateSize},
                      {"num_hidden_layers", c.nLayer},
                      {"num_attention_heads", c.nHead},
                      {"num_key_value_heads", c.nKvHead},
                      {"max_position_embeddings", c.maxPositions},
                      {"rms_norm_eps", c.rmsNormEps},
                      {"rope_theta", c.ropeTheta},
                      {"hidden_act", "silu"},
                      {"tie_word_embeddings", c.tieEmbeddings},
                      {"attention_dropout", c.dropout},
                      {"torch_dtype", c.storageDtype},
                      {"use_cache", true}};
  if (bosId >= 0)
    j["bos_token_id"] = bosId;
  if (eosId >= 0)
    j["eos_token_id"] = eosId;
  if (c.scoreHead) { // one label; transformers scores the last token that is not pad_token_id
    j["id2label"] = {{"0", "LABEL_0"}};
    j["label2id"] = {{"LABEL_0", 0}};
    if (eosId >= 0)
      j["pad_token_id"] = eosId;
  }
  if (c.family == "qwen3" || c.headDim * c.nHead != c.hiddenSize)
    j["head_dim"] = c.headDim;
  if (c.family == "llama" || c.family == "qwen3")
    j["attention_bias"] = c.oBias;
  if (c.family == "llama")
    j["mlp_bias"] = c.mlpBias;
  if (c.family == "mistral")
    j["sliding_window"] = c.slidingWindow > 0 ? nlohmann::json(c.slidingWindow) : nlohmann::json();
  if (c.ropeScaling == RopeScaling::Linear)
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.ropeFactor}};
  else if (c.ropeScaling == RopeScaling::Llama3)
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", c.ropeFactor},
                         {"low_freq_factor", c.ropeLowFreqFactor},
                         {"high_freq_factor", c.ropeHighFreqFactor},
                         {"original_max_position_embeddings", c.ropeOriginalMaxPositions}};
  else
    j["rope_scaling"] = nullptr;
  return j;
}

} // namespace preflab::core
