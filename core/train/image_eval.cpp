// evalSampling and writeEvalGrid: the settings and files both image evaluations share.
#include "core/train/image_eval.h"

#include "core/data/image_output.h"

#include <nlohmann/json.hpp>

namespace preflab::core {

DiffusionSamplingOptions evalSampling(const ImageTrainConfig &config) {
  DiffusionSamplingOptions sampling;
  sampling.sampler = config.evalSampler == "ddpm" ? DiffusionSamplerKind::Ddpm : DiffusionSamplerKind::Ddim;
  sampling.steps = config.evalSamplingSteps;
  sampling.guidanceScale = config.guidanceScale;
  sampling.batchInvariant = false;
  return sampling;
}

void writeEvalGrid(RunFolder &folder, std::int64_t step, const ImageBuffer &grid,
                   const std::vector<std::string> &rows) {
  if (!folder.writes())
    return; // another rank of a data-parallel run: nothing to encode
  const auto png = encodePng(grid);
  folder.writeFile("samples/grid-step-" + std::to_string(step) + ".png", png);
  folder.writeFile("samples/grid.png", png);
  folder.appendImage(step, "eval/grid", png, grid.height, grid.width, grid.channels);
  folder.writeFile("samples/grid_rows.json", nlohmann::json{{"rows", rows}}.dump() + "\n");
}

} // namespace preflab::core
