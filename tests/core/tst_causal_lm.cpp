// Tests the causal language model interface with a second architecture written here (a bigram
// table, nothing like GPT-2): log-probs, sampling and the preference trainer run on it through
// CausalLm alone, and model folders go through the architecture registry.
#include "core/data/text_preference_reader.h"
#include "core/io/input_error.h"
#include "core/text/causal_lm.h"
#include "core/text/gpt.h"
#include "core/text/model_store.h"
#include "core/text/sampler.h"
#include "core/text/sequence_batch.h"
#include "core/text/tokenizer.h"
#include "core/train/preference_trainer.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"
#include "core/train/tokenized_data.h"

#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>
#include <fstream>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

// logits(next | current) from a (V, V) table: the next token depends on the current one only.
class BigramLmImpl : public CausalLmImpl {
public:
  explicit BigramLmImpl(std::int64_t vocab) : m_vocab(vocab) {
    table = register_parameter("table", torch::randn({vocab, vocab}) * 0.1);
  }
  torch::Tensor forward(const torch::Tensor &ids) override {
    return table.index_select(0, ids.flatten()).view({ids.size(0), ids.size(1), m_vocab});
  }
  torch::Tensor forwardCached(const torch::Tensor &ids, KvCache &cache) override {
    cache.length += ids.size(1); // nothing to remember
    return forward(ids);
  }
  torch::Tensor score(const torch::Tensor &, const torch::Tensor &) override {
    throw std::logic_error("a bigram table has no score head");
  }
  std::int64_t blockSize() const override { return 64; }
  std::int64_t vocabSize() const override { return m_vocab; }
  bool hasScoreHead() const override { return false; }
  double dropout() const override { return 0.0; }
  std::string architecture() const override { return "bigram-test"; }
  nlohmann::json shapeJson() const override {
    return {{"architecture", "bigram-test"}, {"vocab_size", m_vocab}};
  }
  CausalLm clone(double) const override {
    auto copy = std::make_shared<BigramLmImpl>(m_vocab);
    torch::NoGradGuard noGrad;
    copy->table.copy_(table);
    copy->train(is_training());
    return copy;
  }
  void exportHuggingFace(const Tokenizer &, const std::string &) const override {
    throw std::logic_error("no Hugging Face layout for a bigram table");
  }

  torch::Tensor table;

private:
  std::int64_t m_vocab;
};

TextTrainConfig tinyConfig(const QString &dir) {
  TextTrainConfig c = loadTextTrainConfig(PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml");
  c.trainFile = PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl";
  c.outputDir = dir.toStdString();
  c.maxSteps = 6;
  c.saveSteps = 0;
  return c;
}

} // namespace

class TestCausalLm : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // Σ log p(response token | previous token), straight from the table's log-softmax.
  void sequenceLogpsMatchTheModel() {
    torch::manual_seed(1);
    CausalLm model = std::make_shared<BigramLmImpl>(257);
    ByteTokenizer tok;
    const TokenIds prompt = tok.encode("ab"), response = tok.encode("cd");
    const auto batch = buildSequenceBatch({prompt}, {response}, 16, 8, 0, torch::kCPU);
    const double got = sequenceLogps(model, batch).sum.item<double>();
    auto *bigram = dynamic_cast<BigramLmImpl *>(model.get());
    const auto logp = torch::log_softmax(bigram->table.detach().to(torch::kFloat64), 1);
    TokenIds all = prompt;
    all.insert(all.end(), response.begin(), response.end());
    double expected = 0.0;
    for (std::size_t t = prompt.size(); t < all.size(); ++t)
      expected += logp[all[t - 1]][all[t]].item<double>();
    QVERIFY2(std::abs(got - expected) < 1e-5, qPrintable(QString("%1 vs %2").arg(got).arg(expected)));
  }

  // Greedy sampling follows the table's argmax from the prompt's last token.
  void greedySamplingFollowsTheModel() {
    torch::manual_seed(2);
    CausalLm model = std::make_shared<BigramLmImpl>(257);
    auto *bigram = dynamic_cast<BigramLmImpl *>(model.get());
    SamplingOptions o;
    o.maxNewTokens = 5;
    o.temperature = 0.0;
    const TokenIds prompt = {65, 66};
    const auto out = generate(model, {prompt}, {7}, o, /*eosId=*/-1);
    QCOMPARE(out.size(), std::size_t(1));
    QCOMPARE(out[0].size(), std::size_t(5));
    std::int64_t previous = prompt.back();
    for (std::int64_t token : out[0]) {
      QCOMPARE(token, bigram->table[previous].argmax().item<std::int64_t>());
      previous = token;
    }
  }

  // The preference trainer drives any CausalLm: DPO starts at ln 2 and moves the policy only.
  void preferenceTrainerTrainsAnotherArchitecture() {
    QTemporaryDir tmp;
    const TextTrainConfig c = tinyConfig(tmp.filePath("run"));
    torch::manual_seed(3);
    CausalLm policy = std::make_shared<BigramLmImpl>(257);
    CausalLm reference = policy->clone();
    const auto before = dynamic_cast<BigramLmImpl *>(policy.get())->table.detach().clone();
    ByteTokenizer tok;
    TokenizedData train = tokenizeData(readTextPreferences(c.trainFile), tok, false);
    RunFolder folder(c.outputDir);
    PreferenceTrainer trainer(c, policy, std::move(train), {}, folder, torch::kCPU, reference);
    const auto outcome = trainer.run();
    QVERIFY2(outcome.state == RunState::Finished, outcome.message.c_str());
    QCOMPARE(outcome.step, std::int64_t(6));
    std::vector<nlohmann::json> lines;
    for (auto &line : readMetricsFile(c.outputDir + "/metrics.jsonl"))
      if (line.contains("loss"))
        lines.push_back(line);
    QCOMPARE(lines.size(), std::size_t(6));
    QVERIFY(std::abs(lines[0]["loss"].get<double>() - std::log(2.0)) < 1e-5);
    const auto after = dynamic_cast<BigramLmImpl *>(policy.get())->table.detach();
    QVERIFY((after - before).abs().max().item<double>() > 0);                                     // trained
    QVERIFY(torch::equal(dynamic_cast<BigramLmImpl *>(reference.get())->table.detach(), before)); // frozen
    // The checkpoint's model shape is the architecture's own.
    std::ifstream state(folder.checkpointDir(6) + "/trainer_state.json");
    QVERIFY(state.good());
    const auto json = nlohmann::json::parse(state);
    QCOMPARE(json.at("model").at("architecture").get<std::string>(), std::string("bigram-test"));
  }

  // Native and Hugging Face folders are read through the registry; GPT-2 is its entry.
  void modelFoldersGoThroughTheRegistry() {
    QCOMPARE(causalLmArchitectures().front().name, std::string("gpt2"));
    QTemporaryDir tmp;
    GptConfig shape;
    shape.nLayer = 1;
    shape.nHead = 2;
    shape.nEmbd = 8;
    shape.blockSize = 16;
    torch::manual_seed(4);
    CausalLm model = makeGpt(shape);
    saveNativeModel(model, ByteTokenizer(), tmp.filePath("native").toStdString());
    const CausalLm back = loadModelFolder(tmp.filePath("native").toStdString());
    QCOMPARE(back->architecture(), std::string("gpt2"));
    QCOMPARE(back->shapeJson(), model->shapeJson());
    const auto a = model->parameters(), b = back->parameters();
    QCOMPARE(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      QVERIFY(torch::equal(a[i], b[i]));
    model->exportHuggingFace(ByteTokenizer(), tmp.filePath("hf").toStdString());
    QCOMPARE(loadModelFolder(tmp.filePath("hf").toStdString())->architecture(), std::string("gpt2"));
    // A Hugging Face folder of an architecture nobody registered: an error naming its config.
    auto config = nlohmann::json::parse(std::ifstream(tmp.filePath("hf/config.json").toStdString()));
    config["model_type"] = "gemma";
    std::ofstream(tmp.filePath("hf/config.json").toStdString()) << config.dump();
    std::string what;
    try {
      loadModelFolder(tmp.filePath("hf").toStdString());
    } catch (const InputError &e) {
      what = e.what();
    }
    QVERIFY2(what.find("config.json") != std::string::npos && what.find("'gemma'") != std::string::npos &&
                 what.find("known: gpt2, llama, mistral, qwen2, qwen3") != std::string::npos,
             what.c_str());
    // Found by fuzz_hf_config: a config.json that is JSON but not an object ("2"), and a
    // model_type that is not a string, were LibTorch-free type errors naming no file.
    for (const std::string bad : {std::string(), std::string("{\"model_type\": 7}")}) {
      std::ifstream regression(PREFLAB_TEST_DATA_DIR "/fuzz_regressions/hf_config_not_an_object.json");
      const std::string text = bad.empty() ? std::string(std::istreambuf_iterator<char>(regression), {}) : bad;
      std::ofstream(tmp.filePath("hf/config.json").toStdString()) << text;
      try {
        loadModelFolder(tmp.filePath("hf").toStdString());
        QFAIL("accepted");
      } catch (const InputError &e) {
        QVERIFY2(std::string(e.what()).find("hf/config.json") != std::string::npos, e.what());
      }
    }
    // A native folder's tokenizer.json that is not JSON, not an object, or names no known
    // tokenizer: an error naming the file (parse and type errors used to name none).
    for (const std::string bad : {"{\"type\": ", "[1]", "{\"type\": 3}", "{\"type\": \"bpe\"}"}) {
      std::ofstream(tmp.filePath("native/tokenizer.json").toStdString()) << bad;
      std::shared_ptr<Tokenizer> tokenizer;
      try {
        loadModelFolder(tmp.filePath("native").toStdString(), &tokenizer);
        QFAIL(("accepted " + bad).c_str());
      } catch (const InputError &e) {
        QVERIFY2(std::string(e.what()).find("native/tokenizer.json") != std::string::npos, e.what());
      }
    }
  }
};

PREFLAB_TEST_MAIN(TestCausalLm)

} // namespace preflab_tests
#include "tst_causal_lm.moc"
