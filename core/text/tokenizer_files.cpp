// Tokenizer files on disk to Tokenizer objects; vocab.json + merges.txt become the tokenizer.json
// that Hugging Face's GPT-2 conversion writes for them.
#include "core/text/tokenizer_files.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/json_file.h"
#include "core/text/hf_tokenizer.h"
#include "core/text/sentencepiece_tokenizer.h"

#include <filesystem>
#include <sstream>

namespace preflab::core {

namespace fs = std::filesystem;

namespace {

// "eos_token": "</s>" or {"content": "</s>", ...}, as tokenizer_config.json writes either.
std::string tokenName(const nlohmann::json &config, const char *key) {
  if (!config.contains(key))
    return {};
  const auto &v = config[key];
  if (v.is_string())
    return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return {};
}

// "chat_template": "..." or a list of {"name", "template"} (the one named "default" applies).
std::string chatTemplateOf(const nlohmann::json &value, const std::string &file) {
  if (value.is_string())
    return value.get<std::string>();
  if (value.is_array()) {
    for (const auto &t : value)
      if (t.is_object() && t.value("name", "") == "default" && t.contains("template") &&
          t["template"].is_string())
        return t["template"].get<std::string>();
    throw InputError(file, 0, "chat_template", "a list of templates without one named \"default\"");
  }
  if (value.is_null())
    return {};
  throw InputError(file, 0, "chat_template", std::string("must be a string, got ") + value.type_name());
}

SpecialTokenNames namesBeside(const fs::path &dir) {
  SpecialTokenNames names;
  for (const char *file : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const auto path = (dir / file).string();
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      continue;
    const auto config = readJsonObjectFile(path);
    if (names.eos.empty())
      names.eos = tokenName(config, "eos_token");
    if (names.bos.empty())
      names.bos = tokenName(config, "bos_token");
    if (names.chatTemplate.empty() && config.contains("chat_template"))
      names.chatTemplate = chatTemplateOf(config["chat_template"], path);
  }
  return names;
}

// tokenizer_config.json's flags for a tokenizer.model; the names as for a tokenizer.json.
SentencePieceOptions sentencePieceOptionsBeside(const fs::path &dir) {
  const auto names = namesBeside(dir);
  SentencePieceOptions options;
  options.eosToken = names.eos;
  options.bosToken = names.bos;
  options.chatTemplate = names.chatTemplate;
  const auto path = (dir / "tokenizer_config.json").string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return options;
  const auto config = readJsonObjectFile(path);
  auto flag = [&](const char *key, bool &out) {
    if (!config.contains(key) || config[key].is_null())
      return;
    if (!config[key].is_boolean())
      throw InputError(path, 0, key, std::string("must be true or false, got ") + config[key].type_name());
    out = config[key].get<bool>();
  };
  flag("add_bos_token", options.addBosToken);
  flag("add_eos_token", options.addEosToken);
  return options;
}

std::shared_ptr<Tokenizer> hfTokenizer(const std::string &file, nlohmann::json description,
                                       const SpecialTokenNames &names) {
  try {
    return std::make_shared<HfTokenizer>(std::move(description), names);
  } catch (const InputError &e) {
    throw InputError(file, 0, e.key(), e.message());
  }
}

// GPT-2's two files: the byte-level pre-tokenizer and decoder, no normalizer, and the end-of-text
// token as the one added token.
std::shared_ptr<Tokenizer> vocabAndMerges(const fs::path &dir) {
  const auto vocabPath = (dir / "vocab.json").string(), mergesPath = (dir / "merges.txt").string();
  const auto vocab = readJsonObjectFile(vocabPath);
  std::error_code ec;
  if (!fs::is_regular_file(mergesPath, ec))
    throw InputError(mergesPath, 0, {}, "not found beside vocab.json");
  std::istringstream in(readFile(mergesPath));
  nlohmann::json merges = nlohmann::json::array();
  std::string line;
  for (std::int64_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || (n == 1 && line.rfind("#version", 0) == 0))
      continue;
    const auto space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
      throw InputError(mergesPath, n, {}, "a merge must be two tokens separated by one space");
    merges.push_back(nlohmann::json::array({line.substr(0, space), line.substr(space + 1)}));
  }
  auto names = namesBeside(dir);
  if (names.eos.empty())
    names.eos = "<|endoftext|>";
  nlohmann::json added = nlohmann::json::array();
  if (vocab.contains(names.eos) && vocab[names.eos].is_number_integer())
    added.push_back({{"id", vocab[names.eos]},
                     {"content", names.eos},
                     {"special", true},
                     {"normalized", true},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"single_word", false}});
  const nlohmann::json byteLevel = {
      {"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
  const nlohmann::json description = {{"version", "1.0"},
                                      {"added_tokens", added},
                                      {"normalizer", nullptr},
                                      {"pre_tokenizer", byteLevel},
                                      {"post_processor", byteLevel},
                                      {"decoder", byteLevel},
                                      {"model",
                                       {{"type", "BPE"},
                                        {"dropout", nullptr},
                                        {"unk_token", nullptr},
                                        {"vocab", vocab},
                                        {"merges", merges}}}};
  return hfTokenizer(vocabPath, description, names);
}

// tokenizer.model as it came, and the flags LlamaTokenizer reads from tokenizer_config.json.
std::string writeSentencePieceFiles(const SentencePieceTokenizer &tokenizer, const fs::path &root,
                                    std::int64_t modelMaxLength) {
  writeFileAtomic((root / "tokenizer.model").string(), tokenizer.modelBytes());
  nlohmann::json config = {{"eos_token", tokenizer.idToToken(tokenizer.eosId()).value_or("")},
                           {"add_bos_token", tokenizer.options().addBosToken},
                           {"add_eos_token", tokenizer.options().addEosToken},
                           {"model_max_length", modelMaxLength}};
  if (const auto bos = tokenizer.bosId())
    config["bos_token"] = tokenizer.idToToken(*bos).value_or("");
  if (const auto chat = tokenizer.chatTemplate(); !chat.empty())
    config["chat_template"] = chat;
  writeFileAtomic((root / "tokenizer_config.json").string(), config.dump(2) + "\n");
  std::error_code ec;
  fs::remove(root / "tokenizer.json", ec); // loadTokenizer(dir) would read it first
  fs::remove(root / "preflab_tokenizer.json", ec);
  return "tokenizer.model";
}

} // namespace

std::shared_ptr<Tokenizer> loadTokenizer(const std::string &path) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "tokenizer.json", ec))
      return loadTokenizer((p / "tokenizer.json").string());
    if (fs::exists(p / "tokenizer.model", ec))
      return loadTokenizer((p / "tokenizer.model").string());
    if (fs::exists(p / "vocab.json", ec))
      return vocabAndMerges(p);
    throw InputError(
        path, 0, {},
        "no tokenizer here: expected tokenizer.json, tokenizer.model or vocab.json + merges.txt");
  }
  if (!fs::exists(p, ec))
    throw InputError(path, 0, {}, "tokenizer not found");
  if (p.extension() == ".model")
    return SentencePieceTokenizer::fromFile(path, sentencePieceOptionsBeside(p.parent_path()));
  const auto description = readJsonObjectFile(path);
  if (!(description.contains("model") && description["model"].is_object())) // PrefLab's own description
    try {
      return tokenizerFromDescription(description);
    } catch (const InputError &e) {
      throw InputError(path, 0, e.key(), e.message());
    }
  return hfTokenizer(path, description, namesBeside(p.parent_path()));
}

std::string writeTokenizerFiles(const Tokenizer &tokenizer, const std::string &dir,
                                std::int64_t modelMaxLength) {
  const fs::path root(dir);
  if (const auto *sp = dynamic_cast<const SentencePieceTokenizer *>(&tokenizer))
    return writeSentencePieceFiles(*sp, root, modelMaxLength);
  const auto description = tokenizer.describe();
  if (!(description.contains("model") && description["model"].is_object())) {
    writeFileAtomic((root / "preflab_tokenizer.json").string(), description.dump(2) + "\n");
    return "preflab_tokenizer.json";
  }
  writeFileAtomic((root / "tokenizer.json").string(), description.dump(2) + "\n");
  nlohmann::json names = {{"eos_token", tokenizer.idToToken(tokenizer.eosId()).value_or("")},
                          {"model_max_length", modelMaxLength}};
  if (const auto bos = tokenizer.bosId())
    names["bos_token"] = tokenizer.idToToken(*bos).value_or("");
  if (const auto chat = tokenizer.chatTemplate(); !chat.empty())
    names["chat_template"] = chat;
  writeFileAtomic((root / "tokenizer_config.json").string(), names.dump(2) + "\n");
  std::error_code ec;
  fs::remove(root / "preflab_tokenizer.json", ec);
  return "tokenizer.json";
}

} // namespace preflab::core
