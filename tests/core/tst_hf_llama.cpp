// Llama-family Hugging Face folders (llama, llama3 rope scaling, linear scaling, mistral, qwen2,
// qwen3): logits against an independent plain-PyTorch implementation
// (tests/data/hf_llama/make_reference.py), cached decoding, export round trips, bad folders.
#include "core/io/atomic_file.h"
#include "core/io/gzip_input.h"
#include "core/io/input_error.h"
#include "core/io/safetensors.h"
#include "core/text/hf_llama.h"
#include "core/text/hf_tokenizer.h"
#include "core/text/llama.h"
#include "core/text/model_store.h"

#include <torch/torch.h>

#include "tests/core/test_files.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>

namespace preflab_tests {

using namespace preflab::core;
using preflab::test::inputErrorOf;
using preflab::test::readJsonFile;
namespace fs = std::filesystem;

namespace {

const std::string kDir = PREFLAB_TEST_DATA_DIR "/hf_llama";

torch::Tensor referenceLogits(const std::string &name, torch::Tensor *ids) {
  const auto j = readJsonFile(kDir + "/" + name + "/logits.json");
  std::vector<std::int64_t> flat;
  for (const auto &row : j["input_ids"])
    for (const auto &id : row)
      flat.push_back(id.get<std::int64_t>());
  *ids = torch::tensor(flat).view({std::int64_t(j["input_ids"].size()), -1});
  std::vector<float> values;
  for (const auto &seq : j["logits"])
    for (const auto &row : seq)
      for (const auto &v : row)
        values.push_back(v.get<float>());
  return torch::tensor(values).view({ids->size(0), ids->size(1), -1});
}

double maxDiff(const torch::Tensor &a, const torch::Tensor &b) {
  return (a - b).abs().max().item<double>();
}

// A copy of a case folder that a test may edit.
fs::path copyCase(const QTemporaryDir &tmp, const std::string &name) {
  const fs::path to = fs::path(tmp.path().toStdString()) / name;
  fs::copy(kDir + "/" + name, to, fs::copy_options::recursive);
  return to;
}

} // namespace

class TestHfLlama : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void init() { torch::manual_seed(5); }

  void logitsMatchTheReference_data() {
    QTest::addColumn<QString>("name");
    for (const char *n : {"llama", "llama3", "llama-linear", "mistral", "qwen2", "qwen3"})
      QTest::newRow(n) << n;
  }
  void logitsMatchTheReference() {
    QFETCH(QString, name);
    torch::Tensor ids;
    const auto expected = referenceLogits(name.toStdString(), &ids);
    auto model = importHfLlama(kDir + "/" + name.toStdString(), nullptr);
    model->eval();
    torch::NoGradGuard noGrad;
    const auto logits = model->forward(ids);
    QCOMPARE(logits.sizes(), expected.sizes());
    const double diff = maxDiff(logits, expected);
    QVERIFY2(diff < 2e-4, ("max |logit difference| " + std::to_string(diff)).c_str());
    // Token by token with the KV cache: the same logits at every position.
    KvCache cache;
    std::vector<torch::Tensor> steps;
    steps.push_back(model->forwardCached(ids.narrow(1, 0, 3), cache));
    for (std::int64_t t = 3; t < ids.size(1); ++t)
      steps.push_back(model->forwardCached(ids.narrow(1, t, 1), cache));
    const double cached = maxDiff(torch::cat(steps, 1), logits);
    QVERIFY2(cached < 1e-4, ("cached decoding differs by " + std::to_string(cached)).c_str());
    // Through the model registry, as the CLI and the app open folders.
    QCOMPARE(loadModelFolder(kDir + "/" + name.toStdString())->architecture(),
             readJsonFile(kDir + "/" + name.toStdString() + "/config.json")["model_type"].get<std::string>());
  }

  // Export writes the model_type's own config.json, the file's dtype and Hugging Face's names,
  // and the folder loads back to the same function; a clone is an equal, separate copy.
  void exportRoundTrip_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("dtype");
    QTest::newRow("llama (two shards, F32)") << "llama"
                                             << "F32";
    QTest::newRow("qwen2 (BF16)") << "qwen2"
                                  << "BF16";
    QTest::newRow("mistral (F16)") << "mistral"
                                   << "F16";
    QTest::newRow("qwen3") << "qwen3"
                           << "F32";
  }
  void exportRoundTrip() {
    QFETCH(QString, name);
    QFETCH(QString, dtype);
    QTemporaryDir tmp;
    torch::Tensor ids;
    referenceLogits(name.toStdString(), &ids);
    const auto source = readJsonFile(kDir + "/" + name.toStdString() + "/config.json");
    auto model = importHfLlama(kDir + "/" + name.toStdString(), nullptr);
    model->eval();
    const auto out = tmp.filePath("out").toStdString();
    model->exportHuggingFace(ByteTokenizer(), out);
    const auto written = readJsonFile(out + "/config.json");
    for (const char *key : {"model_type", "hidden_size", "num_key_value_heads", "rope_theta",
                            "tie_word_embeddings", "rope_scaling", "torch_dtype"})
      QVERIFY2(written.value(key, nlohmann::json()) == source.value(key, nlohmann::json()), key);
    std::map<std::string, std::string> meta;
    const auto tensors = readSafetensors(out + "/model.safetensors", &meta);
    QVERIFY(tensors.count("model.layers.0.self_attn.q_proj.weight"));
    const auto expectedType = dtype == "BF16"  ? torch::kBFloat16
                              : dtype == "F16" ? torch::kFloat16
                                               : torch::kFloat32;
    QCOMPARE(tensors.at("model.embed_tokens.weight").scalar_type(), expectedType);
    QVERIFY(fs::exists(out + "/preflab_tokenizer.json") && fs::exists(out + "/generation_config.json"));
    auto back = importHfLlama(out, nullptr);
    back->eval();
    torch::NoGradGuard noGrad;
    QCOMPARE(maxDiff(back->forward(ids), model->forward(ids)), 0.0); // stored values are exact in their dtype
    auto copy = model->clone();
    QCOMPARE(maxDiff(copy->forward(ids), model->forward(ids)), 0.0);
    copy->parameters()[0].add_(1.0);
    QVERIFY(maxDiff(copy->forward(ids), model->forward(ids)) > 0.0);
  }

  // A folder with its tokenizer: the ids come from tokenizer.json and the vocabulary is checked.
  void tokenizerBesideTheWeights() {
    QTemporaryDir tmp;
    LlamaConfig c;
    c.family = "qwen3";
    c.vocabSize = 32000;
    c.hiddenSize = 16;
    c.intermediateSize = 24;
    c.nHead = 2;
    c.nKvHead = 1;
    c.headDim = 8;
    c.nLayer = 1;
    c.qkNorm = true;
    c.tieEmbeddings = true;
    const auto model = makeLlama(c);
    const HfTokenizer tokenizer(nlohmann::json::parse(
        readPossiblyCompressedFile(PREFLAB_TEST_DATA_DIR "/tokenizers/mistral.tokenizer.json.gz")));
    const auto dir = tmp.filePath("m").toStdString();
    model->exportHuggingFace(tokenizer, dir);
    std::shared_ptr<Tokenizer> loaded;
    const auto back = importHfLlama(dir, &loaded);
    QCOMPARE(loaded->encode("Hello world"), tokenizer.encode("Hello world"));
    QCOMPARE(loaded->eosId(), std::int64_t(2));
    QCOMPARE(back->architecture(), std::string("qwen3"));
    // A model with fewer ids than the tokenizer has.
    c.vocabSize = 1000;
    makeLlama(c)->exportHuggingFace(tokenizer, dir);
    QVERIFY(inputErrorOf([&] { importHfLlama(dir, &loaded); }).find("more than the model's 1000") !=
            std::string::npos);
  }

  // Bad folders: an error naming the file and the key or tensor, never a different model.
  void badFoldersNameTheProblem_data() {
    QTest::addColumn<QString>("edit");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown key") << "num_experts=8"
                                 << "config.json: key 'num_experts': is not supported";
    QTest::newRow("activation") << "hidden_act=\"gelu\""
                                << "key 'hidden_act': must be silu";
    QTest::newRow("rope type") << "rope_scaling={\"rope_type\": \"yarn\", \"factor\": 4.0}"
                               << "key 'rope_scaling.rope_type': 'yarn' is not supported";
    QTest::newRow("kv heads") << "num_key_value_heads=3"
                              << "key 'num_key_value_heads': must divide";
    QTest::newRow("wrong shape")
        << "intermediate_size=50"
        << "key 'model.layers.0.mlp.gate_proj.weight': shape [48, 32], the config.json asks for [50, 32]";
    QTest::newRow("unsupported family") << "model_type=\"gemma\""
                                        << "key 'model_type': 'gemma' is not a Llama-family type";
  }
  void badFoldersNameTheProblem() {
    QFETCH(QString, edit);
    QFETCH(QString, expected);
    QTemporaryDir tmp;
    const auto dir = copyCase(tmp, "qwen3");
    auto config = readJsonFile(dir / "config.json");
    const auto text = edit.toStdString();
    const auto eq = text.find('=');
    config[text.substr(0, eq)] = nlohmann::json::parse(text.substr(eq + 1));
    writeFileAtomic((dir / "config.json").string(), config.dump());
    const auto what = inputErrorOf([&] { importHfLlama(dir.string(), nullptr); });
    QVERIFY2(what.find(expected.toStdString()) != std::string::npos, what.c_str());
  }

  // The shapes known before allocation are exactly the module's parameters.
  void parameterShapesMatchTheModule_data() {
    QTest::addColumn<QString>("name");
    for (const char *n : {"llama", "llama-linear", "qwen2", "qwen3"})
      QTest::newRow(n) << n;
  }
  void parameterShapesMatchTheModule() {
    QFETCH(QString, name);
    const auto config =
        llamaConfigFromHf(readJsonFile(kDir + "/" + name.toStdString() + "/config.json"), "config.json");
    const auto model = makeLlama(config);
    const auto params = model->named_parameters();
    const auto shapes = llamaParameterShapes(config);
    QCOMPARE(shapes.size(), params.size());
    double count = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      QCOMPARE(shapes[i].first, params[i].key());
      QVERIFY2(params[i].value().sizes() == torch::IntArrayRef(shapes[i].second), shapes[i].first.c_str());
      count += double(params[i].value().numel());
    }
    QCOMPARE(config.parameterCount(), count);
  }

  // A reward model (LlamaForSequenceClassification, one label): scores at each row's last token
  // equal the reference's; export writes the same class back; a language model gets a score head
  // (withScoreHead) that keeps its weights.
  void rewardModelScores() {
    const auto j = readJsonFile(kDir + "/llama-score/scores.json");
    std::vector<std::int64_t> flat, last;
    for (const auto &row : j["input_ids"])
      for (const auto &id : row)
        flat.push_back(id.get<std::int64_t>());
    for (const auto &i : j["last_index"])
      last.push_back(i.get<std::int64_t>());
    const auto ids = torch::tensor(flat).view({std::int64_t(last.size()), -1});
    const auto lastIndex = torch::tensor(last);
    auto model = loadModelFolder(kDir + "/llama-score");
    QVERIFY(model->hasScoreHead());
    model->eval();
    torch::NoGradGuard noGrad;
    const auto scores = model->score(ids, lastIndex);
    QCOMPARE(scores.size(0), std::int64_t(last.size()));
    for (std::size_t b = 0; b < last.size(); ++b)
      QVERIFY2(std::abs(scores[std::int64_t(b)].item<double>() - j["scores"][b].get<double>()) < 1e-4,
               std::to_string(scores[std::int64_t(b)].item<double>()).c_str());
    bool refused = false; // no logits without a language-model head
    try {
      (void)model->forward(ids);
    } catch (const c10::Error &e) {
      refused = std::string(e.what()).find("no language-model head") != std::string::npos;
    }
    QVERIFY(refused);
    // Export: the same class, one label, a pad id, score.weight and no lm_head.
    QTemporaryDir tmp;
    const auto out = tmp.filePath("rm").toStdString();
    model->exportHuggingFace(ByteTokenizer(), out);
    const auto written = readJsonFile(out + "/config.json");
    QCOMPARE(written["architectures"][0].get<std::string>(), std::string("LlamaForSequenceClassification"));
    QCOMPARE(written["id2label"].size(), std::size_t(1));
    QVERIFY(written.contains("pad_token_id"));
    const auto tensors = readSafetensors(out + "/model.safetensors");
    QVERIFY(tensors.count("score.weight") && !tensors.count("lm_head.weight"));
    QCOMPARE(maxDiff(loadModelFolder(out)->score(ids, lastIndex), scores), 0.0);
    // Two labels are not a reward model.
    auto config = readJsonFile(kDir + "/llama-score/config.json");
    config["id2label"] = {{"0", "NEG"}, {"1", "POS"}};
    const auto dir = copyCase(tmp, "llama-score");
    writeFileAtomic((dir / "config.json").string(), config.dump());
    QVERIFY(inputErrorOf([&] {
              loadModelFolder(dir.string());
            }).find("key 'id2label': must hold one label") != std::string::npos);
    // A language model given a score head: the same body (so the same hidden states), the head new.
    auto lm = loadModelFolder(kDir + "/qwen3");
    QVERIFY(!lm->hasScoreHead());
    auto rm = withScoreHead(lm, 3);
    QVERIFY(rm->hasScoreHead());
    QCOMPARE(rm->architecture(), std::string("qwen3"));
    const auto lmParams = lm->named_parameters();
    const auto rmParams = rm->named_parameters();
    QCOMPARE(rmParams.size(), lmParams.size() + 1); // tied: nothing dropped, the score head added
    for (const auto &item : lmParams)
      QVERIFY2(torch::equal(rmParams[item.key()], item.value()), item.key().c_str());
    const auto head = rmParams["score.weight"];
    QCOMPARE(head.sizes(), torch::IntArrayRef({1, 32}));
    QVERIFY(head.std().item<double>() > 0.01 && head.std().item<double>() < 0.04);
    QVERIFY(torch::equal(withScoreHead(lm, 3)->named_parameters()["score.weight"], head)); // seeded
    QVERIFY(!torch::equal(withScoreHead(lm, 4)->named_parameters()["score.weight"], head));
    QVERIFY(std::isfinite(rm->score(ids, lastIndex).sum().item<double>()));
    // An untied language model loses its lm_head, as *ForSequenceClassification has none.
    const auto untied = withScoreHead(loadModelFolder(kDir + "/mistral"), 3)->named_parameters();
    QVERIFY(untied.find("score.weight") && !untied.find("lm_head.weight"));
  }

  void missingAndUnexpectedTensors() {
    QTemporaryDir tmp;
    const auto dir = copyCase(tmp, "qwen3");
    auto tensors = readSafetensors((dir / "model.safetensors").string());
    tensors["model.layers.0.self_attn.extra.weight"] = torch::zeros({2});
    writeSafetensors((dir / "model.safetensors").string(), tensors);
    QVERIFY(inputErrorOf([&] {
              importHfLlama(dir.string(), nullptr);
            }).find("'model.layers.0.self_attn.extra.weight': unexpected tensor") != std::string::npos);
    tensors.erase("model.layers.0.self_attn.extra.weight");
    tensors.erase("model.layers.1.self_attn.k_norm.weight");
    writeSafetensors((dir / "model.safetensors").string(), tensors);
    QVERIFY(inputErrorOf([&] {
              importHfLlama(dir.string(), nullptr);
            }).find("'model.layers.1.self_attn.k_norm.weight': tensor missing") != std::string::npos);
    // A sharded folder whose index names a shard that is not there.
    const auto sharded = copyCase(tmp, "llama");
    fs::remove(sharded / "model-00002-of-00002.safetensors");
    QVERIFY(inputErrorOf([&] {
              importHfLlama(sharded.string(), nullptr);
            }).find("model-00002-of-00002.safetensors") != std::string::npos);
  }
};

PREFLAB_TEST_MAIN(TestHfLlama)

} // namespace preflab_tests
#include "tst_hf_llama.moc"
