// Torch-free facade for the UI and the CLI: load a diffusion model folder and sample images.
#pragma once

#include "core/data/diffusion_image.h"
#include "core/diffusion/diffusion_config.h"
#include "core/diffusion/diffusion_sampling_options.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

// A loaded diffusion model ready to sample. Not thread-safe: use one instance per thread (or
// serialise calls); construction and generate() may take seconds, so keep them off a UI thread.
class DiffusionGenerator {
public:
  // Loads a folder written by saveDiffusionModel (diffusion_config.json + model.pt) onto
  // `device` ("cpu", "cuda", "auto"). Throws InputError naming the folder or file.
  explicit DiffusionGenerator(const std::string &modelDir, const std::string &device = "cpu");
  ~DiffusionGenerator();
  DiffusionGenerator(DiffusionGenerator &&) noexcept;
  DiffusionGenerator &operator=(DiffusionGenerator &&) noexcept;

  const DiffusionConfig &config() const;

  // One image per (prompt, seed); prompts.size() must equal seeds.size() (else InputError).
  // Image i depends only on the weights, prompts[i], seeds[i] and the options, not on the rest
  // of the batch (bit for bit with options.batchInvariant, else up to float rounding). Without
  // batchInvariant, up to 64 images share one forward.
  std::vector<DiffusionImage> generate(const std::vector<std::string> &prompts,
                                       const std::vector<std::uint64_t> &seeds,
                                       const DiffusionSamplingOptions &options) const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace preflab::core
