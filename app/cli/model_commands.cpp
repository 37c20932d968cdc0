// preflab-cli eval / analyze / sample / export: operations on saved models and their outputs.
#include "cli/cli_common.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/jobs/model_tools.h"

#include <fstream>
#include <iostream>

namespace preflab::cli {

namespace {
void addAssumedRaterFractionOption(CLI::App *cmd, std::optional<double> &target) {
  cmd->add_option("--assume-rater-fraction", target,
                  "rater fraction for pairs that have none, so they get idealised numbers (the "
                  "summary states it as assumed_rater_fraction); without it they get none")
      ->check(CLI::Range(0.5, 1.0));
}
} // namespace

Action addEvalCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand("eval", "Score every pair of a dataset: log-probs of chosen and rejected, "
                                         "ranking accuracy (plain and length-normalised); a reward model "
                                         "(score head): its rewards, accuracy and margin.");
  auto o = std::make_shared<core::PairEvalOptions>();
  auto summaryPath = std::make_shared<std::string>();
  cmd->add_option("--model", o->modelDir,
                  "model folder (Hugging Face GPT-2 or Llama family, PEFT adapter, native or checkpoint)")
      ->required();
  cmd->add_option("--data", o->dataPath, "preference JSONL")->required()->check(CLI::ExistingFile);
  cmd->add_option("--ref", o->refDir, "reference model folder: adds ref_logp_chosen / ref_logp_rejected");
  cmd->add_option("--out", o->outPath, "per-pair output JSONL")->required();
  cmd->add_option("--summary", *summaryPath, "also write the summary JSON here");
  cmd->add_flag("--dump-tokens", o->dumpTokens, "add prompt_ids, chosen_ids, rejected_ids (the ids scored)");
  cmd->add_option("--format", o->format,
                  "auto, trl, trl-conversational, trl-implicit-prompt, hh-rlhf, ultrafeedback, sharegpt, "
                  "llamafactory-v1, alpaca, openai-dpo");
  cmd->add_flag("--skip-invalid", o->skipInvalid, "skip bad lines (and report how many) instead of failing");
  cmd->add_option("--max-length", o->maxLength,
                  "tokens of prompt+response, at least 2 (default: the model's block size)")
      ->check(CLI::Range(std::int64_t(2), std::int64_t(1) << 30));
  cmd->add_option("--max-prompt-length", o->maxPromptLength,
                  "prompt tokens kept, at least 1 (default: half of max length)")
      ->check(CLI::Range(std::int64_t(1), std::int64_t(1) << 30));
  cmd->add_option("--batch-size", o->batchSize, "pairs per forward")->check(kPositive);
  cmd->add_option("--device", o->device, "cpu or cuda");
  addAssumedRaterFractionOption(cmd, o->assumedRaterFraction);
  return [o, summaryPath]() -> int {
    ProgressLine progress;
    auto summary = core::evaluatePairs(*o, [&](const std::string &s, double f) { progress.update(s, f); });
    progress.finish();
    if (!summaryPath->empty())
      core::writeFileAtomic(*summaryPath, summary.dump(2) + "\n");
    std::cout << summary.dump(2) << std::endl;
    return kOk;
  };
}

Action addAnalyzeCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand("analyze", "Idealised ranking accuracy over a beta grid, alignment gap and "
                                            "per-pair difficulty, from an eval output made with --ref.");
  struct Args {
    std::string evalPath, outSummary;
    core::AnalyzeOptions options;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("eval", a->evalPath, "output of 'preflab-cli eval ... --ref DIR'")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--loss-type", a->options.lossType,
                  "objective whose optimum and per-pair difficulty the pair lines use (default dpo)");
  cmd->add_option("--beta", a->options.beta,
                  "that objective's beta; DPO's difficulty is softplus(-beta*c)")
      ->check(kPositive);
  cmd->add_option("--out", a->options.outPairsPath, "per-pair analysis JSONL");
  cmd->add_option("--summary", a->outSummary, "summary JSON file");
  addAssumedRaterFractionOption(cmd, a->options.assumedRaterFraction);
  return [a]() -> int {
    auto summary = core::analyzeEvalFile(a->evalPath, a->options);
    if (!a->outSummary.empty())
      core::writeFileAtomic(a->outSummary, summary.dump(2) + "\n");
    std::cout << summary.dump(2) << std::endl;
    return kOk;
  };
}

Action addSampleCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand("sample", "Generate continuations of prompts from a model.");
  struct Args {
    std::string modelDir, promptsFile, device = "cpu";
    std::vector<std::string> prompts;
    std::uint64_t seed = 0;
    std::int64_t numSamples = 1;
    core::SamplingOptions sampling;
    bool json = false, plainPrompts = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->modelDir, "model folder")->required();
  cmd->add_option("-p,--prompt", a->prompts, "prompt text (repeatable)");
  cmd->add_option("--prompts-file", a->promptsFile, "one prompt per line")->check(CLI::ExistingFile);
  cmd->add_option("--seed", a->seed, "seed of the first sample; sample i uses seed+i");
  cmd->add_option("-n,--num-samples", a->numSamples, "samples per prompt")->check(kPositive);
  cmd->add_option("--temperature", a->sampling.temperature, "0 for greedy")->check(kNonNegative);
  cmd->add_option("--top-k", a->sampling.topK, "0: off")->check(kNonNegative);
  cmd->add_option("--top-p", a->sampling.topP, "1: off")->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-new-tokens", a->sampling.maxNewTokens, "tokens per sample")
      ->check(kPositive);
  cmd->add_option("--device", a->device, "cpu or cuda");
  cmd->add_flag("--json", a->json, "one JSON object per sample");
  cmd->add_flag("--no-chat-template", a->plainPrompts,
                "give each prompt as it is, not as a user message in the model's chat template "
                "(tokenizer_config.json's chat_template, used by default when the model has one)");
  return [a]() -> int {
    std::vector<std::string> prompts = a->prompts;
    if (!a->promptsFile.empty()) {
      std::ifstream in(a->promptsFile);
      for (std::string line; std::getline(in, line);)
        if (!line.empty())
          prompts.push_back(line);
    }
    if (prompts.empty())
      throw core::InputError({}, 0, "--prompt", "give at least one prompt (--prompt or --prompts-file)");
    a->sampling.chatTemplate = !a->plainPrompts;
    std::vector<std::string> expanded;
    for (const auto &p : prompts)
      for (std::int64_t k = 0; k < a->numSamples; ++k)
        expanded.push_back(p);
    const auto texts = core::sampleFromModel(a->modelDir, expanded, a->seed, a->sampling, a->device);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (a->json)
        std::cout << nlohmann::json{{"prompt", expanded[i]}, {"seed", a->seed + i}, {"completion", texts[i]}}
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
      else
        std::cout << expanded[i] << texts[i] << "\n";
    }
    return kOk;
  };
}

Action addExportCommand(CLI::App &app) {
  auto *cmd =
      app.add_subcommand("export", "Write a model, checkpoint or LoRA adapter as a Hugging Face folder of "
                                   "its architecture (config.json + model.safetensors); a model with "
                                   "LoRA adapters as a PEFT adapter folder, or merged with --merge.");
  auto src = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  auto merge = std::make_shared<bool>(false);
  cmd->add_option("model", *src, "model, checkpoint or adapter folder")
      ->required()
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--out", *out, "output folder")->required();
  cmd->add_flag("--merge", *merge, "merge LoRA adapters into the weights (a plain model folder)");
  return [src, out, merge]() -> int {
    const auto written = core::exportModel(*src, *out, *merge);
    std::cout << "wrote " << *out << ": " << written << std::endl;
    return kOk;
  };
}

} // namespace preflab::cli
