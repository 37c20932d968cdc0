// preflab-cli train: run a YAML config (with key=value overrides) into a run folder.
#include "cli/cli_common.h"

#include "core/api/run_reader.h"
#include "core/api/sweeps.h"
#include "core/jobs/image_training.h"
#include "core/jobs/text_training.h"
#include "core/objectives/objective_info.h"
#include "core/runtime/launch_env.h"
#include "core/train/sweep_spec.h"
#include "core/train/text_train_config.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

namespace preflab::cli {

namespace {

// "  key = default  meaning" lines, the keys aligned.
std::string keyTable(const std::vector<core::ConfigKeyHelp> &keys) {
  std::size_t width = 0;
  for (const auto &k : keys)
    width = std::max(width, k.key.size() + 3 + (k.defaultValue.empty() ? 2 : k.defaultValue.size()));
  std::string out;
  for (const auto &k : keys) {
    std::string head = "  " + k.key + " = " + (k.defaultValue.empty() ? std::string("\"\"") : k.defaultValue);
    head.resize(std::max(head.size() + 2, width + 4), ' ');
    out += head + k.help + "\n";
  }
  return out;
}

std::string stepDetail(const core::StepRecord &r) {
  char buf[160];
  auto get = [&](const char *k) {
    auto it = r.metrics.find(k);
    return it == r.metrics.end() ? 0.0 : it->second;
  };
  if (r.metrics.count("mpo/objective")) {
    std::string lambda;
    for (int k = 1; r.metrics.count("mpo/lambda_avg_" + std::to_string(k)); ++k) {
      char part[32];
      std::snprintf(part, sizeof part, "%s%.3f", k > 1 ? ", " : "",
                    get(("mpo/lambda_avg_" + std::to_string(k)).c_str()));
      lambda += part;
    }
    std::snprintf(buf, sizeof buf, "iteration %lld/%lld F %.4f mean lambda (%s) | %.1f s", (long long)r.step,
                  (long long)r.maxSteps, get("mpo/objective"), lambda.c_str(), r.elapsedSeconds);
  } else if (r.metrics.count("wro/reward"))
    std::snprintf(buf, sizeof buf, "step %lld/%lld reward %.4f kl %.3f useful prompts %.2f | %.1f s",
                  (long long)r.step, (long long)r.maxSteps, get("wro/reward"), get("wro/kl"),
                  get("wro/useful_prompts"), r.elapsedSeconds);
  else if (r.metrics.count("d2po/gold_labels"))
    std::snprintf(buf, sizeof buf, "round %lld/%lld loss %.4f gold %.0f disc acc %.3f | %.1f s",
                  (long long)r.step, (long long)r.maxSteps, get("loss"), get("d2po/gold_labels"),
                  get("d2po/discriminator_accuracy"), r.elapsedSeconds);
  else if (r.metrics.count("implicit_acc"))
    std::snprintf(buf, sizeof buf, "step %lld/%lld loss %.4f implicit acc %.3f mse w %.4f l %.4f | %.1f s",
                  (long long)r.step, (long long)r.maxSteps, get("loss"), get("implicit_acc"),
                  get("mse/model_w"), get("mse/model_l"), r.elapsedSeconds);
  else
    std::snprintf(buf, sizeof buf, "step %lld/%lld loss %.4f acc %.3f margin %.3f | %.1f s",
                  (long long)r.step, (long long)r.maxSteps, get("loss"), get("rewards/accuracies"),
                  get("rewards/margins"), r.elapsedSeconds);
  return buf;
}

void printSummary(const core::RunSummary &s) {
  std::cout << "run folder: " << s.runDir << "\nstate: " << core::runStateName(s.state) << " (" << s.message
            << ")\n";
  if (!s.evalSummary.is_null())
    std::cout << "evaluation: " << s.evalSummary.dump(2) << "\n";
}

struct TrainArgs {
  std::string config, outputDir;
  std::vector<std::string> overrides;
  bool resume = false, overwrite = false, quiet = false;
};

// Loads a text or image config, applies the overrides, runs it with a progress line, prints the summary.
template <typename Load, typename Run> int runConfig(const TrainArgs &args, Load load, Run run) {
  auto config = load(args.config);
  for (const auto &o : args.overrides)
    core::applyOverride(config, o);
  if (!args.outputDir.empty())
    config.outputDir = args.outputDir;
  core::RunOptions options{args.resume, args.overwrite, nullptr};
  const auto launch = core::launchEnvFromEnvironment();
  if (launch.distributed())
    options.dataParallel = core::joinDataParallelGroup(launch);
  const bool follower = launch.rank > 0; // rank 0 speaks for the run; the others only of failures
  ProgressLine progress;
  core::TrainerCallbacks cb;
  if (!args.quiet && !follower) {
    cb.onLog = [&](const core::StepRecord &r) {
      progress.update("train " + config.lossType,
                      double(r.step) / double(std::max<std::int64_t>(1, r.maxSteps)), stepDetail(r));
    };
    cb.onProgress = [&](const std::string &stage, double f) { progress.update(stage, f); };
    cb.onMessage = [&](const std::string &m) {
      progress.finish();
      std::cerr << m << std::endl;
    };
  }
  const auto summary = run(config, options, cb);
  progress.finish();
  if (!follower)
    printSummary(summary);
  if (summary.state == core::RunState::Failed) {
    std::cerr << (follower ? "error (" + core::describe(launch) + "): " : std::string("error: "))
              << summary.message << std::endl;
    return kFailure;
  }
  return kOk;
}

std::string paramValue(const core::ObjectiveParam &p, double v) {
  if (p.boolean)
    return v != 0.0 ? "true" : "false";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

const char *kindWord(core::ObjectiveKind kind) {
  switch (kind) {
  case core::ObjectiveKind::Sft:
    return "sft";
  case core::ObjectiveKind::Pairwise:
    return "pairwise";
  case core::ObjectiveKind::Unpaired:
    return "unpaired";
  case core::ObjectiveKind::Reward:
    return "reward";
  }
  return "pairwise";
}

// "pairwise, needs the reference, token-mean log-probs": what the objective trains on and needs.
std::string inputsLine(const core::ObjectiveInfo &info) {
  std::string out = kindWord(info.kind);
  out += info.needsReference ? ", needs the reference" : ", no reference";
  if (info.modality == core::Modality::Text && info.kind != core::ObjectiveKind::Reward)
    out += info.usesMeanLogp ? ", token-mean log-probs" : ", sequence-sum log-probs";
  if (info.needsPredictions)
    out += ", raw noise predictions";
  return out;
}

nlohmann::json objectiveJson(const core::ObjectiveInfo &info) {
  nlohmann::json params = nlohmann::json::array();
  for (const auto &p : info.params) {
    nlohmann::json j = {{"key", p.key},
                        {"help", p.help},
                        {"range", core::allowedRange(p)},
                        {"type", p.boolean ? "bool" : "real"}};
    if (p.boolean)
      j["default"] = p.defaultValue != 0.0;
    else
      j["default"] = p.defaultValue;
    if (p.usualHigh > p.usualLow)
      j["usual_range"] = {p.usualLow, p.usualHigh};
    params.push_back(j);
  }
  return {{"name", info.name},
          {"title", info.title},
          {"modality", info.modality == core::Modality::Text ? "text" : "text-to-image"},
          {"kind", kindWord(info.kind)},
          {"needs_reference", info.needsReference},
          {"mean_logp", info.usesMeanLogp},
          {"needs_predictions", info.needsPredictions},
          {"default_beta", info.defaultBeta()},
          {"beta_range", {info.betaLow(), info.betaHigh()}},
          {"beta_meaning", info.betaMeaning()},
          {"summary", info.summary},
          {"params", params}};
}

// runConfig with the text or the image loader and run, as the config file says.
int runAnyConfig(const TrainArgs &args) {
  if (core::isImageTrainConfigFile(args.config))
    return runConfig(args, core::loadImageTrainConfig, [](const auto &c, const auto &o, const auto &cb) {
      return core::runImageTraining(c, o, cb);
    });
  return runConfig(args, core::loadTextTrainConfig, [](const auto &c, const auto &o, const auto &cb) {
    return core::runTextTraining(c, o, cb);
  });
}

} // namespace

Action addTrainCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand("train", "Train a policy from a YAML config (TRL DPOConfig key names).");
  auto args = std::make_shared<TrainArgs>();
  cmd->add_option("config", args->config, "YAML config file")->required()->check(CLI::ExistingFile);
  cmd->add_option("overrides", args->overrides, "key=value overrides, e.g. beta=0.2 model.n_layer=2");
  cmd->add_option("--output-dir", args->outputDir, "run folder (overrides output_dir)");
  cmd->add_flag("--resume", args->resume, "continue from the latest checkpoint in the run folder");
  cmd->add_flag("--overwrite", args->overwrite, "replace an existing run folder");
  cmd->add_flag("-q,--quiet", args->quiet, "no progress line");
  std::string imageObjectives;
  for (const auto &info : core::objectiveInfos(core::Modality::Image))
    imageObjectives += (imageObjectives.empty() ? "" : ", ") + info.name;
  cmd->footer(
      "Config keys of a text run (key = default  meaning):\n" + keyTable(core::textTrainConfigHelp()) +
      "\nA config with 'task: text-to-image' trains a diffusion model on image pairs (objectives: " +
      imageObjectives + "). Its keys:\n" + keyTable(core::imageTrainConfigHelp()) +
      "\nData parallel: started by torchrun (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), srun\n"
      "(SLURM_PROCID, SLURM_NTASKS) or mpirun (OMPI_COMM_WORLD_RANK, _SIZE), the processes split each\n"
      "batch of per_device_train_batch_size rows between them; rank 0 alone writes the run folder.\n"
      "Offline text, online D2PO (each round's policy pairs split; raters as the gold labeller), WRO\n"
      "(each step's prompts shared) and text-to-image runs (not KTO, diffusion-kto, dspo-sdxl-path, mpo).\n"
      "PREFLAB_DIST_TIMEOUT (s, default 300): the wait for a silent process; PREFLAB_DIST_WAIT_TIMEOUT\n"
      "(s, default 3600): the wait for the rendezvous and rank 0's preparation.\n");
  return [args]() -> int { return runAnyConfig(*args); };
}

Action addMixCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand(
      "mix", "MPO: mix policies trained on different rewards (trainer: mpo), weights by mirror descent.");
  auto args = std::make_shared<TrainArgs>();
  auto policies = std::make_shared<std::vector<std::string>>();
  auto weights = std::make_shared<std::string>();
  cmd->add_option("config", args->config, "YAML config of the task (as for train)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("overrides", args->overrides, "key=value overrides, e.g. mpo.samples_per_prompt=16");
  cmd->add_option("--policy", *policies, "a policy to mix: model or run folder (repeat; sets mpo.policies)")
      ->allow_extra_args(false); // one folder per --policy: overrides may follow
  cmd->add_option("--weights", *weights, "fixed weights, e.g. 0.5,0.5 (sets mpo.weights; default: computed)");
  cmd->add_option("--output-dir", args->outputDir, "run folder (overrides output_dir)");
  cmd->add_flag("--overwrite", args->overwrite, "replace an existing run folder");
  cmd->add_flag("-q,--quiet", args->quiet, "no progress line");
  cmd->footer(
      "The run folder gets metrics.jsonl (mpo/lambda_K and their running mean mpo/lambda_avg_K, "
      "mpo/objective, per iteration), mixture/mixture.json (the time-averaged weights; sample, eval and "
      "Compare open the folder as a model: logits = sum_k lambda_k log_softmax(logits_k)) and eval/ "
      "(both rewards' win rates against the reference). max_steps is the number of iterations.");
  return [args, policies, weights]() -> int {
    TrainArgs a = *args;
    a.overrides.insert(a.overrides.begin(), "trainer=mpo");
    if (!policies->empty()) {
      std::string joined;
      for (const auto &p : *policies)
        joined += (joined.empty() ? "" : ",") + p;
      a.overrides.push_back("mpo.policies=" + joined);
    }
    if (!weights->empty())
      a.overrides.push_back("mpo.weights=" + *weights);
    return runConfig(a, core::loadTextTrainConfig, [](const auto &c, const auto &o, const auto &cb) {
      return core::runTextTraining(c, o, cb);
    });
  };
}

Action addSweepCommand(CLI::App &app) {
  auto *cmd =
      app.add_subcommand("sweep", "Run a base config at every point of a grid (or list) of config values.");
  auto file = std::make_shared<std::string>();
  auto extra = std::make_shared<std::vector<std::string>>();
  auto quiet = std::make_shared<bool>(false);
  cmd->add_option("sweep", *file, "sweep YAML file")->required()->check(CLI::ExistingFile);
  cmd->add_option("overrides", *extra, "key=value overrides for every point, e.g. max_steps=50");
  cmd->add_flag("-q,--quiet", *quiet, "no progress lines");
  cmd->footer(
      "A sweep file:\n"
      "  base: dpo.yaml               # the run config (text or image), relative to the sweep file\n"
      "  output_dir: runs/beta-sweep  # default: runs/<sweep file name>\n"
      "  grid:                        # every combination, the first key varying slowest\n"
      "    beta: [0.03, 0.1, 0.3, 1]\n"
      "    loss_type: [dpo, ipo]\n"
      "  runs:                        # and/or listed points\n"
      "    - {beta: 0.1, loss_type: simper}\n"
      "Each point is a normal run folder under output_dir, named by its values (beta=0.1,loss_type=ipo).\n"
      "Every point is checked before any runs. Run again to continue: finished points are kept,\n"
      "interrupted ones resume from their last checkpoint. output_dir/summary.jsonl has each point's\n"
      "values, state and final metrics; a table of them is printed at the end. Exit 1 if any failed.");
  return [file, extra, quiet]() -> int {
    const auto spec = core::readSweepSpec(*file);
    const bool image = core::isImageTrainConfigFile(spec.base);
    for (const auto &point : spec.points) {
      try {
        if (image)
          core::sweepPointConfig(spec, point, *extra, core::loadImageTrainConfig);
        else
          core::sweepPointConfig(spec, point, *extra, core::loadTextTrainConfig);
      } catch (const std::exception &e) {
        throw std::runtime_error(*file + ": point " + point.name + ": " + e.what());
      }
    }
    core::writeSweepPlan(spec, *extra);
    for (std::size_t i = 0; i < spec.points.size(); ++i) {
      const auto &point = spec.points[i];
      const auto dir = spec.outputDir + "/" + point.name;
      const core::RunReader before(dir);
      const auto status = core::RunReader::isRunFolder(dir) ? before.status() : std::nullopt;
      std::cerr << "sweep: point " << i + 1 << " of " << spec.points.size() << ": " << point.name;
      if (status && status->state == "finished") {
        std::cerr << " (finished before: kept)" << std::endl;
        continue;
      }
      std::cerr << (status ? " (resuming)" : "") << std::endl;
      TrainArgs args;
      args.config = spec.base;
      args.outputDir = dir;
      args.quiet = *quiet;
      args.resume = status.has_value();
      for (const auto &[key, value] : point.overrides)
        args.overrides.push_back(key + "=" + value);
      args.overrides.insert(args.overrides.end(), extra->begin(), extra->end());
      try {
        runAnyConfig(args);
      } catch (const std::exception &e) {
        std::cerr << "error: " << e.what() << std::endl; // the next points still run
      }
    }
    auto rows = core::readSweepFolder(spec.outputDir);
    int failed = 0;
    for (auto &row : rows) {
      if (row.state == "queued") // it ran and left no run folder
        row.state = "failed";
      failed += row.state != "finished";
    }
    core::writeSweepSummary(spec.outputDir, rows);
    // The table: the objective's own final numbers, as far as the runs logged them.
    const std::vector<std::string> wanted = {
        "loss",        "eval/loss", "eval/rewards/accuracies", "eval/ranking/accuracy",
        "eval/reward", "eval/kl",   "eval/win_rate",           "eval/oracle_reward"};
    std::vector<std::string> columns;
    for (const auto &c : wanted)
      for (const auto &row : rows)
        if (row.metrics.count(c)) {
          columns.push_back(c);
          break;
        }
    std::cout << "\n| run | state |";
    for (const auto &c : columns)
      std::cout << " " << c << " |";
    std::cout << "\n|---|---|";
    for (std::size_t c = 0; c < columns.size(); ++c)
      std::cout << "---:|";
    std::cout << "\n";
    for (const auto &row : rows) {
      std::cout << "| " << row.name << " | " << row.state << " |";
      for (const auto &c : columns) {
        char buf[32] = "";
        if (const auto it = row.metrics.find(c); it != row.metrics.end())
          std::snprintf(buf, sizeof buf, "%.4f", it->second);
        std::cout << " " << buf << " |";
      }
      std::cout << "\n";
    }
    std::cout << "\nsweep folder: " << spec.outputDir << " (summary.jsonl); " << spec.points.size() - failed
              << " of " << spec.points.size() << " points finished" << std::endl;
    return failed == 0 ? kOk : kFailure;
  };
}

Action addObjectivesCommand(CLI::App &app) {
  auto *cmd = app.add_subcommand(
      "objectives", "List the registered objectives as they declare themselves: kind, inputs, parameters.");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print JSON");
  return [json]() -> int {
    if (*json) {
      nlohmann::json all = nlohmann::json::array();
      for (const auto &info : core::objectiveInfos())
        all.push_back(objectiveJson(info));
      std::cout << all.dump(2) << std::endl;
      return kOk;
    }
    std::optional<core::Modality> shown; // a heading where the modality changes
    for (const auto &info : core::objectiveInfos()) {
      if (info.modality != shown) {
        shown = info.modality;
        std::printf("%s",
                    *shown == core::Modality::Text
                        ? "Text objectives (loss_type of a text run):\n"
                        : "\nText-to-image objectives (loss_type of a config with task: text-to-image):\n");
      }
      std::printf("\n%-15s %s (%s)\n                %s\n", info.name.c_str(), info.title.c_str(),
                  inputsLine(info).c_str(), info.summary.c_str());
      for (const auto &p : info.params) {
        std::string line = p.key + " = " + paramValue(p, p.defaultValue);
        line.resize(std::max<std::size_t>(line.size() + 2, 28), ' ');
        line += p.help + ", " + core::allowedRange(p);
        if (p.usualHigh > p.usualLow)
          line += ", usually " + paramValue(p, p.usualLow) + ".." + paramValue(p, p.usualHigh);
        std::printf("                %s\n", line.c_str());
      }
    }
    return kOk;
  };
}

} // namespace preflab::cli
