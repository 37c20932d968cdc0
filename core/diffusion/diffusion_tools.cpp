// DiffusionGenerator: the torch-free sampling facade over UNet, NoiseSchedule and the samplers.
#include "core/diffusion/diffusion_tools.h"

#include "core/diffusion/diffusion_store.h"
#include "core/diffusion/sampler.h"
#include "core/io/input_error.h"
#include "core/train/device.h"

#include <torch/torch.h>

namespace preflab::core {

struct DiffusionGenerator::Impl {
  UNet model{nullptr};
  std::unique_ptr<NoiseSchedule> schedule;
};

DiffusionGenerator::DiffusionGenerator(const std::string &modelDir, const std::string &device)
    : m_impl(std::make_unique<Impl>()) {
  m_impl->model = loadDiffusionModel(modelDir);
  m_impl->model->to(resolveDevice(device));
  m_impl->model->eval();
  m_impl->schedule = std::make_unique<NoiseSchedule>(m_impl->model->config());
}

DiffusionGenerator::~DiffusionGenerator() = default;
DiffusionGenerator::DiffusionGenerator(DiffusionGenerator &&) noexcept = default;
DiffusionGenerator &DiffusionGenerator::operator=(DiffusionGenerator &&) noexcept = default;

const DiffusionConfig &DiffusionGenerator::config() const {
  return m_impl->model->config();
}

std::vector<DiffusionImage> DiffusionGenerator::generate(const std::vector<std::string> &prompts,
                                                         const std::vector<std::uint64_t> &seeds,
                                                         const DiffusionSamplingOptions &options) const {
  if (prompts.size() != seeds.size())
    throw InputError({}, 0, "seeds",
                     "one seed per prompt needed (" + std::to_string(prompts.size()) + " prompts, " +
                         std::to_string(seeds.size()) + " seeds)");
  constexpr std::size_t kChunk = 64;
  std::vector<DiffusionImage> images;
  images.reserve(prompts.size());
  for (std::size_t begin = 0; begin < prompts.size(); begin += kChunk) {
    const auto end = std::min(prompts.size(), begin + kChunk);
    const std::vector<std::string> chunkPrompts(prompts.begin() + long(begin), prompts.begin() + long(end));
    const std::vector<std::uint64_t> chunkSeeds(seeds.begin() + long(begin), seeds.begin() + long(end));
    const auto ids = tokenizePrompts(chunkPrompts, config().maxPromptLength);
    auto chunk =
        imagesFromTensor(sampleDiffusion(m_impl->model, *m_impl->schedule, ids, chunkSeeds, options));
    for (std::size_t i = 0; i < chunk.size(); ++i) {
      chunk[i].prompt = chunkPrompts[i];
      chunk[i].seed = chunkSeeds[i];
      images.push_back(std::move(chunk[i]));
    }
  }
  return images;
}

} // namespace preflab::core
