// DiffusionGenerator: the torch-free sampling facade over UNet, NoiseSchedule and the samplers.
#include "core/diffusion/diffusion_tools.h"

#include "core/diffusion/diffusion_store.h"
#include "core/diffusion/sampler.h"
#include "core/io/input_error.h"
#include "core/runtime/device.h"

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
  return sampleImages(m_impl->model, *m_impl->schedule, prompts, seeds, options);
}

} // namespace preflab::core
