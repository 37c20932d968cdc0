// Torch-free shape, noise schedule and guidance settings of the text-to-image diffusion model.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

// Everything needed to rebuild a conditional UNet and its noise schedule; stored next to the
// weights as diffusion_config.json. Defaults: Fashion-MNIST (1 x 28 x 28), ~1 M parameters.
struct DiffusionConfig {
  // Image and UNet shape.
  std::int64_t imageSize = 28;                     // square images, imageSize x imageSize
  std::int64_t channels = 1;                       // image channels (1: grey)
  std::int64_t baseChannels = 32;                  // feature maps at full resolution
  std::vector<std::int64_t> channelMults{1, 2, 2}; // one entry per resolution: 28, 14, 7
  std::int64_t resBlocks = 1;                      // residual blocks per resolution and path
  std::int64_t groups = 8;                         // GroupNorm groups (must divide every width)
  double dropout = 0.0;                            // inside residual blocks; off for preference losses

  // Text encoder over ByteTokenizer ids (plus a begin and a padding id).
  std::int64_t textDim = 64;
  std::int64_t textLayers = 1;
  std::int64_t textHeads = 4;
  std::int64_t maxPromptLength = 48; // tokens including the begin token; longer prompts are cut

  // DDPM noise schedule.
  std::int64_t timesteps = 1000;       // T
  std::string betaSchedule = "linear"; // "linear" (betaStart..betaEnd) or "cosine" (Nichol & Dhariwal)
  double betaStart = 1e-4;
  double betaEnd = 0.02;

  // Classifier-free guidance. promptDropout is the probability that a training example sees the
  // empty prompt. 0.1 suits pretraining; the released Diffusion-DPO and DSPO training scripts
  // default to 0.2 (proportion_empty_prompts) for preference fine-tuning.
  double promptDropout = 0.1;
  double guidanceScale = 3.0; // eps = eps_u + s * (eps_c - eps_u); 1 = conditional only

  // Throws InputError naming the key when a value is out of range.
  void validate() const;
};

// Keys: image_size, channels, base_channels, channel_mults, res_blocks, groups, dropout,
// text_dim, text_layers, text_heads, max_prompt_length, timesteps, beta_schedule, beta_start,
// beta_end, prompt_dropout, guidance_scale.
nlohmann::json toJson(const DiffusionConfig &config);
// Missing keys keep their defaults; unknown keys and bad values throw InputError naming the key.
DiffusionConfig diffusionConfigFromJson(const nlohmann::json &json);

} // namespace preflab::core
