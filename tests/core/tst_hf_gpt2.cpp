// Tests for Hugging Face GPT-2 export/import: layout, round trips, a Python reference, bad folders.
#include "core/io/gzip_input.h"
#include "core/io/input_error.h"
#include "core/io/safetensors.h"
#include "core/text/hf_gpt2.h"
#include "core/text/hf_tokenizer.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>

using namespace preflab::core;
namespace fs = std::filesystem;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

GptConfig tinyConfig(bool scoreHead = false, std::int64_t vocab = 257) {
  GptConfig c;
  c.nLayer = 2;
  c.nHead = 2;
  c.nEmbd = 16;
  c.blockSize = 12;
  c.vocabSize = vocab;
  c.scoreHead = scoreHead;
  return c;
}

// Non-trivial values everywhere (layer norms and biases included) so that a parameter that is
// loaded wrongly changes the logits.
Gpt randomModel(const GptConfig &config) {
  Gpt model(config);
  torch::NoGradGuard noGrad;
  for (auto &p : model->parameters())
    p.normal_(0.0, 0.3);
  model->eval();
  return model;
}

torch::Tensor sampleIds(std::int64_t vocab) {
  return torch::randint(0, vocab, {3, 9}, torch::kLong);
}

nlohmann::json readJson(const fs::path &path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

void writeJson(const fs::path &path, const nlohmann::json &json) {
  std::ofstream(path) << json.dump(2);
}

std::string weightsPath(const QString &dir) {
  return (fs::path(dir.toStdString()) / "model.safetensors").string();
}

// Rewrites model.safetensors through `edit`, keeping the metadata.
template <typename Edit> void editWeights(const QString &dir, Edit edit) {
  std::map<std::string, std::string> metadata;
  auto tensors = readSafetensors(weightsPath(dir), &metadata);
  edit(tensors);
  writeSafetensors(weightsPath(dir), tensors, metadata);
}

template <typename Edit> void editConfig(const QString &dir, Edit edit) {
  const fs::path path = fs::path(dir.toStdString()) / "config.json";
  auto json = readJson(path);
  edit(json);
  writeJson(path, json);
}

double maxAbsDiff(const torch::Tensor &a, const torch::Tensor &b) {
  return (a - b).abs().max().item<double>();
}

// Breaks an exported folder in the way `m` names; false for an unknown name.
bool applyMutation(const std::string &m, const QString &dir) {
  const fs::path root(dir.toStdString());
  if (m == "drop c_fc.bias")
    editWeights(dir, [](auto &t) { t.erase("transformer.h.1.mlp.c_fc.bias"); });
  else if (m == "transpose c_attn")
    editWeights(dir, [](auto &t) {
      auto &x = t.at("transformer.h.0.attn.c_attn.weight");
      x = x.t();
    });
  else if (m == "add extra")
    editWeights(dir, [](auto &t) { t["transformer.h.0.attn.extra"] = torch::zeros({2}); });
  else if (m == "untied lm_head")
    editWeights(dir, [](auto &t) { t["lm_head.weight"] = t.at("transformer.wte.weight") + 1; });
  else if (m == "int ln_f")
    editWeights(dir, [](auto &t) {
      auto &x = t.at("transformer.ln_f.weight");
      x = x.to(torch::kLong);
    });
  else if (m == "duplicate wte")
    editWeights(dir, [](auto &t) { t["wte.weight"] = t.at("transformer.wte.weight"); });
  else if (m == "truncate")
    fs::resize_file(root / "model.safetensors", fs::file_size(root / "model.safetensors") - 4);
  else if (m == "remove weights" || m == "sharded") {
    fs::remove(root / "model.safetensors");
    if (m == "sharded")
      writeJson(root / "model.safetensors.index.json", {{"weight_map", nlohmann::json::object()}});
  } else if (m == "llama")
    editConfig(dir, [](auto &j) { j["model_type"] = "llama"; });
  else if (m == "no n_embd")
    editConfig(dir, [](auto &j) { j.erase("n_embd"); });
  else if (m == "n_layer string")
    editConfig(dir, [](auto &j) { j["n_layer"] = "two"; });
  else if (m == "n_head 3")
    editConfig(dir, [](auto &j) { j["n_head"] = 3; });
  else if (m == "relu")
    editConfig(dir, [](auto &j) { j["activation_function"] = "relu"; });
  else if (m == "eps")
    editConfig(dir, [](auto &j) { j["layer_norm_epsilon"] = 1e-6; });
  else if (m == "n_inner")
    editConfig(dir, [](auto &j) { j["n_inner"] = 32; });
  else if (m == "untie")
    editConfig(dir, [](auto &j) { j["tie_word_embeddings"] = false; });
  else if (m == "config garbage")
    std::ofstream(root / "config.json") << "{\"n_layer\": 2,";
  else if (m == "tokenizer type")
    writeJson(root / "preflab_tokenizer.json", {{"type", "wordpiece"}});
  else
    return false;
  return true;
}

} // namespace

class TestHfGpt2 : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void init();
  void exportLayout();
  void roundTrip_data();
  void roundTrip();
  void pythonReference();
  void pythonReferenceReexport();
  void lowPrecisionWeights_data();
  void lowPrecisionWeights();
  void namesWithoutPrefix();
  void lmHeadEqualToWteIsAccepted();
  void tokenizerFallback();
  void realGpt2Tokenizer();
  void badFolder_data();
  void badFolder();

private:
  QString freshDir(const QString &name) const { return m_tmp.filePath(name); }
  QTemporaryDir m_tmp;
};

void TestHfGpt2::init() {
  torch::manual_seed(11);
}

void TestHfGpt2::exportLayout() {
  const auto config = tinyConfig();
  Gpt model = randomModel(config);
  const QString dir = freshDir("layout");
  exportHfGpt2(model, ByteTokenizer(), dir.toStdString());
  const fs::path root(dir.toStdString());
  for (const char *file :
       {"config.json", "model.safetensors", "generation_config.json", "preflab_tokenizer.json"})
    QVERIFY2(fs::exists(root / file), file);

  const auto hf = readJson(root / "config.json");
  QVERIFY(hf["model_type"] == "gpt2");
  QCOMPARE(hf["architectures"], nlohmann::json::array({"GPT2LMHeadModel"}));
  QCOMPARE(hf["n_positions"].get<int>(), 12);
  QCOMPARE(hf["n_ctx"].get<int>(), 12);
  QCOMPARE(hf["n_layer"].get<int>(), 2);
  QVERIFY(hf["activation_function"] == "gelu_new");
  QVERIFY(hf["tie_word_embeddings"] == true);
  QCOMPARE(hf["eos_token_id"].get<int>(), 256);
  QCOMPARE(hf["bos_token_id"].get<int>(), 256);
  QCOMPARE(readJson(root / "preflab_tokenizer.json"), ByteTokenizer().describe());

  std::map<std::string, std::string> metadata;
  const auto tensors = readSafetensors(weightsPath(dir), &metadata);
  QCOMPARE(metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  QCOMPARE(tensors.size(), model->parameters().size());
  QVERIFY(!tensors.count("lm_head.weight"));
  const auto &block = model->h[0]->as<BlockImpl>();
  const auto &cAttn = tensors.at("transformer.h.0.attn.c_attn.weight");
  QCOMPARE(cAttn.sizes().vec(), (std::vector<std::int64_t>{16, 48})); // Conv1D [in, out]
  QVERIFY(torch::equal(cAttn, block->attn->c_attn->weight.t()));
  QCOMPARE(tensors.at("transformer.h.0.mlp.c_proj.weight").sizes().vec(),
           (std::vector<std::int64_t>{64, 16}));
  QVERIFY(torch::equal(tensors.at("transformer.h.0.attn.c_attn.bias"), block->attn->c_attn->bias));
  QVERIFY(torch::equal(tensors.at("transformer.wte.weight"), model->wte->weight));
}

void TestHfGpt2::roundTrip_data() {
  QTest::addColumn<bool>("scoreHead");
  QTest::addColumn<qint64>("vocab");
  QTest::newRow("language model") << false << qint64(257);
  QTest::newRow("reward model with score head") << true << qint64(257);
  QTest::newRow("padded vocabulary 300") << false << qint64(300);
}

void TestHfGpt2::roundTrip() {
  QFETCH(bool, scoreHead);
  QFETCH(qint64, vocab);
  const auto config = tinyConfig(scoreHead, vocab);
  Gpt model = randomModel(config);
  const QString dir = freshDir(QString("round_trip_%1_%2").arg(scoreHead).arg(vocab));
  exportHfGpt2(model, ByteTokenizer(), dir.toStdString());

  std::shared_ptr<Tokenizer> tokenizer;
  Gpt back = importHfGpt2(dir.toStdString(), &tokenizer);
  back->eval();
  QCOMPARE(toJson(back->config()), toJson(config));
  QVERIFY(tokenizer);
  QCOMPARE(tokenizer->describe(), ByteTokenizer().describe());
  torch::NoGradGuard noGrad;
  const auto ids = sampleIds(vocab);
  QVERIFY2(torch::equal(back->forward(ids), model->forward(ids)), "logits differ");
  if (scoreHead) {
    const auto last = torch::tensor({8, 3, 0}, torch::kLong);
    QVERIFY(torch::equal(back->score(ids, last), model->score(ids, last)));
    const auto hf = readJson(fs::path(dir.toStdString()) / "config.json");
    QVERIFY(hf["architectures"][0] == "GPT2ForSequenceClassification");
    QVERIFY(readSafetensors(weightsPath(dir)).count("score.weight"));
  }
}

// The folder under tests/data/hf_gpt2 was written by make_reference.py, an independent plain
// PyTorch GPT-2, in Hugging Face's layout (with the attn.bias buffers older versions saved).
void TestHfGpt2::pythonReference() {
  const std::string dir = std::string(PREFLAB_TEST_DATA_DIR) + "/hf_gpt2";
  std::shared_ptr<Tokenizer> tokenizer;
  Gpt model = importHfGpt2(dir, &tokenizer);
  QVERIFY(std::dynamic_pointer_cast<ByteTokenizer>(tokenizer)); // vocab 257, no preflab file
  const auto &c = model->config();
  QCOMPARE(c.nLayer, std::int64_t(2));
  QCOMPARE(c.nHead, std::int64_t(2));
  QCOMPARE(c.nEmbd, std::int64_t(16));
  QCOMPARE(c.blockSize, std::int64_t(32)); // n_positions
  QCOMPARE(c.dropout, 0.1);                // resid_pdrop: eval() below must switch it off
  model->eval();

  const auto expected = readJson(fs::path(dir) / "logits.json");
  std::vector<std::vector<std::int64_t>> rows = expected["input_ids"];
  std::vector<torch::Tensor> rowTensors;
  for (const auto &row : rows)
    rowTensors.push_back(torch::tensor(row, torch::kLong));
  const auto batch = torch::stack(rowTensors); // (2, 6)
  std::vector<double> flat;
  for (const auto &seq : expected["logits"])
    for (const auto &pos : seq)
      for (const auto &v : pos)
        flat.push_back(v.get<double>());
  const auto reference = torch::tensor(flat, torch::kDouble).view({batch.size(0), batch.size(1), 257});
  torch::NoGradGuard noGrad;
  const auto logits = model->forward(batch).to(torch::kDouble); // (2, 6, 257)
  const double diff = maxAbsDiff(logits, reference);
  QVERIFY2(diff < 1e-4, qPrintable(QString("max |ours - python| = %1").arg(diff)));
}

// Exporting the imported reference reproduces Python's tensors name for name, bit for bit.
void TestHfGpt2::pythonReferenceReexport() {
  const std::string source = std::string(PREFLAB_TEST_DATA_DIR) + "/hf_gpt2";
  Gpt model = importHfGpt2(source);
  const QString dir = freshDir("reexport");
  exportHfGpt2(model, ByteTokenizer(), dir.toStdString());
  auto original = readSafetensors(source + "/model.safetensors");
  const auto exported = readSafetensors(weightsPath(dir));
  for (auto it = original.begin(); it != original.end();)
    it = it->first.find(".attn.bias") != std::string::npos ||
                 it->first.find(".attn.masked_bias") != std::string::npos
             ? original.erase(it)
             : std::next(it);
  QCOMPARE(exported.size(), original.size());
  for (const auto &[name, tensor] : original) {
    QVERIFY2(exported.count(name), name.c_str());
    QVERIFY2(torch::equal(exported.at(name), tensor), name.c_str());
  }
}

void TestHfGpt2::lowPrecisionWeights_data() {
  QTest::addColumn<int>("dtype");
  QTest::newRow("F16") << int(torch::kFloat16);
  QTest::newRow("BF16") << int(torch::kBFloat16);
  QTest::newRow("F64") << int(torch::kFloat64);
}

void TestHfGpt2::lowPrecisionWeights() {
  QFETCH(int, dtype);
  const auto type = torch::ScalarType(dtype);
  Gpt model = randomModel(tinyConfig());
  const QString dir = freshDir(QString("precision_%1").arg(dtype));
  exportHfGpt2(model, ByteTokenizer(), dir.toStdString());
  editWeights(dir, [&](auto &tensors) {
    for (auto &item : tensors)
      item.second = item.second.to(type);
  });
  QCOMPARE(readSafetensors(weightsPath(dir)).at("transformer.wte.weight").scalar_type(), type);
  Gpt back = importHfGpt2(dir.toStdString());
  auto original = model->named_parameters();
  for (const auto &item : back->named_parameters()) {
    QCOMPARE(item.value().scalar_type(), torch::kFloat32);
    const auto expected = original[item.key()].to(type).to(torch::kFloat32);
    QVERIFY2(torch::equal(item.value(), expected), item.key().c_str());
  }
}

void TestHfGpt2::namesWithoutPrefix() {
  Gpt model = randomModel(tinyConfig());
  const QString dir = freshDir("no_prefix");
  exportHfGpt2(model, ByteTokenizer(), dir.toStdString());
  editWeights(dir, [](auto &tensors) {
    std::map<std::string, torch::Tensor> renamed;
    for (auto &[name, t] : tensors)
      renamed[name.rfind("transformer.", 0) == 0 ? name.substr(12) : name] = t;
    tensors = renamed;
  });
  QVERIFY(readSafetensors(weightsPath(dir)).count("h.0.attn.c_attn.weight"));
  Gpt back = importHfGpt2(dir.toStdString());
  back->eval();
  torch::NoGradGuard noGrad;
  const auto ids = sampleIds(257);
  QVERIFY(torch::equal(back->forward(ids), model->forward(ids)));
}

void TestHfGpt2::lmHeadEqualToWteIsAccepted() {
  Gpt model = randomModel(tinyConfig());
  const QString dir = freshDir("lm_head");
  exportHfGpt2(model, ByteTokenizer(), dir.toStdString());
  editWeights(
      dir, [](auto &tensors) { tensors["lm_head.weight"] = tensors.at("transformer.wte.weight").clone(); });
  editConfig(dir, [](auto &json) { json["tie_word_embeddings"] = false; });
  Gpt back = importHfGpt2(dir.toStdString());
  QVERIFY(torch::equal(back->wte->weight, model->wte->weight));
}

void TestHfGpt2::tokenizerFallback() {
  for (std::int64_t vocab : {257, 300}) {
    const QString dir = freshDir(QString("no_tokenizer_%1").arg(vocab));
    exportHfGpt2(randomModel(tinyConfig(false, vocab)), ByteTokenizer(), dir.toStdString());
    fs::remove(fs::path(dir.toStdString()) / "preflab_tokenizer.json");
    QVERIFY(importHfGpt2(dir.toStdString(), nullptr)); // weights alone always load
    std::shared_ptr<Tokenizer> tokenizer;
    if (vocab == 257) {
      importHfGpt2(dir.toStdString(), &tokenizer);
      QVERIFY(std::dynamic_pointer_cast<ByteTokenizer>(tokenizer));
      continue;
    }
    try {
      importHfGpt2(dir.toStdString(), &tokenizer);
      QFAIL("no InputError for a folder without a usable tokenizer");
    } catch (const InputError &e) {
      QVERIFY2(QString(e.what()).contains("no tokenizer: expected tokenizer.json"), e.what());
      QVERIFY2(QString(e.what()).contains(dir), e.what());
    }
  }
}

// GPT-2 with its real 50,257-id BPE: exported as tokenizer.json + tokenizer_config.json and
// restored with the same ids; a folder with only vocab.json + merges.txt loads too.
void TestHfGpt2::realGpt2Tokenizer() {
  const auto description = nlohmann::json::parse(
      readPossiblyCompressedFile(PREFLAB_TEST_DATA_DIR "/tokenizers/gpt2.tokenizer.json.gz"));
  const HfTokenizer bpe(description);
  const QString dir = freshDir("real_bpe");
  const auto model = randomModel(tinyConfig(false, 50257));
  exportHfGpt2(model, bpe, dir.toStdString());
  const fs::path root(dir.toStdString());
  QVERIFY(fs::exists(root / "tokenizer.json") && !fs::exists(root / "preflab_tokenizer.json"));
  const auto names = nlohmann::json::parse(std::ifstream(root / "tokenizer_config.json"));
  QCOMPARE(names["eos_token"].get<std::string>(), std::string("<|endoftext|>"));
  std::shared_ptr<Tokenizer> tokenizer;
  importHfGpt2(dir.toStdString(), &tokenizer);
  QCOMPARE(tokenizer->encode("Hello world"), (std::vector<std::int64_t>{15496, 995}));
  QCOMPARE(tokenizer->eosId(), std::int64_t(50256));
  // Only GPT-2's two older files beside the weights.
  fs::remove(root / "tokenizer.json");
  fs::remove(root / "tokenizer_config.json");
  writeJson(root / "vocab.json", description["model"]["vocab"]);
  std::ofstream merges(root / "merges.txt");
  for (const auto &m : description["model"]["merges"])
    merges << (m.is_array() ? m[0].get<std::string>() + " " + m[1].get<std::string>() : m.get<std::string>())
           << "\n";
  merges.close();
  importHfGpt2(dir.toStdString(), &tokenizer);
  QCOMPARE(tokenizer->encode(" tokens<|endoftext|>"), (std::vector<std::int64_t>{16326, 50256}));
  // A vocabulary larger than the model's embedding is refused, naming the file.
  const QString small = freshDir("bpe_too_large");
  exportHfGpt2(randomModel(tinyConfig(false, 257)), ByteTokenizer(), small.toStdString());
  fs::remove(fs::path(small.toStdString()) / "preflab_tokenizer.json");
  fs::copy_file(root / "vocab.json", fs::path(small.toStdString()) / "vocab.json");
  fs::copy_file(root / "merges.txt", fs::path(small.toStdString()) / "merges.txt");
  try {
    importHfGpt2(small.toStdString(), &tokenizer);
    QFAIL("a 50,257-id tokenizer was accepted for a 257-id model");
  } catch (const InputError &e) {
    QVERIFY2(QString(e.what()).contains("vocab.json: key 'vocab_size': 50257 is larger"), e.what());
  }
}

void TestHfGpt2::badFolder_data() {
  QTest::addColumn<QString>("mutation");
  QTest::addColumn<QString>("file");
  QTest::addColumn<QString>("key");
  QTest::addColumn<QString>("fragment");
  const QString w = "model.safetensors", c = "config.json";
  // One row per line, so the rows read as a table.
  // clang-format off
  QTest::newRow("missing tensor") << "drop c_fc.bias" << w << "transformer.h.1.mlp.c_fc.bias" << "missing (expected shape [64])";
  QTest::newRow("Conv1D weight not transposed") << "transpose c_attn" << w << "transformer.h.0.attn.c_attn.weight" << "shape [16, 48] expected (Conv1D layout [in, out]), file has [48, 16]";
  QTest::newRow("unexpected tensor") << "add extra" << w << "transformer.h.0.attn.extra" << "unexpected tensor";
  QTest::newRow("untied lm_head") << "untied lm_head" << w << "lm_head.weight" << "differs from transformer.wte.weight";
  QTest::newRow("integer weights") << "int ln_f" << w << "transformer.ln_f.weight" << "floating-point";
  QTest::newRow("name with and without prefix") << "duplicate wte" << w << "wte.weight" << "both with and without";
  QTest::newRow("truncated weights file") << "truncate" << w << "transformer.wte.weight" << "run past the end";
  QTest::newRow("no weights file") << "remove weights" << w << "" << "not found";
  QTest::newRow("sharded weights only") << "sharded" << w << "" << "sharded checkpoints";
  QTest::newRow("model_type llama") << "llama" << c << "model_type" << "only GPT-2 models";
  QTest::newRow("n_embd missing") << "no n_embd" << c << "n_embd" << "missing";
  QTest::newRow("n_layer not an integer") << "n_layer string" << c << "n_layer" << "must be an integer";
  QTest::newRow("n_head does not divide n_embd") << "n_head 3" << c << "n_embd" << "multiple of n_head";
  QTest::newRow("relu activation") << "relu" << c << "activation_function" << "'relu' is not supported";
  QTest::newRow("layer_norm_epsilon 1e-6") << "eps" << c << "layer_norm_epsilon" << "must be 1e-05";
  QTest::newRow("n_inner 32") << "n_inner" << c << "n_inner" << "4 * n_embd";
  QTest::newRow("untied without lm_head") << "untie" << c << "tie_word_embeddings" << "no lm_head.weight";
  QTest::newRow("config not JSON") << "config garbage" << c << "" << "not valid JSON";
  QTest::newRow("unknown tokenizer type") << "tokenizer type" << "preflab_tokenizer.json" << "type" << "unknown tokenizer type";
  // clang-format on
}

void TestHfGpt2::badFolder() {
  QFETCH(QString, mutation);
  QFETCH(QString, file);
  QFETCH(QString, key);
  QFETCH(QString, fragment);
  const QString dir = freshDir("bad_" + QString(QTest::currentDataTag()).replace(' ', '_'));
  exportHfGpt2(randomModel(tinyConfig()), ByteTokenizer(), dir.toStdString());
  QVERIFY2(applyMutation(mutation.toStdString(), dir), qPrintable(mutation));

  std::shared_ptr<Tokenizer> tokenizer;
  try {
    importHfGpt2(dir.toStdString(), &tokenizer);
    QFAIL("no InputError for a bad folder");
  } catch (const InputError &e) {
    const QString what = QString::fromUtf8(e.what());
    QCOMPARE(QString::fromStdString(fs::path(e.file()).filename().string()), file);
    QVERIFY2(what.contains(dir), qPrintable(what));
    QCOMPARE(QString::fromStdString(e.key()), key);
    QVERIFY2(what.contains(fragment), qPrintable(what));
  }
}

PREFLAB_TEST_MAIN(TestHfGpt2)

} // namespace preflab_tests
#include "tst_hf_gpt2.moc"
