// LoRA adapters: the adapted logits against the independent reference (tests/data/hf_llama/
// make_reference.py, lora-qwen3), adapters off = the base, merge, PEFT's layout both ways, the
// refused adapter settings, and a DPO run with use_peft that trains only the factors.
#include "core/io/atomic_file.h"
#include "core/io/gzip_input.h"
#include "core/io/input_error.h"
#include "core/io/safetensors.h"
#include "core/jobs/model_tools.h"
#include "core/jobs/text_training.h"
#include "core/text/hf_tokenizer.h"
#include "core/text/llama.h"
#include "core/text/lora.h"
#include "core/text/model_store.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"

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
namespace fs = std::filesystem;

namespace {

const std::string kDir = PREFLAB_TEST_DATA_DIR "/hf_llama";

torch::Tensor idsAndLogits(const std::string &name, torch::Tensor *logits) {
  const auto j = readJsonFile(kDir + "/" + name + "/logits.json");
  std::vector<std::int64_t> flat;
  for (const auto &row : j["input_ids"])
    for (const auto &v : row)
      flat.push_back(v.get<std::int64_t>());
  const auto rows = std::int64_t(j["input_ids"].size());
  std::vector<double> values;
  for (const auto &seq : j["logits"])
    for (const auto &pos : seq)
      for (const auto &v : pos)
        values.push_back(v.get<double>());
  *logits = torch::tensor(values, torch::kFloat64).view({rows, -1, std::int64_t(j["logits"][0][0].size())});
  return torch::tensor(flat).view({rows, -1});
}

double maxDiff(const torch::Tensor &a, const torch::Tensor &b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// A copy of lora-qwen3 beside a copy of its base, so that the relative base path still holds.
// A tiny random Llama with the Mistral tokenizer, exported as a Hugging Face folder at `dir`.
CausalLm writeTinyLlamaFolder(const std::string &dir) {
  LlamaConfig shape;
  shape.family = "llama";
  shape.vocabSize = 32000; // the Mistral tokenizer's
  shape.hiddenSize = 16;
  shape.intermediateSize = 24;
  shape.nHead = 2;
  shape.nKvHead = 1;
  shape.headDim = 8;
  shape.nLayer = 2;
  shape.maxPositions = 128;
  const auto model = makeLlama(shape);
  const HfTokenizer tokenizer(nlohmann::json::parse(
      readPossiblyCompressedFile(PREFLAB_TEST_DATA_DIR "/tokenizers/mistral.tokenizer.json.gz")));
  model->exportHuggingFace(tokenizer, dir);
  return model;
}

fs::path adapterCopy(const QTemporaryDir &tmp) {
  const fs::path root(tmp.path().toStdString());
  fs::copy(kDir + "/qwen3", root / "qwen3", fs::copy_options::recursive);
  fs::copy(kDir + "/lora-qwen3", root / "lora-qwen3", fs::copy_options::recursive);
  return root / "lora-qwen3";
}

void editConfig(const fs::path &adapter, const std::function<void(nlohmann::json &)> &edit) {
  auto config = readJsonFile(adapter / "adapter_config.json");
  edit(config);
  writeFileAtomic((adapter / "adapter_config.json").string(), config.dump(2));
}

} // namespace

class TestLora : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void init() { torch::manual_seed(3); }

  void adapterLogitsMatchTheReference() {
    torch::Tensor expected, base;
    const auto ids = idsAndLogits("lora-qwen3", &expected);
    idsAndLogits("qwen3", &base);
    const auto model = loadModelFolder(kDir + "/lora-qwen3");
    model->eval();
    torch::NoGradGuard noGrad;
    const auto logits = model->forward(ids);
    QVERIFY2(maxDiff(logits, expected) < 1e-4, std::to_string(maxDiff(logits, expected)).c_str());
    QVERIFY(maxDiff(expected, base) > 0.05); // the adapter changes the model
    // Cached decoding goes through the same projections.
    KvCache cache;
    std::vector<torch::Tensor> steps;
    for (std::int64_t t = 0; t < ids.size(1); ++t)
      steps.push_back(model->forwardCached(ids.narrow(1, t, 1), cache));
    QVERIFY(maxDiff(torch::cat(steps, 1), expected) < 1e-4);
    // Switched off, it is its base.
    {
      AdaptersOff off;
      QVERIFY(maxDiff(model->forward(ids), base) < 1e-4);
    }
    QVERIFY(maxDiff(adaptersOffView(model)->forward(ids), base) < 1e-4);
    QVERIFY(maxDiff(model->forward(ids), expected) < 1e-4); // the guard ended
    const auto settings = loraSettingsOf(*model);
    QVERIFY(settings.has_value());
    QCOMPARE(settings->rank, std::int64_t(4));
    QCOMPARE(settings->alpha, 8.0);
  }

  void mergedCopyEqualsTheAdaptedModel() {
    torch::Tensor expected;
    const auto ids = idsAndLogits("lora-qwen3", &expected);
    const auto model = loadModelFolder(kDir + "/lora-qwen3");
    model->eval();
    const auto merged = mergedCopy(model);
    merged->eval();
    QVERIFY(!loraSettingsOf(*merged));
    torch::NoGradGuard noGrad;
    QVERIFY(maxDiff(merged->forward(ids), expected) < 1e-4);
    for (const auto &p : merged->named_parameters())
      QVERIFY2(p.key().find("lora") == std::string::npos, p.key().c_str());
    // The adapted model itself is untouched by merging.
    QVERIFY(maxDiff(model->forward(ids), expected) < 1e-4);
    // `export --merge` writes a plain folder that loads as the same model.
    QTemporaryDir tmp;
    const auto out = tmp.filePath("merged").toStdString();
    merged->exportHuggingFace(ByteTokenizer(), out);
    const auto back = loadModelFolder(out);
    back->eval();
    QVERIFY(maxDiff(back->forward(ids), expected) < 1e-4);
    QVERIFY(!fs::exists(fs::path(out) / "adapter_config.json"));
  }

  // A fresh adapter starts at the base (B = 0), trains only the factors, and saves in PEFT's names.
  void attachTrainSaveLoad() {
    torch::Tensor base;
    const auto ids = idsAndLogits("qwen3", &base);
    auto model = loadModelFolder(kDir + "/qwen3");
    LoraSettings s;
    s.rank = 2;
    s.alpha = 4;
    s.dropout = 0.0;
    s.targetModules = {"q_proj", "o_proj"};
    const auto adapted = attachLora(*model, s, 11);
    QCOMPARE(adapted.size(), std::size_t(4)); // 2 layers × 2 projections
    QCOMPARE(adapted.front(), std::string("model.layers.0.self_attn.q_proj"));
    model->eval();
    QVERIFY(maxDiff(model->forward(ids), base) < 1e-4);
    std::int64_t trainable = 0;
    for (const auto &p : model->named_parameters())
      if (p.value().requires_grad()) {
        QVERIFY2(p.key().find(".lora_") != std::string::npos, p.key().c_str());
        trainable += p.value().numel();
      }
    // q_proj 32 -> 64 and o_proj 64 -> 32 (4 heads of 16): r·(in + out) each, two layers.
    QCOMPARE(trainable, std::int64_t(2 * (2 * (32 + 64) + 2 * (64 + 32))));
    // One gradient step moves the adapted model away from the base.
    model->train();
    std::vector<torch::Tensor> params;
    for (auto &p : model->parameters())
      if (p.requires_grad())
        params.push_back(p);
    torch::optim::SGD opt(params, 0.5);
    model->forward(ids).logsumexp(-1).mean().backward();
    opt.step();
    model->eval();
    torch::NoGradGuard noGrad;
    const auto tuned = model->forward(ids);
    QVERIFY(maxDiff(tuned, base) > 1e-3);
    // Saved and loaded again: PEFT's tensor names, the same logits.
    QTemporaryDir tmp;
    const auto dir = tmp.filePath("adapter").toStdString();
    saveLoraAdapter(*model, ByteTokenizer(), fs::absolute(kDir + "/qwen3").string(), dir);
    const auto tensors = readSafetensors(dir + "/adapter_model.safetensors");
    QCOMPARE(tensors.size(), std::size_t(8));
    QVERIFY(tensors.count("base_model.model.model.layers.1.self_attn.o_proj.lora_B.weight"));
    const auto config = readJsonFile(dir + "/adapter_config.json");
    QCOMPARE(config["r"].get<int>(), 2);
    QCOMPARE(config["target_modules"], nlohmann::json({"o_proj", "q_proj"}));
    const auto back = loadModelFolder(dir);
    back->eval();
    QCOMPARE(maxDiff(back->forward(ids), tuned), 0.0);
    // A clone keeps the adapters and their values.
    const auto copy = model->clone(0.0);
    copy->eval();
    QCOMPARE(maxDiff(copy->forward(ids), tuned), 0.0);
  }

  void badAdaptersNameTheProblem() {
    QTemporaryDir tmp;
    const auto adapter = adapterCopy(tmp);
    const auto dir = adapter.string();
    editConfig(adapter, [](nlohmann::json &c) { c["use_dora"] = true; });
    QVERIFY(inputErrorOf([&] { loadModelFolder(dir); }).find("key 'use_dora'") != std::string::npos);
    editConfig(adapter, [](nlohmann::json &c) {
      c["use_dora"] = false;
      c["modules_to_save"] = {"lm_head"};
    });
    QVERIFY(inputErrorOf([&] { loadModelFolder(dir); }).find("key 'modules_to_save'") != std::string::npos);
    editConfig(adapter, [](nlohmann::json &c) {
      c["modules_to_save"] = nullptr;
      c["some_future_feature"] = {{"on", true}};
    });
    QVERIFY(inputErrorOf([&] { loadModelFolder(dir); }).find("key 'some_future_feature'") !=
            std::string::npos);
    editConfig(adapter, [](nlohmann::json &c) {
      c.erase("some_future_feature");
      c["target_modules"] = {"q_proj", "gate_projj"};
    });
    const auto unknown = inputErrorOf([&] { loadModelFolder(dir); });
    QVERIFY2(unknown.find("'gate_projj' matches no linear projection") != std::string::npos, unknown.c_str());
    editConfig(adapter, [](nlohmann::json &c) {
      c["target_modules"] = {"q_proj", "v_proj"}; // the file also holds down_proj's factors
    });
    const auto extra = inputErrorOf([&] { loadModelFolder(dir); });
    QVERIFY2(extra.find("down_proj.lora_A.weight") != std::string::npos, extra.c_str());
    editConfig(adapter, [](nlohmann::json &c) {
      c["target_modules"] = {"q_proj", "v_proj", "down_proj"};
      c["r"] = 8;
    });
    const auto shape = inputErrorOf([&] { loadModelFolder(dir); });
    QVERIFY2(shape.find("does not match the model's") != std::string::npos, shape.c_str());
    editConfig(adapter, [](nlohmann::json &c) {
      c["r"] = 4;
      c["base_model_name_or_path"] = "Qwen/Qwen3-0.6B";
    });
    const auto base = inputErrorOf([&] { loadModelFolder(dir); });
    QVERIFY2(base.find("key 'base_model_name_or_path'") != std::string::npos, base.c_str());
    editConfig(adapter, [](nlohmann::json &c) { c["base_model_name_or_path"] = "../qwen3"; });
    fs::rename(adapter / "adapter_model.safetensors", adapter / "adapter_model.bin");
    QVERIFY(inputErrorOf([&] { loadModelFolder(dir); }).find("safetensors") != std::string::npos);
    fs::rename(adapter / "adapter_model.bin", adapter / "adapter_model.safetensors");
    QVERIFY(loraSettingsOf(*loadModelFolder(dir)).has_value()); // repaired, it loads
  }

  // use_peft: the step-0 loss is ln 2 (the reference is the base), only the factors change, the
  // run's hf/ is a PEFT adapter that loads over the base, and export --merge gives a plain model.
  void dpoRunWithUsePeft() {
    QTemporaryDir tmp;
    const fs::path root(tmp.path().toStdString());
    const auto baseDir = (root / "base").string();
    const auto base = writeTinyLlamaFolder(baseDir);
    TextTrainConfig c = loadTextTrainConfig(PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml");
    c.trainFile = PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl";
    c.outputDir = (root / "run").string();
    c.modelNameOrPath = baseDir;
    c.usePeft = true;
    c.loraR = 4;
    c.loraTargetModules = "q_proj,v_proj,down_proj";
    c.maxSteps = 3;
    c.learningRate = 5e-2;
    std::vector<std::string> messages;
    TrainerCallbacks cb;
    cb.onMessage = [&](const std::string &m) { messages.push_back(m); };
    const auto s = runTextTraining(c, {}, cb);
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    const auto lines = readMetricsFile(c.outputDir + "/metrics.jsonl");
    QVERIFY(!lines.empty());
    QVERIFY(std::abs(lines.front()["loss"].get<double>() - std::log(2.0)) < 1e-5);
    bool announced = false;
    for (const auto &m : messages)
      announced = announced || m.find("LoRA r=4 on 6 projections") != std::string::npos;
    QVERIFY(announced);
    const auto hf = c.outputDir + "/hf";
    QVERIFY(fs::exists(hf + "/adapter_config.json"));
    QVERIFY(!fs::exists(hf + "/model.safetensors"));
    QCOMPARE(readJsonFile(hf + "/adapter_config.json")["base_model_name_or_path"].get<std::string>(),
             fs::absolute(baseDir).lexically_normal().string());
    const auto tuned = loadModelFolder(hf);
    tuned->eval();
    base->eval();
    const auto ids = torch::randint(0, 32000, {2, 12});
    torch::NoGradGuard noGrad;
    QVERIFY(maxDiff(tuned->forward(ids), base->forward(ids)) > 1e-4); // it learned something
    // The base weights did not move: switched off, the tuned adapter is the base.
    {
      AdaptersOff off;
      QCOMPARE(maxDiff(tuned->forward(ids), base->forward(ids)), 0.0);
    }
    const auto merged = (root / "merged").string();
    exportModel(hf, merged, /*merge=*/true);
    const auto plain = loadModelFolder(merged);
    plain->eval();
    QVERIFY(!loraSettingsOf(*plain));
    QVERIFY(maxDiff(plain->forward(ids), tuned->forward(ids)) < 1e-5);
    // Without --merge an adapter stays an adapter.
    const auto again = (root / "again").string();
    exportModel(hf, again);
    QVERIFY(fs::exists(again + "/adapter_config.json"));
    // A LoRA run refuses a separate reference model.
    c.outputDir = (root / "run2").string();
    c.refModelNameOrPath = baseDir;
    const auto refused = runTextTraining(c, {}, {});
    QVERIFY(refused.state == RunState::Failed);
    QVERIFY2(refused.message.find("ref_model_name_or_path") != std::string::npos, refused.message.c_str());
  }

  // A reward model trained from a Llama language model's folder: the run adds a score head,
  // trains it with the body, and exports LlamaForSequenceClassification; LoRA is refused.
  void rewardRunOnALlamaFolder() {
    QTemporaryDir tmp;
    const fs::path root(tmp.path().toStdString());
    const auto baseDir = (root / "base").string();
    writeTinyLlamaFolder(baseDir);
    TextTrainConfig c = loadTextTrainConfig(PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml");
    c.trainFile = PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl";
    c.outputDir = (root / "run").string();
    c.modelNameOrPath = baseDir;
    c.lossType = "reward";
    c.maxSteps = 4;
    c.learningRate = 1e-2;
    std::vector<std::string> messages;
    TrainerCallbacks cb;
    cb.onMessage = [&](const std::string &m) { messages.push_back(m); };
    const auto s = runTextTraining(c, {}, cb);
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    bool announced = false;
    for (const auto &m : messages)
      announced = announced || m.find("a new score head") != std::string::npos;
    QVERIFY(announced);
    const auto lines = readMetricsFile(c.outputDir + "/metrics.jsonl");
    QVERIFY(!lines.empty() && std::isfinite(lines.front()["loss"].get<double>()));
    const auto hf = c.outputDir + "/hf";
    QCOMPARE(readJsonFile(hf + "/config.json")["architectures"][0].get<std::string>(),
             std::string("LlamaForSequenceClassification"));
    const auto rm = loadModelFolder(hf);
    QVERIFY(rm->hasScoreHead());
    rm->eval();
    torch::NoGradGuard noGrad;
    const auto scores = rm->score(torch::randint(0, 32000, {2, 9}), torch::tensor({8, 4}));
    QVERIFY(std::isfinite(scores.sum().item<double>()) &&
            scores[0].item<double>() != scores[1].item<double>());
    // eval scores a reward model with its head: rewards per pair, the reward objective's metrics.
    PairEvalOptions e;
    e.modelDir = hf;
    e.dataPath = c.trainFile;
    e.outPath = (root / "eval.jsonl").string();
    e.maxLength = c.maxLength;
    e.maxPromptLength = c.maxPromptLength;
    e.batchSize = 3; // pairs split over batches
    const auto summary = evaluatePairs(e);
    const auto evalLines = readMetricsFile(e.outPath);
    QCOMPARE(summary["pairs"].get<std::size_t>(), evalLines.size());
    double correct = 0;
    for (const auto &l : evalLines)
      correct += l["reward_chosen"].get<double>() > l["reward_rejected"].get<double>() ? 1.0 : 0.0;
    QCOMPARE(summary["rewards/accuracies"].get<double>(), correct / double(evalLines.size()));
    QVERIFY(summary["rewards/accuracies"].get<double>() > 0.5); // it learned its training pairs
    e.refDir = baseDir;
    QVERIFY(inputErrorOf([&] { evaluatePairs(e); }).find("--ref") != std::string::npos);
    c.outputDir = (root / "run-lora").string();
    c.usePeft = true;
    const auto refused = runTextTraining(c, {}, {});
    QVERIFY(refused.state == RunState::Failed);
    QVERIFY2(refused.message.find("use_peft") != std::string::npos, refused.message.c_str());
  }

  void configKeysFollowTrl() {
    const auto c = textTrainConfigFromYaml("use_peft: true\nlora_r: 8\nlora_alpha: 16\nlora_dropout: "
                                           "0.1\nlora_target_modules: [q_proj, k_proj]\n",
                                           "t");
    QVERIFY(c.usePeft);
    QCOMPARE(c.loraR, std::int64_t(8));
    QCOMPARE(c.loraTargetModules, std::string("q_proj,k_proj"));
    QVERIFY(toYaml(c).find("lora_target_modules: q_proj,k_proj") != std::string::npos);
    QVERIFY(inputErrorOf([] {
              textTrainConfigFromYaml("lora_r: 0\ntrain_file: x\n", "t").validate();
            }).find("lora_r") != std::string::npos);
  }
};

PREFLAB_TEST_MAIN(TestLora)

} // namespace preflab_tests

#include "tst_lora.moc"
