// Tests MPO's pieces: the mixture model against a direct computation of Σ_k λ_k log_softmax
// (full and KV-cached decoding, sampling), mixture folders, the conciseness oracle, the config
// checks, and an end-to-end mixing run of two tiny policies on the sentiment task.
#include "core/io/input_error.h"
#include "core/jobs/mpo_mixing.h"
#include "core/jobs/text_training.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/text/gpt.h"
#include "core/text/mixture_lm.h"
#include "core/text/model_store.h"
#include "core/text/sampler.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"

#include <torch/torch.h>

#include "tests/core/test_files.h"
#include "tests/core/tiny_runs.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

CausalLm tinyGpt(std::uint64_t seed) {
  torch::manual_seed(seed);
  GptConfig c;
  c.nLayer = 2;
  c.nHead = 2;
  c.nEmbd = 16;
  c.blockSize = 24;
  return makeGpt(c);
}

TextTrainConfig tinyTask(const QTemporaryDir &tmp, const std::string &name) {
  return preflab::test::tinySentimentConfig(
      tmp.filePath(QString::fromStdString("runs/" + name)).toStdString(),
      tmp.filePath("cache").toStdString());
}

} // namespace

class TestMpo : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void mixtureLogitsAreTheWeightedLogSoftmaxes() {
    torch::NoGradGuard noGrad;
    auto a = tinyGpt(1), b = tinyGpt(2);
    a->eval();
    b->eval();
    auto mix = std::make_shared<MixtureLmImpl>(std::vector<CausalLm>{a, b}, std::vector<double>{0.3, 0.7});
    const auto ids = torch::randint(0, 257, {2, 9}, torch::kLong);
    const auto direct =
        0.3 * torch::log_softmax(a->forward(ids), -1) + 0.7 * torch::log_softmax(b->forward(ids), -1);
    QVERIFY(torch::allclose(mix->forward(ids), direct, 1e-5, 1e-6));
    // Cached decoding: a prefix, then one token at a time, gives the same logits.
    KvCache cache;
    auto first = mix->forwardCached(ids.narrow(1, 0, 5), cache);
    QVERIFY(torch::allclose(first, direct.narrow(1, 0, 5), 1e-5, 1e-5));
    for (int t = 5; t < 9; ++t) {
      auto next = mix->forwardCached(ids.narrow(1, t, 1), cache);
      QVERIFY2(torch::allclose(next, direct.narrow(1, t, 1), 1e-5, 1e-5), qPrintable(QString::number(t)));
    }
    QCOMPARE(cache.length, std::int64_t(9));
    QCOMPARE(cache.keys.size(), std::size_t(4)); // two layers of each model
  }

  // All weight on one model: the mixture samples exactly what that model samples (same seeds).
  void aOneHotMixtureSamplesItsModel() {
    auto a = tinyGpt(3), b = tinyGpt(4);
    auto mix = std::make_shared<MixtureLmImpl>(std::vector<CausalLm>{a, b}, std::vector<double>{0.0, 1.0});
    SamplingOptions o;
    o.maxNewTokens = 10;
    const std::vector<TokenIds> prompts = {{10, 20, 30}, {40}};
    const std::vector<std::uint64_t> seeds = {7, 8};
    QCOMPARE(generate(mix, prompts, seeds, o, 256), generate(b, prompts, seeds, o, 256));
    QVERIFY(generate(mix, prompts, seeds, o, 256) != generate(a, prompts, seeds, o, 256));
  }

  void mixtureFoldersLoadAndRefuseBadWeights() {
    QTemporaryDir tmp;
    ByteTokenizer tok;
    saveNativeModel(tinyGpt(5), tok, tmp.filePath("a").toStdString());
    saveNativeModel(tinyGpt(6), tok, tmp.filePath("b").toStdString());
    const auto dir = tmp.filePath("mix").toStdString();
    std::filesystem::create_directories(dir);
    auto write = [&](const nlohmann::json &j) { std::ofstream(dir + "/mixture.json") << j.dump(); };
    write({{"components", {"../a", tmp.filePath("b").toStdString()}}, {"weights", {0.25, 0.75}}});
    std::shared_ptr<Tokenizer> t;
    auto model = loadModelFolder(dir, &t);
    QCOMPARE(QString::fromStdString(model->architecture()), QStringLiteral("mixture"));
    QVERIFY(t != nullptr);
    QCOMPARE(std::dynamic_pointer_cast<MixtureLmImpl>(model)->weights(), (std::vector<double>{0.25, 0.75}));
    write({{"components", {"../a", "../b"}}, {"weights", {0.5, 0.6}}});
    auto error = preflab::test::inputErrorOf([&] { loadModelFolder(dir); });
    QVERIFY2(error.find("mixture.json") != std::string::npos && error.find("weights") != std::string::npos,
             error.c_str());
    write({{"components", {"../a"}}, {"weights", {0.5, 0.5}}});
    QVERIFY(preflab::test::inputErrorOf([&] { loadModelFolder(dir); }).find("weights") != std::string::npos);
    QVERIFY(preflab::test::inputErrorOf([&] {
              model->exportHuggingFace(tok, dir + "/hf");
            }).find("mixture") != std::string::npos);
  }

  void concisenessCountsWords() {
    QCOMPARE(ConcisenessOracle::score(""), 0.0);
    QCOMPARE(ConcisenessOracle::score(" the plot  was\tgood "), -1.0);
    QCOMPARE(ConcisenessOracle::score(" a b c d e f g h"), -2.0);
    QVERIFY(std::abs(ConcisenessOracle::reward(" a b c d e f g h") - 0.5) < 1e-12);
    QCOMPARE(taskRewardNamed("maxmin"), TaskReward::MaxMin);
    QVERIFY(preflab::test::inputErrorOf([] { taskRewardNamed("length"); }).find("sentiment.reward") !=
            std::string::npos);
  }

  void configChecks() {
    TextTrainConfig c;
    c.task = "sentiment";
    c.trainer = "mpo";
    c.maxSteps = 3;
    c.mpo.policies = "a";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("mpo.policies") != std::string::npos);
    c.mpo.policies = "a, b";
    c.validate();
    c.mpo.weights = "0.5";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("mpo.weights") != std::string::npos);
    c.mpo.weights = "0.5,x";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("mpo.weights") != std::string::npos);
    c.mpo.weights = "0.4, 0.6";
    c.validate();
    QCOMPARE(c.mpoWeights(), (std::vector<double>{0.4, 0.6}));
    QCOMPARE(splitList(" x ,, y,z "), (std::vector<std::string>{"x", "y", "z"}));
    c.sentiment.reward = "length";
    QVERIFY(preflab::test::inputErrorOf([&] { c.validate(); }).find("sentiment.reward") != std::string::npos);
  }

  // Two policies from the same reference on the two rewards, then MPO's weights over 3 iterations:
  // λ on the simplex each iteration, the saved weights their time average, both rewards evaluated.
  void mixingRunWritesWeightsAndEvaluatesBothRewards() {
    QTemporaryDir tmp;
    auto sentiment = tinyTask(tmp, "sentiment");
    auto concise = tinyTask(tmp, "concise");
    concise.sentiment.reward = "conciseness";
    QVERIFY(runTextTraining(sentiment, {}, {}).state == RunState::Finished);
    QVERIFY(runTextTraining(concise, {}, {}).state == RunState::Finished);
    // Each reward setting labels its own pairs (its own cache folder): the conciseness raters'
    // chosen completions are the more concise ones on average, the lexicon raters' need not be.
    std::map<std::string, double> conciseMargin;
    for (const auto &entry : std::filesystem::directory_iterator(sentiment.cacheDir)) {
      if (entry.path().filename().string().rfind("sentiment-", 0) != 0)
        continue;
      double shorter = 0, longer = 0; // pairs whose chosen has fewer / more words
      for (const auto &line : preflab::test::nonEmptyLines(entry.path() / "pairs.jsonl")) {
        const auto j = nlohmann::json::parse(line);
        const double d = ConcisenessOracle::score(j["chosen"].get<std::string>()) -
                         ConcisenessOracle::score(j["rejected"].get<std::string>());
        shorter += d > 0;
        longer += d < 0;
      }
      conciseMargin[entry.path().filename().string()] = shorter - longer;
    }
    QCOMPARE(conciseMargin.size(), std::size_t(2));
    const auto [low, high] = std::minmax(conciseMargin.begin()->second, conciseMargin.rbegin()->second);
    QVERIFY2(high >= 3 && high > low, qPrintable(QStringLiteral("%1 %2").arg(low).arg(high)));
    auto mix = tinyTask(tmp, "mix");
    mix.trainer = "mpo";
    mix.maxSteps = 3;
    mix.mpo.policies = sentiment.outputDir + "," + concise.outputDir; // run folders: their hf/
    mix.mpo.samplesPerPrompt = 3;
    mix.mpo.promptsPerIteration = 2;
    const auto s = runTextTraining(mix, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    std::vector<nlohmann::json> lines = readMetricsFile(mix.outputDir + "/metrics.jsonl");
    QCOMPARE(lines.size(), std::size_t(3));
    double mean1 = 0;
    for (const auto &l : lines) {
      const double l1 = l["mpo/lambda_1"].get<double>(), l2 = l["mpo/lambda_2"].get<double>();
      QVERIFY(l1 > 0 && l2 > 0 && std::abs(l1 + l2 - 1) < 1e-9);
      QVERIFY(std::isfinite(l["mpo/objective"].get<double>()));
      mean1 += l1 / 3.0;
    }
    const auto mixture = preflab::test::readJsonFile(mix.outputDir + "/mixture/mixture.json");
    QVERIFY(std::abs(mixture["weights"][0].get<double>() - mean1) < 1e-12);
    QCOMPARE(mixture["components"][0].get<std::string>(),
             std::filesystem::absolute(sentiment.outputDir + "/hf").lexically_normal().string());
    const auto summary = preflab::test::readJsonFile(mix.outputDir + "/eval/summary.json");
    for (const char *key : {"eval/win_rate", "eval/win_rate_conciseness", "eval/win_rate_min", "eval/kl"})
      QVERIFY2(summary.contains(key), key);
    QCOMPARE(
        summary["eval/win_rate_min"].get<double>(),
        std::min(summary["eval/win_rate"].get<double>(), summary["eval/win_rate_conciseness"].get<double>()));
    // The mixture folder is a model: it loads and samples.
    auto model = loadModelFolder(mix.outputDir + "/mixture");
    SamplingOptions o;
    o.maxNewTokens = 4;
    QCOMPARE(generate(model, {{1, 2, 3}}, {1}, o, 256).size(), std::size_t(1));
    // Fixed weights: no iterations, the given weights.
    auto uniform = tinyTask(tmp, "uniform");
    uniform.trainer = "mpo";
    uniform.mpo.policies = mix.mpo.policies;
    uniform.mpo.weights = "0.5,0.5";
    QVERIFY(runTextTraining(uniform, {}, {}).state == RunState::Finished);
    const auto fixed = preflab::test::readJsonFile(uniform.outputDir + "/mixture/mixture.json");
    QCOMPARE(fixed["weights"][0].get<double>(), 0.5);
    QCOMPARE(QString::fromStdString(fixed["method"].get<std::string>()), QStringLiteral("fixed"));
  }
};

PREFLAB_TEST_MAIN(TestMpo)

} // namespace preflab_tests
#include "tst_mpo.moc"
