// Tests the diffusion model: UNet shapes, noise schedule, per-sample MSE, seeded samplers, CFG, save/load.
#include "core/diffusion/diffusion_loss.h"
#include "core/diffusion/diffusion_store.h"
#include "core/diffusion/diffusion_tools.h"
#include "core/diffusion/sampler.h"
#include "core/io/input_error.h"

#include <torch/torch.h>

#include "tests/core/tiny_runs.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

DiffusionConfig tinyConfig() {
  return preflab::test::tinyDiffusionConfig(100);
}

// A fresh UNet predicts zero (its output convolution starts at zero); perturb every parameter so
// outputs depend on all inputs.
UNet randomizedUNet(const DiffusionConfig &config, std::uint64_t seed) {
  torch::manual_seed(seed);
  UNet model(config);
  torch::NoGradGuard noGrad;
  for (auto &p : model->parameters())
    p.add_(torch::randn_like(p) * 0.1);
  return model;
}

DiffusionSamplingOptions options(DiffusionSamplerKind kind, std::int64_t steps, double scale = 3.0) {
  DiffusionSamplingOptions o;
  o.sampler = kind;
  o.steps = steps;
  o.guidanceScale = scale;
  return o;
}

// Four 28x28 toy images in [-1, 1]: a square, a cross, a horizontal and a vertical bar.
torch::Tensor toyImages() {
  auto x = -torch::ones({4, 1, 28, 28});
  using torch::indexing::Slice;
  x.index_put_({0, 0, Slice(8, 20), Slice(8, 20)}, 1.0);
  x.index_put_({1, 0, Slice(12, 16), Slice()}, 1.0);
  x.index_put_({1, 0, Slice(), Slice(12, 16)}, 1.0);
  x.index_put_({2, 0, Slice(4, 10), Slice(2, 26)}, 1.0);
  x.index_put_({3, 0, Slice(2, 26), Slice(18, 24)}, 1.0);
  return x;
}

} // namespace

class TestDiffusionModel : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    torch::manual_seed(1);
    torch::set_num_threads(1);
  }

  void configJsonRoundTrip() {
    auto c = tinyConfig();
    c.betaSchedule = "cosine";
    c.promptDropout = 0.2;
    const auto back = diffusionConfigFromJson(toJson(c));
    QCOMPARE(toJson(back), toJson(c));
    auto unknown = toJson(c);
    unknown["base_channel"] = 8;
    QVERIFY_THROWS_EXCEPTION(InputError, diffusionConfigFromJson(unknown));
    auto bad = toJson(c);
    bad["groups"] = 3; // 8 channels cannot be split into 3 groups
    QVERIFY_THROWS_EXCEPTION(InputError, diffusionConfigFromJson(bad));
  }

  void outputShape_data() {
    QTest::addColumn<int>("batch");
    QTest::newRow("one") << 1;
    QTest::newRow("two") << 2;
    QTest::newRow("five") << 5;
  }
  void outputShape() {
    QFETCH(int, batch);
    auto model = randomizedUNet(tinyConfig(), 3);
    const auto x = torch::randn({batch, 1, 28, 28});
    const auto t = torch::randint(0, 100, {batch}, torch::kLong);
    const auto ids = tokenizePrompts(std::vector<std::string>(std::size_t(batch), "a photo of a bag"), 16);
    QCOMPARE(ids.sizes().vec(), (std::vector<std::int64_t>{batch, 16}));
    const auto eps = model->forward(x, t, ids);
    QCOMPARE(eps.sizes().vec(), (std::vector<std::int64_t>{batch, 1, 28, 28}));
    QVERIFY(torch::isfinite(eps).all().item<bool>());
  }

  void timestepEmbeddingDiffersAcrossT() {
    const auto emb = timestepEmbedding(torch::tensor({0, 1, 500, 999}, torch::kLong), 32); // (4, 32)
    QCOMPARE(emb.sizes().vec(), (std::vector<std::int64_t>{4, 32}));
    for (int i = 0; i < 4; ++i)
      for (int j = i + 1; j < 4; ++j)
        QVERIFY2((emb[i] - emb[j]).abs().max().item<float>() > 1e-3,
                 qPrintable(QString("t rows %1, %2").arg(i).arg(j)));
    // The model's prediction depends on t as well.
    auto model = randomizedUNet(tinyConfig(), 4);
    const auto x = torch::randn({1, 1, 28, 28}).repeat({2, 1, 1, 1});
    const auto eps = model->forward(x, torch::tensor({5, 80}, torch::kLong), tokenizePrompts({"a", "a"}, 16));
    QVERIFY((eps[0] - eps[1]).abs().max().item<float>() > 1e-4);
  }

  void forwardProcessEnds_data() {
    QTest::addColumn<QString>("schedule");
    QTest::newRow("linear") << "linear";
    QTest::newRow("cosine") << "cosine";
  }
  void forwardProcessEnds() {
    QFETCH(QString, schedule);
    DiffusionConfig c;
    c.betaSchedule = schedule.toStdString();
    const NoiseSchedule s(c);
    QCOMPARE(s.timesteps(), std::int64_t(1000));
    const auto x0 = torch::rand({3, 1, 28, 28}) * 2 - 1, eps = torch::randn({3, 1, 28, 28});
    const auto first = s.addNoise(x0, torch::zeros({3}, torch::kLong), eps);
    const auto last = s.addNoise(x0, torch::full({3}, 999, torch::kLong), eps);
    QVERIFY2((first - x0).abs().max().item<float>() < 0.05, "x_0 should be ~x0");
    QVERIFY2((last - eps).abs().max().item<float>() < 0.05, "x_{T-1} should be ~eps");
    QVERIFY(s.alphaBar(0) > s.alphaBar(500) && s.alphaBar(500) > s.alphaBar(999));
    QCOMPARE(s.alphaBar(-1), 1.0);
    if (schedule == "linear")
      QVERIFY(std::abs(s.betas()[0].item<double>() - 1e-4) < 1e-9 &&
              std::abs(s.betas()[999].item<double>() - 0.02) < 1e-9);
  }

  void zeroModelMseIsMeanNoiseSquared() {
    UNet model(tinyConfig()); // output convolution starts at zero: eps_theta = 0
    const NoiseSchedule s(tinyConfig());
    const auto x0 = torch::rand({3, 1, 28, 28}) * 2 - 1, eps = torch::randn({3, 1, 28, 28});
    const auto t = torch::tensor({0, 50, 99}, torch::kLong);
    const auto mse = perSampleMse(model, s, x0, t, eps, tokenizePrompts({"a", "b", ""}, 16));
    QCOMPARE(mse.sizes().vec(), (std::vector<std::int64_t>{3}));
    QVERIFY(torch::allclose(mse, eps.pow(2).mean({1, 2, 3}), 1e-6, 1e-7));
    QVERIFY(mse.requires_grad());
  }

  void perSampleMseMatchesPrediction() {
    auto model = randomizedUNet(tinyConfig(), 12);
    const NoiseSchedule s(tinyConfig());
    const auto x0 = torch::rand({2, 1, 28, 28}) * 2 - 1, eps = torch::randn({2, 1, 28, 28});
    const auto t = torch::tensor({7, 70}, torch::kLong);
    const auto ids = tokenizePrompts({"a bag", "a bag"}, 16);
    const auto predicted = noisePrediction(model, s, x0, t, eps, ids);
    const auto mse = perSampleMse(model, s, x0, t, eps, ids);
    QVERIFY(torch::allclose(mse, (predicted - eps).pow(2).mean({1, 2, 3}), 1e-6, 1e-6));
    QVERIFY(mse.requires_grad() && predicted.requires_grad());
  }

  void promptDropout() {
    const auto ids = tokenizePrompts({"a sneaker", "a bag", "a shirt"}, 16);
    QVERIFY(torch::equal(dropPrompts(ids, 0.0), ids));
    const auto dropped = dropPrompts(ids, 1.0);
    const auto empty = tokenizePrompts({""}, 16);
    for (int i = 0; i < 3; ++i)
      QVERIFY(torch::equal(dropped[i], empty[0]));
  }

  void emptyPromptEncodes() {
    const auto empty = tokenizePrompts({""}, 16);
    QCOMPARE(empty[0][0].item<std::int64_t>(), kPromptBeginId);
    QCOMPARE(empty[0][1].item<std::int64_t>(), kPromptPadId);
    auto model = randomizedUNet(tinyConfig(), 5);
    const auto text = model->encodePrompts(tokenizePrompts({"", "a coat"}, 16)); // (2, 16)
    QVERIFY(torch::isfinite(text).all().item<bool>());
    QVERIFY((text[0] - text[1]).abs().max().item<float>() > 1e-4);
    const NoiseSchedule s(tinyConfig());
    const auto x =
        sampleDiffusion(model, s, tokenizePrompts({""}, 16), {7}, options(DiffusionSamplerKind::Ddim, 5));
    QVERIFY(torch::isfinite(x).all().item<bool>());
    // Gradients through the empty path are finite too (no fully masked attention row).
    UNet fresh(tinyConfig());
    perSampleMse(fresh, s, torch::zeros({1, 1, 28, 28}), torch::tensor({3}, torch::kLong),
                 torch::randn({1, 1, 28, 28}), empty)
        .sum()
        .backward();
    for (const auto &p : fresh->parameters())
      QVERIFY(!p.grad().defined() || torch::isfinite(p.grad()).all().item<bool>());
  }

  void guidanceScaleOneIsConditional() {
    auto model = randomizedUNet(tinyConfig(), 6);
    model->eval();
    torch::NoGradGuard noGrad;
    const auto x = torch::randn({2, 1, 28, 28});
    const auto t = torch::tensor({10, 60}, torch::kLong);
    const auto text = model->encodePrompts(tokenizePrompts({"a dress", "a boot"}, 16));
    const auto empty = model->encodePrompts(tokenizePrompts({""}, 16));
    const auto conditional = model->predict(x, t, text);
    const auto unconditional = model->predict(x, t, empty.expand({2, 16}));
    // Batches of 4 and 2 round differently (~1e-6), hence the tolerance.
    QVERIFY(torch::allclose(guidedEpsilon(model, x, t, text, empty, 1.0), conditional, 1e-4, 1e-4));
    QVERIFY(torch::allclose(guidedEpsilon(model, x, t, text, empty, 0.0), unconditional, 1e-4, 1e-4));
    const auto guided = guidedEpsilon(model, x, t, text, empty, 3.0);
    QVERIFY(torch::allclose(guided, unconditional + 3.0 * (conditional - unconditional), 1e-4, 1e-4));
    QVERIFY((guided - conditional).abs().max().item<float>() > 1e-3);
  }

  void samplingTimestepsSpan() {
    const auto ts = samplingTimesteps(1000, 50);
    QCOMPARE(ts.size(), std::size_t(50));
    QCOMPARE(ts.front(), std::int64_t(999));
    QCOMPARE(ts.back(), std::int64_t(0));
    for (std::size_t i = 1; i < ts.size(); ++i)
      QVERIFY(ts[i] < ts[i - 1]);
    QCOMPARE(samplingTimesteps(100, 0).size(), std::size_t(100));
  }

  void seedIsIndependentOfBatch_data() {
    QTest::addColumn<int>("kind");
    QTest::newRow("ddpm") << int(DiffusionSamplerKind::Ddpm);
    QTest::newRow("ddim") << int(DiffusionSamplerKind::Ddim);
  }
  void seedIsIndependentOfBatch() {
    QFETCH(int, kind);
    auto model = randomizedUNet(tinyConfig(), 8);
    const NoiseSchedule s(tinyConfig());
    const auto o = options(DiffusionSamplerKind(kind), 10);
    const auto batch =
        sampleDiffusion(model, s, tokenizePrompts({"a bag", "a shirt", "a boot"}, 16), {11, 12, 13}, o);
    const auto alone = sampleDiffusion(model, s, tokenizePrompts({"a shirt"}, 16), {12}, o);
    QVERIFY2(torch::equal(batch[1], alone[0]), "sample 1 in a batch of 3 differs from the same seed alone");
    const auto reordered = sampleDiffusion(model, s, tokenizePrompts({"a boot", "a bag"}, 16), {13, 11}, o);
    QVERIFY(torch::equal(batch[2], reordered[0]) && torch::equal(batch[0], reordered[1]));
    // Another instance with the same weights: same images.
    auto twin = cloneUNet(model);
    QVERIFY(torch::equal(sampleDiffusion(twin, s, tokenizePrompts({"a shirt"}, 16), {12}, o), alone));
    // Batched in one forward: faster, equal up to rounding.
    auto batched = o;
    batched.batchInvariant = false;
    const auto fast =
        sampleDiffusion(model, s, tokenizePrompts({"a bag", "a shirt", "a boot"}, 16), {11, 12, 13}, batched);
    QVERIFY(torch::allclose(fast, batch, 1e-3, 1e-3));
    // Different seeds, different images.
    const auto other = sampleDiffusion(model, s, tokenizePrompts({"a shirt"}, 16), {99}, o);
    QVERIFY((other - alone).abs().max().item<float>() > 1e-3);
  }

  void ddimIsDeterministic() {
    auto model = randomizedUNet(tinyConfig(), 9);
    const NoiseSchedule s(tinyConfig());
    const auto ids = tokenizePrompts({"a sandal", ""}, 16);
    const auto o = options(DiffusionSamplerKind::Ddim, 8);
    torch::manual_seed(100); // the global generator must play no part
    const auto a = sampleDiffusion(model, s, ids, {21, 22}, o);
    torch::manual_seed(200);
    const auto b = sampleDiffusion(model, s, ids, {21, 22}, o);
    QVERIFY(torch::equal(a, b));
    QCOMPARE(a.sizes().vec(), (std::vector<std::int64_t>{2, 1, 28, 28}));
    QVERIFY(a.min().item<float>() >= -1.0f && a.max().item<float>() <= 1.0f);
  }

  void saveLoadRoundTrip() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto path = dir.path().toStdString() + "/model";
    auto model = randomizedUNet(tinyConfig(), 10);
    saveDiffusionModel(model, path);
    auto loaded = loadDiffusionModel(path);
    QCOMPARE(toJson(loaded->config()), toJson(model->config()));
    model->eval();
    loaded->eval();
    torch::NoGradGuard noGrad;
    const auto x = torch::randn({2, 1, 28, 28});
    const auto t = torch::tensor({1, 70}, torch::kLong);
    const auto ids = tokenizePrompts({"a pullover", ""}, 16);
    QVERIFY(torch::equal(model->forward(x, t, ids), loaded->forward(x, t, ids)));
    // The torch-free facade gives the same pixels as sampling the saved model directly.
    const auto o = options(DiffusionSamplerKind::Ddim, 6);
    DiffusionGenerator generator(path);
    const auto images = generator.generate({"a pullover", ""}, {5, 6}, o);
    const NoiseSchedule s(tinyConfig());
    const auto direct = imagesFromTensor(sampleDiffusion(model, s, ids, {5, 6}, o));
    QCOMPARE(images.size(), std::size_t(2));
    QCOMPARE(images[0].width, std::int64_t(28));
    QCOMPARE(images[0].pixels.size(), std::size_t(28 * 28));
    QCOMPARE(images[1].seed, std::uint64_t(6));
    QVERIFY(images[0].pixels == direct[0].pixels && images[1].pixels == direct[1].pixels);
    QVERIFY_THROWS_EXCEPTION(InputError, generator.generate({"a"}, {1, 2}, o));
    QVERIFY_THROWS_EXCEPTION(InputError, loadDiffusionModel(dir.path().toStdString() + "/missing"));
  }

  void imagesFromTensorMapsRange() {
    const auto x = torch::tensor({-1.0f, 0.0f, 1.0f, 2.0f}).view({1, 1, 2, 2});
    const auto images = imagesFromTensor(x);
    QCOMPARE(images[0].pixels, (std::vector<std::uint8_t>{0, 128, 255, 255}));
  }

  // Seeded: the denoising loss on a fixed evaluation set of (t, eps) falls by half within 100
  // Adam steps (batch 4) on four toy images.
  void learnsToyProblem() {
    torch::manual_seed(42);
    auto c = tinyConfig();
    c.promptDropout = 0.1;
    UNet model(c);
    const NoiseSchedule s(c);
    const auto x0 = toyImages(); // (4, 1, 28, 28)
    const auto ids = tokenizePrompts({"square", "cross", "top bar", "right bar"}, 16);
    // A fixed evaluation set: each image at four timesteps, (16, ...).
    const auto evalX0 = x0.repeat({4, 1, 1, 1}), evalIds = ids.repeat({4, 1});
    const auto evalT = torch::randint(0, c.timesteps, {16}, torch::kLong);
    const auto evalEps = torch::randn({16, 1, 28, 28});
    auto evalLoss = [&] {
      torch::NoGradGuard noGrad;
      return perSampleMse(model, s, evalX0, evalT, evalEps, evalIds).mean().item<double>();
    };
    const double before = evalLoss();
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(3e-3));
    for (int step = 0; step < 100; ++step) {
      optimizer.zero_grad();
      denoisingLoss(model, s, x0, ids).backward();
      optimizer.step();
    }
    const double after = evalLoss();
    qInfo("eval loss %.4f -> %.4f", before, after);
    QVERIFY2(after < 0.5 * before, qPrintable(QString("loss %1 -> %2").arg(before).arg(after)));
  }
};

PREFLAB_TEST_MAIN(TestDiffusionModel)

} // namespace preflab_tests
#include "tst_diffusion_model.moc"
