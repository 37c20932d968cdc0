// DiffusionConfig validation and JSON conversion.
#include "core/diffusion/diffusion_config.h"

#include "core/io/input_error.h"

namespace preflab::core {

void DiffusionConfig::validate() const {
  requireInput(channels >= 1 && channels <= 4, "channels", "must be in 1..4");
  requireInput(baseChannels >= 1, "base_channels", "must be >= 1");
  requireInput(!channelMults.empty() && channelMults.size() <= 5, "channel_mults", "needs 1..5 entries");
  const auto factor = std::int64_t(1) << (channelMults.size() - 1);
  requireInput(imageSize >= factor && imageSize % factor == 0, "image_size",
               "must be divisible by 2^(levels - 1) = " + std::to_string(factor));
  requireInput(groups >= 1, "groups", "must be >= 1");
  for (auto m : channelMults)
    requireInput(m >= 1 && (baseChannels * m) % groups == 0, "channel_mults",
                 "every base_channels * mult must be a positive multiple of groups");
  requireInput(resBlocks >= 1 && resBlocks <= 8, "res_blocks", "must be in 1..8");
  requireInput(dropout >= 0.0 && dropout < 1.0, "dropout", "must be in [0, 1)");
  requireInput(textDim >= 1 && textHeads >= 1 && textDim % textHeads == 0, "text_dim",
               "must be a positive multiple of text_heads");
  requireInput(textLayers >= 0 && textLayers <= 8, "text_layers", "must be in 0..8");
  requireInput(maxPromptLength >= 1, "max_prompt_length", "must be >= 1");
  requireInput(timesteps >= 2, "timesteps", "must be >= 2");
  requireInput(betaSchedule == "linear" || betaSchedule == "cosine", "beta_schedule",
               "must be \"linear\" or \"cosine\"");
  requireInput(betaStart > 0.0 && betaEnd < 1.0 && betaStart <= betaEnd, "beta_start",
               "needs 0 < beta_start <= beta_end < 1");
  requireInput(promptDropout >= 0.0 && promptDropout <= 1.0, "prompt_dropout", "must be in [0, 1]");
  requireInput(guidanceScale >= 0.0, "guidance_scale", "must be >= 0");
}

nlohmann::json toJson(const DiffusionConfig &c) {
  return {{"image_size", c.imageSize},
          {"channels", c.channels},
          {"base_channels", c.baseChannels},
          {"channel_mults", c.channelMults},
          {"res_blocks", c.resBlocks},
          {"groups", c.groups},
          {"dropout", c.dropout},
          {"text_dim", c.textDim},
          {"text_layers", c.textLayers},
          {"text_heads", c.textHeads},
          {"max_prompt_length", c.maxPromptLength},
          {"timesteps", c.timesteps},
          {"beta_schedule", c.betaSchedule},
          {"beta_start", c.betaStart},
          {"beta_end", c.betaEnd},
          {"prompt_dropout", c.promptDropout},
          {"guidance_scale", c.guidanceScale}};
}

DiffusionConfig diffusionConfigFromJson(const nlohmann::json &json) {
  if (!json.is_object())
    throw InputError("diffusion config: expected a JSON object");
  DiffusionConfig c;
  const auto known = toJson(c);
  for (const auto &item : json.items())
    if (!known.contains(item.key()))
      throw InputError({}, 0, item.key(), "unknown key in diffusion config");
  std::string key;
  auto read = [&](const char *name, auto &field) {
    key = name;
    field = json.value(name, field);
  };
  try {
    read("image_size", c.imageSize);
    read("channels", c.channels);
    read("base_channels", c.baseChannels);
    read("channel_mults", c.channelMults);
    read("res_blocks", c.resBlocks);
    read("groups", c.groups);
    read("dropout", c.dropout);
    read("text_dim", c.textDim);
    read("text_layers", c.textLayers);
    read("text_heads", c.textHeads);
    read("max_prompt_length", c.maxPromptLength);
    read("timesteps", c.timesteps);
    read("beta_schedule", c.betaSchedule);
    read("beta_start", c.betaStart);
    read("beta_end", c.betaEnd);
    read("prompt_dropout", c.promptDropout);
    read("guidance_scale", c.guidanceScale);
  } catch (const nlohmann::json::exception &e) {
    throw InputError({}, 0, key, std::string("diffusion config: ") + e.what());
  }
  c.validate();
  return c;
}

} // namespace preflab::core
