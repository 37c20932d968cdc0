// Tests the text-to-image pipeline: PNG writing and grids, the oracle's terms, raters, the image
// run config, pair generation and runImageTraining end to end on tiny models.
#include "core/api/run_reader.h"
#include "core/data/fashion_mnist.h"
#include "core/data/image_file.h"
#include "core/data/image_output.h"
#include "core/data/image_preference_reader.h"
#include "core/diffusion/diffusion_store.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/resource_paths.h"
#include "core/jobs/image_training.h"
#include "core/tasks/fashion_oracle.h"
#include "core/tasks/fashion_task.h"
#include "core/tasks/image_pairs.h"
#include "core/tasks/raters.h"
#include "core/train/run_folder.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>
#include <set>

using namespace preflab::core;
namespace fs = std::filesystem;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

ImageBuffer gradientImage(int w, int h, int channels) {
  ImageBuffer image{w, h, channels, {}};
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        image.pixels.push_back(std::uint8_t((x * 37 + y * 11 + c * 90) % 256));
  return image;
}

// A tiny reference saved to `dir`, perturbed so that it does not predict zero everywhere.
void saveTinyReference(const std::string &dir, bool poison = false) {
  DiffusionConfig c;
  c.baseChannels = 8;
  c.channelMults = {1, 2};
  c.groups = 4;
  c.textDim = 16;
  c.textHeads = 2;
  c.maxPromptLength = 32;
  c.timesteps = 50;
  torch::manual_seed(3);
  UNet model(c);
  torch::NoGradGuard noGrad;
  for (auto &p : model->parameters())
    p.add_(torch::randn_like(p) * 0.05);
  if (poison)
    model->conv_out->bias.fill_(std::numeric_limits<float>::quiet_NaN());
  saveDiffusionModel(model, dir);
}

bool haveTaskData() {
  return fashionMnistAvailable("train") && fs::exists(embeddedResource("fashion-oracle") + "/oracle.pt");
}

ImageTrainConfig tinyRun(const std::string &root, const std::string &lossType) {
  ImageTrainConfig config;
  config.trainFile = "fashion-mnist";
  config.fashionPairsPerClass = 2;
  config.referenceModel = root + "/ref";
  config.lossType = lossType;
  config.maxSteps = 3;
  config.perDeviceTrainBatchSize = 4;
  config.evalSeedsPerClass = 1;
  config.evalSamplingSteps = 3;
  config.evalTimesteps = 2;
  config.gridSeeds = 1;
  config.evalFraction = 0.25;
  config.outputDir = root + "/run-" + lossType;
  config.threads = 1;
  return config;
}

} // namespace

class TestImageTraining : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void pngHasSignatureChunksAndRoundTrips() {
    const auto image = gradientImage(13, 7, 1);
    const auto png = encodePng(image);
    QCOMPARE(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    QCOMPARE(png.substr(12, 4), std::string("IHDR"));
    QCOMPARE(png.substr(png.size() - 8, 4), std::string("IEND"));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             encodePng(ImageBuffer{2, 2, 2, std::vector<std::uint8_t>(8)}));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             encodePng(ImageBuffer{3, 3, 1, std::vector<std::uint8_t>(8)}));
    if (!imageDecodingAvailable())
      QSKIP("no OpenCV in this build: the decoder round trip needs it");
    QTemporaryDir dir;
    for (int channels : {1, 3}) {
      const auto original = gradientImage(13, 7, channels);
      const auto path = dir.filePath(QString("g%1.png").arg(channels)).toStdString();
      writePngFile(path, original);
      const auto back = loadImageFile(path, 0, channels);
      QCOMPARE(back.width, 13);
      QCOMPARE(back.height, 7);
      QVERIFY(back.pixels == original.pixels); // lossless, both colour types
    }
  }

  void gridsTileAndPlaceSideBySide() {
    std::vector<ImageBuffer> tiles;
    for (std::uint8_t v : {10, 20, 30})
      tiles.push_back(ImageBuffer{2, 2, 1, std::vector<std::uint8_t>(4, v)});
    const auto grid = tileImages(tiles, 2, 1, 2, 255);
    QCOMPARE(grid.width, 2 * 4 + 3);  // two columns of 4 px (scale 2), three gaps
    QCOMPARE(grid.height, 2 * 4 + 3); // two rows
    QCOMPARE(int(grid.at(1, 1)), 10);
    QCOMPARE(int(grid.at(6, 4)), 20);  // second tile: x 6..9, y 1..4
    QCOMPARE(int(grid.at(1, 6)), 30);  // third tile, second row
    QCOMPARE(int(grid.at(6, 6)), 255); // empty cell stays background
    QCOMPARE(int(grid.at(0, 0)), 255);
    tiles.push_back(ImageBuffer{3, 2, 1, std::vector<std::uint8_t>(6, 0)});
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, tileImages(tiles, 2));
    const auto both = besideEachOther(ImageBuffer{2, 3, 1, std::vector<std::uint8_t>(6, 1)},
                                      ImageBuffer{1, 1, 1, std::vector<std::uint8_t>(1, 2)}, 4, 200);
    QCOMPARE(both.width, 7);
    QCOMPARE(both.height, 3);
    QCOMPARE(int(both.at(1, 2)), 1);
    QCOMPARE(int(both.at(6, 0)), 2);
    QCOMPARE(int(both.at(6, 1)), 200); // padding under the shorter image
    QCOMPARE(int(both.at(3, 0)), 200); // the gap
  }

  void appealRewardsCleanImages() {
    QCOMPARE(imageAppeal(ImageBuffer{2, 2, 1, {0, 255, 0, 255}}), 1.0);
    QVERIFY(imageAppeal(ImageBuffer{2, 2, 1, std::vector<std::uint8_t>(4, 128)}) < 1e-3);
    const double half = imageAppeal(ImageBuffer{2, 1, 1, {0, 128}});
    QVERIFY(half > 0.49 && half < 0.51);
    QCOMPARE(fashionMnistLabelForPrompt("a photo of a sneaker"), 7);
    QCOMPARE(fashionMnistLabelForPrompt("a photo of a cat"), -1);
    QCOMPARE(fashionMnistPrompt(9, 5), std::string("a catalogue picture of an ankle boot"));
    QCOMPARE(fashionMnistPrompt(7, 3), std::string("a sneaker"));
    QCOMPARE(fashionMnistLabelForPrompt(fashionMnistPrompt(9, 5)), 9);
    QVERIFY_THROWS_EXCEPTION(std::out_of_range, fashionMnistPrompt(1, kFashionPromptTemplates));
  }

  void ratersFollowBradleyTerry() {
    std::mt19937_64 rng(1);
    QCOMPARE(simulateRaterVotes(1.0, 0.0, 5, 0.01, rng), 5);
    QCOMPARE(simulateRaterVotes(0.0, 1.0, 5, 0.01, rng), 0);
    int votes = 0;
    for (int i = 0; i < 2000; ++i)
      votes += simulateRaterVotes(0.1, 0.0, 1, 0.1, rng); // p = sigma(1) = 0.731
    QVERIFY2(std::abs(votes / 2000.0 - 0.731) < 0.03, qPrintable(QString::number(votes)));
    const auto w = winRateWithInterval({1, 1, 0, 0.5});
    QCOMPARE(w.rate, 0.625);
    QVERIFY(w.low < 0.625 && w.high > 0.625);
    QCOMPARE(winRateWithInterval({}).rate, 0.0);
    QCOMPARE(w.ties, 0.25);
  }

  // Wilson score intervals, expected values from the published formula in Python
  // (statistics.NormalDist for z): never outside [0, 1], never zero-width at 0, 1 or all ties.
  void winRateIntervalIsWilson() {
    auto near = [](double a, double b) { return std::abs(a - b) < 1e-12; };
    const auto all = winRateWithInterval(std::vector<double>(10, 1.0));
    QCOMPARE(all.rate, 1.0);
    QVERIFY2(near(all.low, 0.7224672001371109), qPrintable(QString::number(all.low, 'g', 17)));
    QCOMPARE(all.high, 1.0);
    const auto none = winRateWithInterval(std::vector<double>(10, 0.0));
    QCOMPARE(none.low, 0.0);
    QVERIFY(near(none.high, 1.0 - 0.7224672001371109));
    const auto ties = winRateWithInterval(std::vector<double>(8, 0.5));
    QCOMPARE(ties.ties, 1.0);
    QVERIFY(near(ties.low, 0.21521606221387762) && near(ties.high, 0.7847839377861223));
    std::vector<double> mixed(14, 1.0);
    mixed.resize(20, 0.0); // 14 of 20
    const auto m = winRateWithInterval(mixed);
    QVERIFY(near(m.low, 0.4810271816464765) && near(m.high, 0.8545227551323956));
  }

  void configReadsValidatesAndRoundTrips() {
    auto c =
        imageTrainConfigFromYaml("task: text-to-image\ntrain_file: pairs.jsonl\nloss_type: diffusion-dpo\n"
                                 "beta: 2000\nmax_steps: 7\n",
                                 "c.yaml");
    QCOMPARE(c.lossType, std::string("diffusion-dpo"));
    QCOMPARE(c.beta, 2000.0);
    c.validate();
    applyOverride(c, "guidance_scale=2.5");
    QCOMPARE(c.guidanceScale, 2.5);
    const auto again = imageTrainConfigFromYaml(toYaml(c), "resolved");
    QCOMPARE(toYaml(again), toYaml(c));
    try {
      imageTrainConfigFromYaml("task: text-to-image\nbogus_key: 1\n", "c.yaml");
      QFAIL("unknown key accepted");
    } catch (const InputError &e) {
      QCOMPARE(e.line(), std::int64_t(2));
      QCOMPARE(e.key(), std::string("bogus_key"));
    }
    c.lossType = "dpo"; // a text objective
    QVERIFY_THROWS_EXCEPTION(InputError, c.validate());
    c.lossType = "dspo";
    c.ties = "maybe";
    try {
      c.validate();
      QFAIL("bad ties accepted");
    } catch (const InputError &e) {
      QCOMPARE(e.key(), std::string("ties"));
    }
    QTemporaryDir dir;
    const auto path = dir.filePath("i.yaml").toStdString();
    writeFileAtomic(path, "task: text-to-image\n");
    QVERIFY(isImageTrainConfigFile(path));
    writeFileAtomic(path, "task: sentiment\n");
    QVERIFY(!isImageTrainConfigFile(path));
  }

  void validationSplitSharesNoPromptOrSeedWithTest() {
    if (!haveTaskData())
      QSKIP("needs dataset-fashion-mnist and resources/fashion-oracle");
    ImageTrainConfig config;
    config.trainFile = "fashion-mnist";
    config.evalSeedsPerClass = 4;
    const FashionTask test(config, embeddedResource("fashion-oracle"));
    config.evalSplit = "validation";
    config.validate();
    const FashionTask validation(config, embeddedResource("fashion-oracle"));
    QCOMPARE(test.prompts().size(), std::size_t(40));
    QCOMPARE(validation.prompts().size(), std::size_t(40));
    // Validation asks in the pairs' phrasings, test in the two they never used.
    std::set<std::string> pairPhrasings, testPhrasings;
    for (int t = 0; t < kFashionPairTemplates; ++t)
      pairPhrasings.insert(fashionMnistPrompt(2, t));
    for (int t = kFashionPairTemplates; t < kFashionPromptTemplates; ++t)
      testPhrasings.insert(fashionMnistPrompt(2, t));
    std::set<std::string> seenValidation;
    for (std::size_t i = 8; i < 12; ++i) { // class 2's rows
      QVERIFY(testPhrasings.count(test.prompts()[i]));
      QVERIFY(pairPhrasings.count(validation.prompts()[i]));
      seenValidation.insert(validation.prompts()[i]);
    }
    QCOMPARE(seenValidation.size(), std::size_t(kFashionPairTemplates));
    const std::set<std::uint64_t> testSeeds(test.seeds().begin(), test.seeds().end());
    for (const auto seed : validation.seeds())
      QVERIFY(!testSeeds.count(seed));
    config.evalSplit = "holdout";
    try {
      config.validate();
      QFAIL("unknown eval_split accepted");
    } catch (const InputError &e) {
      QCOMPARE(e.key(), std::string("eval_split"));
    }
  }

  void generatedPairsFormAReadableManifest() {
    if (!haveTaskData())
      QSKIP("needs dataset-fashion-mnist and resources/fashion-oracle");
    QTemporaryDir dir;
    const auto root = dir.path().toStdString();
    saveTinyReference(root + "/ref");
    PairGenerationOptions o;
    o.modelDir = root + "/ref";
    o.oracleDir = embeddedResource("fashion-oracle");
    o.outputDir = root + "/pairs";
    o.pairsPerClass = 1;
    o.sampling.steps = 3;
    o.sampling.batchInvariant = false;
    const auto r = generatePairs(o, {});
    QCOMPARE(r.pairs, std::int64_t(10));
    QCOMPARE(r.ties, std::int64_t(0)); // 5 raters never tie
    std::ifstream in(r.manifestPath);
    int lines = 0;
    for (std::string line; std::getline(in, line); ++lines) {
      const auto j = nlohmann::json::parse(line);
      QVERIFY(j["label_0"] == 1.0 || j["label_0"] == 0.0);
      QVERIFY(fs::file_size(root + "/pairs/" + j["jpg_0"].get<std::string>()) > 8);
      const double fraction = j["rater_fraction"];
      QCOMPARE(fraction >= 0.5, j["label_0"] == 1.0);
    }
    QCOMPARE(lines, 10);
    if (!imageDecodingAvailable())
      return;
    ImageReadOptions ro;
    ro.channels = 1;
    const auto data = readImagePreferences(r.manifestPath, ro);
    QCOMPARE(data.pairs.size(), std::size_t(10));
    QCOMPARE(data.pairs[0].image0.width, 28);
  }

  void imageRunWritesMetricsEvalAndGrids() {
    if (!haveTaskData())
      QSKIP("needs dataset-fashion-mnist and resources/fashion-oracle");
    QTemporaryDir dir;
    const auto root = dir.path().toStdString();
    saveTinyReference(root + "/ref");
    for (const auto *loss : {"diffusion-dpo", "dspo", "diffusion-kto"}) {
      const auto config = tinyRun(root, loss);
      std::vector<StepRecord> logs;
      TrainerCallbacks cb;
      cb.onLog = [&](const StepRecord &r) { logs.push_back(r); };
      const auto s = runImageTraining(config, {}, cb);
      QVERIFY2(s.state == RunState::Finished, s.message.c_str());
      QCOMPARE(logs.size(), std::size_t(3));
      for (const auto *key : {"loss", "implicit_acc", "mse/model_w", "mse/model_l", "mse/ref_w", "mse/ref_l"})
        QVERIFY2(logs.back().metrics.count(key), key);
      // Step 1's policy is the reference: equal MSEs, so Diffusion-DPO starts at ln 2.
      if (std::string(loss) == "diffusion-dpo")
        QVERIFY(std::abs(logs.front().metrics.at("loss") - std::log(2.0)) < 1e-6);
      const auto rows = readMetricsFile(config.outputDir + "/metrics.jsonl");
      QCOMPARE(rows.size(), std::size_t(4)); // three steps and one evaluation
      const auto &e = rows.back();
      const double win = e["eval/win_rate"];
      QVERIFY(win >= 0 && win <= 1 && e["eval/win_rate_low"].get<double>() <= win);
      QCOMPARE(e["eval/prompts"].get<double>(), 10.0);
      QVERIFY(e.contains("eval/implicit_acc") && e.contains("eval/oracle_reward_ref"));
      const auto png = readFile(config.outputDir + "/samples/grid.png");
      QCOMPARE(png.substr(1, 3), std::string("PNG"));
      QVERIFY(fs::exists(config.outputDir + "/samples/grid-step-3.png"));
      QVERIFY(fs::exists(config.outputDir + "/eval/summary.json"));
      const auto info = nlohmann::json::parse(readFile(config.outputDir + "/run_info.json"));
      QCOMPARE(info["task"].get<std::string>(), std::string("text-to-image"));
      const auto tuned = loadDiffusionModel(config.outputDir + "/model");
      QCOMPARE(tuned->config().baseChannels, std::int64_t(8));
      // The run-folder reader sees the folder as the app will.
      const RunReader reader(config.outputDir);
      QVERIFY(reader.isImageRun());
      QCOMPARE(reader.lossType(), std::string(loss));
      QCOMPARE(reader.grids().size(), std::size_t(1));
      QCOMPARE(reader.checkpoints().back().step, std::int64_t(3)); // the end of the run
      QCOMPARE(reader.models().front().path,
               fs::absolute(config.outputDir + "/model").lexically_normal().string());
      QVERIFY(reader.models().front().image);
    }
    // An existing run folder is not overwritten by accident.
    const auto again = runImageTraining(tinyRun(root, "dspo"), {}, {});
    QVERIFY(again.state == RunState::Failed);
    QVERIFY(again.message.find("already holds a run") != std::string::npos);
  }

  void nonFiniteLossFailsNamingTheStep() {
    if (!haveTaskData())
      QSKIP("needs dataset-fashion-mnist and resources/fashion-oracle");
    QTemporaryDir dir;
    const auto root = dir.path().toStdString();
    saveTinyReference(root + "/ref", true);
    const auto s = runImageTraining(tinyRun(root, "diffusion-dpo"), {}, {});
    QVERIFY(s.state == RunState::Failed);
    QVERIFY2(s.message.find("at step 1") != std::string::npos, s.message.c_str());
    const auto status = nlohmann::json::parse(readFile(root + "/run-diffusion-dpo/status.json"));
    QCOMPARE(status["state"].get<std::string>(), std::string("failed"));
  }

  void missingImagesAreSkippedAndCounted() {
    if (!haveTaskData() || !imageDecodingAvailable())
      QSKIP("needs dataset-fashion-mnist, resources/fashion-oracle and OpenCV");
    QTemporaryDir dir;
    const auto root = dir.path().toStdString();
    saveTinyReference(root + "/ref");
    std::string manifest;
    for (int k = 0; k < 4; ++k) {
      writePngFile(root + "/a" + std::to_string(k) + ".png", gradientImage(28, 28, 1));
      writePngFile(root + "/b" + std::to_string(k) + ".png",
                   ImageBuffer{28, 28, 1, std::vector<std::uint8_t>(784, 0)});
      manifest +=
          nlohmann::json{{"caption", fashionMnistPrompt(k)},
                         {"jpg_0", "a" + std::to_string(k) + ".png"},
                         {"jpg_1", k == 3 ? std::string("gone.png") : "b" + std::to_string(k) + ".png"},
                         {"label_0", k % 2}}
              .dump() +
          "\n";
    }
    writeFileAtomic(root + "/m.jsonl", manifest);
    auto config = tinyRun(root, "diffusion-dpo");
    config.trainFile = root + "/m.jsonl";
    std::vector<std::string> messages;
    TrainerCallbacks cb;
    cb.onMessage = [&](const std::string &m) { messages.push_back(m); };
    const auto s = runImageTraining(config, {}, cb);
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    bool reported = false;
    for (const auto &m : messages)
      reported |= m.find("skipped 1 pairs") != std::string::npos && m.find("gone.png") != std::string::npos;
    QVERIFY(reported);
    // A user's own manifest and no oracle_model: held-out implicit accuracy and a caption grid,
    // no judge and so no win rate.
    const RunReader own(config.outputDir);
    const auto summary = own.evalSummary();
    QVERIFY2(summary.contains("eval/implicit_acc"), summary.dump().c_str());
    QCOMPARE(summary["eval/pairs"].get<double>(), 1.0);
    QVERIFY(!summary.contains("eval/win_rate") && !summary.contains("oracle_test_accuracy"));
    QCOMPARE(own.gridRows().size(), std::size_t(1)); // the held-out pair's caption
    QVERIFY(fs::exists(config.outputDir + "/samples/grid-step-3.png"));
    QVERIFY(!fs::exists(config.outputDir + "/eval/samples.jsonl"));
    // The same pairs judged by the embedded Fashion oracle: the Fashion task's metrics and class rows.
    config.oracleModel = "fashion";
    config.outputDir = root + "/with-oracle";
    const auto judged = runImageTraining(config, {}, {});
    QVERIFY2(judged.state == RunState::Finished, judged.message.c_str());
    const RunReader withOracle(config.outputDir);
    QVERIFY(withOracle.evalSummary().contains("eval/win_rate"));
    QVERIFY(withOracle.evalSummary().contains("eval/implicit_acc"));
    QCOMPARE(withOracle.gridRows().size(), std::size_t(10));
  }
};

PREFLAB_TEST_MAIN(TestImageTraining)

} // namespace preflab_tests
#include "tst_image_training.moc"
