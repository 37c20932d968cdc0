// What every held-out image evaluation shares, with an oracle or without: how it samples, and how
// it writes its grids into the run folder (torch-free).
#pragma once

#include "core/data/image_buffer.h"
#include "core/diffusion/diffusion_sampling_options.h"
#include "core/train/image_train_config.h"
#include "core/train/run_folder.h"

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

// eval_sampler, eval_sampling_steps and guidance_scale, batched (not batch-invariant) sampling.
DiffusionSamplingOptions evalSampling(const ImageTrainConfig &config);

// samples/grid-step-<step>.png and samples/grid.png (the latest), and samples/grid_rows.json naming
// each row of the grid (RunReader::gridRows reads it back).
void writeEvalGrid(RunFolder &folder, std::int64_t step, const ImageBuffer &grid,
                   const std::vector<std::string> &rows);

} // namespace preflab::core
