// The Fashion-MNIST oracle: classifier training and scoring, the appeal term.
#include "core/tasks/fashion_oracle.h"

#include "core/data/fashion_mnist.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/runtime/compute_threads.h"
#include "core/train/lr_schedule.h"
#include "core/train/run_folder.h"
#include "core/train/train_loop.h"

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace preflab::core {

// The classifier, outside the anonymous namespace: FashionOracle::Impl holds one.
namespace fashion_oracle_net {

// conv 1→32 (3×3) → ReLU → pool → conv 32→64 → ReLU → pool → 3136 → 128 → 10 logits.
struct OracleNetImpl : torch::nn::Module {
  OracleNetImpl() {
    conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 32, 3).padding(1)));
    conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)));
    fc1 = register_module("fc1", torch::nn::Linear(64 * 7 * 7, 128));
    fc2 = register_module("fc2", torch::nn::Linear(128, kFashionMnistClasses));
  }
  // x: (B, 1, 28, 28) in [0, 1] -> logits (B, 10)
  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(torch::relu(conv1->forward(x)), 2);
    x = torch::max_pool2d(torch::relu(conv2->forward(x)), 2);
    return fc2->forward(torch::relu(fc1->forward(x.flatten(1))));
  }
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(OracleNet);

} // namespace fashion_oracle_net

using fashion_oracle_net::OracleNet;

namespace {

// count × 28 × 28 bytes -> (count, 1, 28, 28) float in [0, 1]
torch::Tensor imagesTensor(const std::uint8_t *data, std::int64_t count) {
  return torch::from_blob(const_cast<std::uint8_t *>(data), {count, 1, kFashionMnistSide, kFashionMnistSide},
                          torch::kUInt8)
      .to(torch::kFloat32)
      .div(255.0);
}

double accuracyOn(OracleNet &net, const FashionMnistSplit &split) {
  torch::NoGradGuard noGrad;
  net->eval();
  std::int64_t correct = 0;
  for (std::int64_t begin = 0; begin < split.count; begin += 1000) {
    const auto n = std::min<std::int64_t>(1000, split.count - begin);
    const auto predicted = net->forward(imagesTensor(split.image(begin), n)).argmax(1);
    const auto labels =
        torch::from_blob(const_cast<std::uint8_t *>(split.labels.data()) + begin, {n}, torch::kUInt8)
            .to(torch::kInt64);
    correct += predicted.eq(labels).sum().item<std::int64_t>();
  }
  net->train();
  return double(correct) / double(std::max<std::int64_t>(1, split.count));
}

} // namespace

int fashionMnistLabelForPrompt(const std::string &prompt) {
  for (int label = 0; label < kFashionMnistClasses; ++label)
    for (int t = 0; t < kFashionPromptTemplates; ++t)
      if (fashionMnistPrompt(label, t) == prompt)
        return label;
  return -1;
}

double imageAppeal(const ImageBuffer &image) {
  if (image.pixels.empty())
    return 0.0;
  double haze = 0.0;
  for (std::uint8_t v : image.pixels) {
    const double p = double(v) / 255.0;
    haze += 4.0 * p * (1.0 - p);
  }
  return 1.0 - haze / double(image.pixels.size()); // averaging over channels too
}

namespace {

// One classifier step for the TrainLoop: the next batch of a seeded per-epoch permutation.
class OracleStep final : public TrainStep {
public:
  OracleStep(const OracleTrainOptions &options, torch::Tensor images, torch::Tensor labels)
      : m_options(options), m_images(std::move(images)), m_labels(std::move(labels)),
        m_generator(at::detail::createCPUGenerator(options.seed)),
        m_optimizer(m_net->parameters(),
                    torch::optim::AdamWOptions(options.learningRate).weight_decay(1e-4)) {}

  std::int64_t stepsPerEpoch() const {
    return (m_images.size(0) + m_options.batchSize - 1) / m_options.batchSize;
  }
  OracleNet &net() { return m_net; }
  std::vector<torch::Tensor> parameters() override { return m_net->parameters(); }
  torch::optim::Optimizer &optimizer() override { return m_optimizer; }

  std::map<std::string, torch::Tensor> compute(std::int64_t step) override {
    const auto count = m_images.size(0);
    const auto begin = (step % stepsPerEpoch()) * m_options.batchSize;
    if (begin == 0)
      m_order = torch::randperm(count, m_generator, torch::kInt64);
    const auto index = m_order.slice(0, begin, std::min(count, begin + m_options.batchSize));
    const auto loss = torch::cross_entropy_loss(m_net->forward(m_images.index_select(0, index)),
                                                m_labels.index_select(0, index));
    loss.backward();
    return {{"loss", loss.detach()}};
  }

  void save(const std::string &dir) override {
    torch::save(m_net, dir + "/oracle.pt");
    torch::save(m_generator.get_state(), dir + "/rng.pt");
    if (m_order.defined())
      torch::save(m_order, dir + "/data_order.pt");
  }
  void load(const std::string &dir) override {
    torch::load(m_net, dir + "/oracle.pt");
    torch::Tensor state;
    torch::load(state, dir + "/rng.pt");
    m_generator.set_state(state);
    if (std::filesystem::exists(dir + "/data_order.pt"))
      torch::load(m_order, dir + "/data_order.pt");
  }
  nlohmann::json identity() const override { return {{"task", "fashion-oracle"}, {"seed", m_options.seed}}; }

private:
  const OracleTrainOptions &m_options;
  torch::Tensor m_images, m_labels;
  OracleNet m_net;
  at::Generator m_generator;
  torch::optim::AdamW m_optimizer;
  torch::Tensor m_order;
};

} // namespace

OracleTrainResult trainFashionOracle(const OracleTrainOptions &options, const TrainerCallbacks &callbacks,
                                     const std::atomic<bool> *cancel) {
  if (options.outputDir.empty())
    throw InputError({}, 0, "output_dir", "an output folder is needed");
  if (options.epochs < 1 || options.batchSize < 1 || !(options.learningRate > 0))
    throw InputError({}, 0, "epochs", "epochs and batch size must be >= 1 and the learning rate > 0");
  const auto started = std::chrono::steady_clock::now();
  setComputeThreads(int(options.threads));
  const auto train = loadFashionMnist("train", options.dataDir);
  const auto test = loadFashionMnist("test", options.dataDir);
  torch::manual_seed(options.seed);
  const auto images = imagesTensor(train.images.data(), train.count);
  const auto labels =
      torch::from_blob(const_cast<std::uint8_t *>(train.labels.data()), {train.count}, torch::kUInt8)
          .to(torch::kInt64);
  OracleStep step(options, images, labels);
  LoopSettings settings;
  settings.totalSteps = step.stepsPerEpoch() * options.epochs;
  settings.loggingSteps = 20;
  const LrSchedule schedule{"cosine", options.learningRate, 0, settings.totalSteps};
  settings.learningRate = [schedule](std::int64_t s) { return schedule.at(s); };
  settings.stepsPerEpoch = double(step.stepsPerEpoch());
  settings.checkpointAtEnd = false; // oracle.pt is the result
  settings.evalAtEnd = false;
  settings.failureHint = "lower the learning rate";
  RunFolder folder(options.outputDir);
  TrainLoop loop(std::move(settings), step, folder);
  loop.setCallbacks(callbacks);
  loop.setCancelFlag(cancel);
  const auto outcome = loop.run();
  if (outcome.state == RunState::Cancelled)
    throw std::runtime_error("oracle training " + outcome.message);
  if (outcome.state == RunState::Failed)
    throw InputError({}, 0, "learning_rate", outcome.message);
  OracleNet &net = step.net();
  const std::int64_t stepsDone = outcome.step;
  OracleTrainResult result;
  result.dir = options.outputDir;
  result.testAccuracy = accuracyOn(net, test);
  result.testCount = test.count;
  result.steps = stepsDone;
  std::filesystem::create_directories(options.outputDir);
  const auto weights = options.outputDir + "/oracle.pt";
  torch::save(net, weights + ".tmp");
  std::filesystem::rename(weights + ".tmp", weights);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const nlohmann::json meta = {
      {"kind", "fashion-mnist-oracle"},
      {"architecture",
       "conv3x3(1,32)-relu-pool-conv3x3(32,64)-relu-pool-linear(3136,128)-relu-linear(128,10)"},
      {"input", "28x28 greyscale, pixel/255"},
      {"test_accuracy", result.testAccuracy},
      {"test_count", result.testCount},
      {"train_count", train.count},
      {"epochs", options.epochs},
      {"batch_size", options.batchSize},
      {"learning_rate", options.learningRate},
      {"seed", options.seed},
      {"reward",
       "P(prompt class | image) + appeal_weight * appeal; appeal = 1 - mean 4p(1-p), p = pixel/255"},
      {"appeal_weight", OracleRewardSettings{}.appealWeight}};
  writeFileAtomic(options.outputDir + "/oracle.json", meta.dump(2) + "\n");
  folder.writeStatus(RunState::Finished, "finished; test accuracy " + std::to_string(result.testAccuracy),
                     stepsDone, stepsDone);
  return result;
}

struct FashionOracle::Impl {
  OracleNet net;
  OracleRewardSettings settings;
  double testAccuracy = 0.0;
  std::string dir;
};

FashionOracle::FashionOracle(const std::string &dir, OracleRewardSettings settings)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->dir = dir;
  m_impl->settings = settings;
  const auto metaPath = dir + "/oracle.json";
  const auto weights = dir + "/oracle.pt";
  if (!std::filesystem::exists(metaPath) || !std::filesystem::exists(weights))
    throw InputError(dir, 0, {},
                     "not an oracle folder (oracle.json and oracle.pt expected; "
                     "make one with 'preflab-cli train-oracle')");
  try {
    const auto meta = nlohmann::json::parse(readFile(metaPath));
    m_impl->testAccuracy = meta.value("test_accuracy", 0.0);
  } catch (const nlohmann::json::exception &e) {
    throw InputError(metaPath, 0, {}, std::string("invalid JSON: ") + e.what());
  }
  try {
    torch::load(m_impl->net, weights);
  } catch (const c10::Error &e) {
    throw InputError(weights, 0, {},
                     "cannot load the oracle's weights (corrupt or another architecture): " +
                         std::string(e.what_without_backtrace()));
  }
  m_impl->net->eval();
}

FashionOracle::~FashionOracle() = default;
FashionOracle::FashionOracle(FashionOracle &&) noexcept = default;
FashionOracle &FashionOracle::operator=(FashionOracle &&) noexcept = default;

double FashionOracle::testAccuracy() const {
  return m_impl->testAccuracy;
}
const OracleRewardSettings &FashionOracle::settings() const {
  return m_impl->settings;
}
const std::string &FashionOracle::dir() const {
  return m_impl->dir;
}

std::vector<OracleScore> FashionOracle::score(const std::vector<ImageBuffer> &images,
                                              const std::vector<int> &labels) const {
  if (images.size() != labels.size())
    throw InputError({}, 0, "labels", "one label per image needed");
  const std::int64_t n = std::int64_t(images.size());
  std::vector<std::uint8_t> pixels;
  pixels.reserve(images.size() * kFashionMnistSide * kFashionMnistSide);
  for (std::size_t i = 0; i < images.size(); ++i) {
    const auto &image = images[i];
    if (image.width != kFashionMnistSide || image.height != kFashionMnistSide || image.channels != 1 ||
        image.pixels.size() != std::size_t(kFashionMnistSide * kFashionMnistSide))
      throw InputError({}, 0, "image",
                       "the oracle scores 28x28 greyscale images (image " + std::to_string(i) + " is " +
                           std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                           std::to_string(image.channels) + ")");
    if (labels[i] < 0 || labels[i] >= kFashionMnistClasses)
      throw InputError({}, 0, "label", "label " + std::to_string(labels[i]) + " is outside 0..9");
    pixels.insert(pixels.end(), image.pixels.begin(), image.pixels.end());
  }
  std::vector<OracleScore> scores(images.size());
  if (n == 0)
    return scores;
  torch::NoGradGuard noGrad;
  const auto probs = torch::softmax(m_impl->net->forward(imagesTensor(pixels.data(), n)), 1).contiguous();
  const auto predicted = probs.argmax(1).contiguous();
  const float *p = probs.data_ptr<float>();
  const std::int64_t *arg = predicted.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    auto &s = scores[std::size_t(i)];
    s.label = labels[std::size_t(i)];
    s.predicted = int(arg[i]);
    s.classProb = double(p[i * kFashionMnistClasses + s.label]);
    s.appeal = imageAppeal(images[std::size_t(i)]);
    s.reward = s.classProb + m_impl->settings.appealWeight * s.appeal;
  }
  return scores;
}

} // namespace preflab::core
