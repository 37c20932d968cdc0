// inspectModelFolder: a folder's family, shape and parameter count from its JSON files and
// safetensors headers (checked against the tensors LibTorch reads), adapters over their base,
// the tokenizer and chat template, and the refusals naming file and key.
#include "core/io/gzip_input.h"
#include "core/io/safetensors.h"
#include "core/text/gpt.h"
#include "core/text/model_folder_info.h"
#include "core/text/model_store.h"
#include "core/text/tokenizer_files.h"

#include "tests/core/test_files.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <torch/torch.h>

#include <filesystem>
#include <fstream>

namespace preflab_tests {

using namespace preflab::core;
using preflab::test::inputErrorOf;
using preflab::test::readJsonFile;
using preflab::test::readTextFile;
namespace fs = std::filesystem;

namespace {

const std::string kDir = PREFLAB_TEST_DATA_DIR "/hf_llama";

std::int64_t numelOf(const std::string &file) {
  std::int64_t n = 0;
  for (const auto &[name, tensor] : readSafetensors(file))
    n += tensor.numel();
  return n;
}

} // namespace

class TestModelFolderInfo : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void familiesAndSizes_data() {
    QTest::addColumn<QString>("name");
    for (const char *name : {"llama", "llama3", "mistral", "qwen2", "qwen3", "llama-score"})
      QTest::newRow(name) << name;
  }

  // The shape is config.json's; the parameters are what LibTorch reads from the weight files.
  void familiesAndSizes() {
    QFETCH(QString, name);
    const auto dir = kDir + "/" + name.toStdString();
    const auto info = inspectModelFolder(dir, false);
    const auto config = readJsonFile(dir + "/config.json");
    QCOMPARE(QString::fromStdString(info.family), QString::fromStdString(config["model_type"]));
    QCOMPARE(QString::fromStdString(info.format), QStringLiteral("Hugging Face"));
    QCOMPARE(info.layers, config["num_hidden_layers"].get<std::int64_t>());
    QCOMPARE(info.hidden, config["hidden_size"].get<std::int64_t>());
    QCOMPARE(info.kvHeads, config["num_key_value_heads"].get<std::int64_t>());
    QCOMPARE(info.vocabSize, config["vocab_size"].get<std::int64_t>());
    std::int64_t expected = 0;
    if (fs::exists(dir + "/model.safetensors"))
      expected = numelOf(dir + "/model.safetensors");
    else
      for (const auto &entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".safetensors")
          expected += numelOf(entry.path().string());
    QVERIFY(expected > 0);
    QCOMPARE(info.parameters, expected);
    QVERIFY(!info.dtype.empty());
    QVERIFY(!info.lora);
    const bool reward = name == QLatin1String("llama-score"); // LlamaForSequenceClassification
    QCOMPARE(info.rewardModel, reward);
    QVERIFY(QString::fromStdString(modelSummaryLine(info))
                .startsWith(QString::fromStdString(info.family) + (reward ? " reward model · " : " · ")));
  }

  // An adapter: its own factors counted, the base's shape and size, the settings it was saved with.
  void adapterOverItsBase() {
    QTemporaryDir tmp;
    const fs::path root(tmp.path().toStdString());
    fs::copy(kDir + "/qwen3", root / "qwen3", fs::copy_options::recursive);
    fs::copy(kDir + "/lora-qwen3", root / "lora-qwen3", fs::copy_options::recursive);
    const auto info = inspectModelFolder((root / "lora-qwen3").string(), false);
    const auto base = inspectModelFolder((root / "qwen3").string(), false);
    QCOMPARE(QString::fromStdString(info.format), QStringLiteral("PEFT adapter"));
    QVERIFY(info.lora.has_value());
    const auto config = readJsonFile(root / "lora-qwen3" / "adapter_config.json");
    QCOMPARE(info.lora->rank, config["r"].get<std::int64_t>());
    QCOMPARE(info.adapterParameters, numelOf((root / "lora-qwen3" / "adapter_model.safetensors").string()));
    QCOMPARE(info.parameters, base.parameters);
    QCOMPARE(fs::path(info.baseModel), (root / "qwen3").lexically_normal());
    QVERIFY(QString::fromStdString(modelSummaryLine(info)).startsWith("LoRA r="));
  }

  // The tokenizer beside the weights, with its vocabulary and chat template.
  void tokenizerAndTemplate() {
    QTemporaryDir tmp;
    const fs::path dir = fs::path(tmp.path().toStdString()) / "m";
    fs::copy(kDir + "/qwen3", dir, fs::copy_options::recursive);
    std::ofstream(dir / "tokenizer.json", std::ios::binary)
        << readPossiblyCompressedFile(PREFLAB_TEST_DATA_DIR "/tokenizers/qwen3-cut.tokenizer.json.gz");
    const auto chat = readTextFile(PREFLAB_TEST_DATA_DIR "/chat_templates/qwen3.jinja");
    std::ofstream(dir / "tokenizer_config.json")
        << nlohmann::json{{"eos_token", "<|im_end|>"}, {"chat_template", chat}}.dump();
    // The cut Qwen3 tokenizer has 20,282 ids: more than this model's 300.
    const auto e = inputErrorOf([&] { inspectModelFolder(dir.string()); });
    QVERIFY2(e.find("tokenizer.json") != std::string::npos &&
                 e.find("more than the model's 300") != std::string::npos,
             e.c_str());
    auto config = readJsonFile(dir / "config.json");
    config["vocab_size"] = 151669;
    std::ofstream(dir / "config.json") << config.dump();
    const auto info = inspectModelFolder(dir.string());
    QCOMPARE(QString::fromStdString(info.tokenizerFile), QStringLiteral("tokenizer.json"));
    QCOMPARE(info.tokenizerVocab, loadTokenizer(dir.string())->vocabSize());
    QVERIFY(info.tokenizerVocab > 20000);
    QCOMPARE(QString::fromStdString(info.chatTemplate), QString::fromStdString(chat));
  }

  // PrefLab's own folder (shape JSON + model.pt): the shape and the byte-level tokenizer.
  void nativeFolder() {
    QTemporaryDir tmp;
    GptConfig shape;
    shape.nLayer = 3;
    shape.nEmbd = 24;
    shape.nHead = 2;
    const auto dir = tmp.filePath("native").toStdString();
    saveNativeModel(makeGpt(shape), ByteTokenizer(), dir);
    const auto info = inspectModelFolder(dir);
    QCOMPARE(QString::fromStdString(info.format), QStringLiteral("PrefLab"));
    QCOMPARE(QString::fromStdString(info.family), QStringLiteral("gpt2"));
    QCOMPARE(info.layers, std::int64_t(3));
    QCOMPARE(info.hidden, std::int64_t(24));
    QCOMPARE(info.vocabSize, shape.vocabSize);
    QCOMPARE(info.tokenizerVocab, ByteTokenizer().vocabSize());
    QVERIFY(info.chatTemplate.empty());
  }

  void refusalsNameTheProblem() {
    QTemporaryDir tmp;
    const fs::path dir = fs::path(tmp.path().toStdString()) / "m";
    fs::copy(kDir + "/qwen3", dir, fs::copy_options::recursive);
    auto config = readJsonFile(dir / "config.json");
    config["model_type"] = "gemma3";
    std::ofstream(dir / "config.json") << config.dump();
    auto e = inputErrorOf([&] { inspectModelFolder(dir.string()); });
    QVERIFY2(e.find("config.json") != std::string::npos && e.find("model_type") != std::string::npos &&
                 e.find("gemma3") != std::string::npos,
             e.c_str());
    config["model_type"] = "qwen3";
    config["hidden_act"] = "gelu";
    std::ofstream(dir / "config.json") << config.dump();
    e = inputErrorOf([&] { inspectModelFolder(dir.string()); });
    QVERIFY2(e.find("hidden_act") != std::string::npos, e.c_str());
    config["hidden_act"] = "silu";
    std::ofstream(dir / "config.json") << config.dump();
    std::ofstream(dir / "model.safetensors", std::ios::binary)
        << std::string("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 10);
    e = inputErrorOf([&] { inspectModelFolder(dir.string()); });
    QVERIFY2(e.find("model.safetensors") != std::string::npos && e.find("header length") != std::string::npos,
             e.c_str());
    fs::remove(dir / "model.safetensors");
    e = inputErrorOf([&] { inspectModelFolder(dir.string()); });
    QVERIFY2(e.find("no weights") != std::string::npos, e.c_str());
    e = inputErrorOf([&] { inspectModelFolder(tmp.path().toStdString()); });
    QVERIFY2(e.find("not a model folder") != std::string::npos, e.c_str());
  }
};

PREFLAB_TEST_MAIN(TestModelFolderInfo)

} // namespace preflab_tests
#include "tst_model_folder_info.moc"
