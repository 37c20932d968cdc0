// RunReader: the one reader of run folders (torch-free), beside their one writer (RunFolder).
// Every view of the app, the CLI and the folder watcher ask it instead of parsing files.
#pragma once

#include "core/io/tensorboard_events.h" // readEventScalars, EventScalar

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace preflab::core {

// What kind of run wrote a folder: from run_info.json's task, else config.yaml's task.
enum class RunKind {
  Unknown,
  TextPreference,      // a text objective (embedded sentiment task or files)
  ImagePreference,     // task: text-to-image
  DiffusionPretraining // task: pretrain-diffusion
};
std::string runKindName(RunKind kind); // "text", "text-to-image", "pretrain-diffusion", "unknown"

// status.json as written by RunFolder::writeStatus.
struct RunStatusRecord {
  std::string state; // running | finished | failed | cancelled
  std::string message;
  std::int64_t step = 0;
  std::int64_t maxSteps = 0;
  double updatedAt = 0.0;
};
// Parses status.json text; nullopt when it is not a whole JSON object (half-written by another
// writer, or not a status file). Missing or mistyped keys read as empty / 0.
std::optional<RunStatusRecord> parseRunStatus(const std::string &text);

// run_info.json: where a run's models live. Paths are absolute (relative ones are resolved
// against the run folder, as image runs write policy_final: "model").
struct RunInfoRecord {
  std::string task; // "sentiment", "text-to-image" or "" (a text run from files)
  std::string lossType;
  std::string referenceModel;
  std::string policyFinal;
  std::string oracleModel; // image runs with an oracle
  std::string trainer;     // "offline", "d2po", "mpo", "wro" ("" in runs written before the key)
  std::vector<std::string> components; // mpo: the policies the mixture (policyFinal) mixes
  std::string discriminator;           // d2po: the final discriminator (a reward model folder)
};

// One line of metrics.jsonl: {"step": N, "time": unix seconds, metric: value, ...}; null values
// are the writer's encoding of NaN / Inf and read as NaN.
struct MetricsLine {
  double step = 0.0;
  double time = 0.0; // NaN when absent
  std::map<std::string, double> metrics;
};
// Parses one line (without its newline). Returns the reason when it is not a metrics line
// ("not valid JSON", "not a JSON object", "no numeric \"step\""); blank lines are not passed.
std::optional<MetricsLine> parseMetricsLine(const std::string &line, std::string *reason = nullptr);

// A config.yaml flattened to "key" / "block.key" / "list.0" -> scalar text (quotes removed; flow
// maps such as pretraining's model: {...} are flattened too). Never throws: text that is not YAML
// gives {} and, when `error` is given, "line N: why".
std::map<std::string, std::string> flattenConfigYaml(const std::string &text, std::string *error = nullptr);

// A Hugging Face Trainer's trainer_state.json (TRL's trainers write the same): its log_history
// as metrics lines under PrefLab's names ("eval_loss" -> "eval/loss", "eval_rewards/accuracies"
// -> "eval/rewards/accuracies", the end-of-training "train_loss" -> "train/loss"; "loss",
// "grad_norm", "learning_rate", "epoch", "rewards/..." as they are), and its progress. Python's
// NaN and Infinity (json.dumps writes them) read as NaN. Throws InputError naming the file and key
// when the text is not a JSON object with a log_history list; entries without a numeric step
// are counted in `skipped`.
struct TrainerStateRecord {
  std::vector<MetricsLine> lines;
  std::int64_t globalStep = 0;
  std::int64_t maxSteps = 0;
  std::size_t skipped = 0;
};
TrainerStateRecord parseTrainerState(const std::string &text, const std::string &path);
// The trainer_state.json that says most of a Trainer output folder: the newest checkpoint-N's, or
// the folder's own when it was written after it (at the end of training); "" when there is none
// (or only PrefLab's own checkpoint state, which has no log_history).
std::string trainerStatePath(const std::string &dir);
// The same file found by name and time alone, without reading it (for polling): "" when none.
std::string newestTrainerStateFile(const std::string &dir);

// TensorBoard event files that other tools wrote (TRL and the Hugging Face Trainer log to
// <output_dir>/runs/<date>_<host>/): those in `dir` and in its runs/*/ folders, by path.
std::vector<std::string> tensorBoardEventFiles(const std::string &dir);
// A TensorBoard tag under PrefLab's names: the Trainer's "train/loss" is "loss", "eval/..." stays.
std::string tensorBoardMetricName(const std::string &tag);

struct RunCheckpointEntry {
  std::int64_t step = 0;
  std::string dir;
};
struct RunGridEntry {
  std::int64_t step = 0;
  std::string path;
};
// A model a run offers: its final policy, checkpoints (newest first) and its reference.
struct RunModelEntry {
  enum class Role { Final, Checkpoint, Reference };
  Role role = Role::Final;
  std::string label;  // "hf", "model", "step-40", "reference"
  std::string path;   // absolute
  bool image = false; // a diffusion model folder (image runs), else a text model folder
};

class RunReader {
public:
  // A folder holding config.yaml or metrics.jsonl, a Hugging Face Trainer output folder
  // (trainerStatePath() finds a trainer_state.json), or TensorBoard event files.
  static bool isRunFolder(const std::string &dir);

  explicit RunReader(std::string dir); // reads nothing yet
  const std::string &dir() const { return m_dir; }
  std::string path(const std::string &relative) const { return m_dir + "/" + relative; }
  bool exists(const std::string &relative) const;

  RunKind kind() const;
  bool isImageRun() const { return kind() == RunKind::ImagePreference; }

  // config.yaml: its text ("" when missing), and flattened to "key" / "block.key" -> scalar text
  // as written (quotes removed, flow maps and sequences flattened too). Never throws: a config
  // that is not YAML gives {} and configError() says why.
  std::string configText() const;
  std::map<std::string, std::string> configValues() const;
  std::string configError() const;
  std::string configValue(const std::string &key, const std::string &fallback = {}) const;
  // The objective and its β for any kind of run ("" / NaN when the config does not say).
  std::string lossType() const;
  double beta() const;

  std::optional<RunStatusRecord> status() const;
  // run_info.json; nullopt when missing. Throws InputError naming the file when it is not a JSON
  // object or a key is not a string.
  std::optional<RunInfoRecord> runInfo() const;
  // eval/summary.json as an object ({} when missing or malformed).
  nlohmann::json evalSummary() const;
  // metrics.jsonl, a half-written last line skipped; in a Trainer output folder without one, the
  // trainer state's log_history (parseTrainerState), else the event files' scalars, one line per
  // step; {} when they are malformed.
  std::vector<nlohmann::json> metrics() const;
  // Each metric's last value over metrics() (step and time left out), then the final evaluation's
  // numbers over them (eval/summary.json: the task's reward, KL, win rate; not steps or seconds).
  std::map<std::string, double> finalMetrics() const;

  // samples/grid-step-N.png by ascending step.
  std::vector<RunGridEntry> grids() const;
  // eval/samples.jsonl of a run with an oracle: one object per held-out sample (prompt, seed,
  // reward, reward_ref, class_prob, class_prob_ref, ...); empty without one. Torn lines skipped.
  std::vector<nlohmann::json> evalSamples() const;
  // The label of each row of the grids (samples/grid_rows.json: class names, or the held-out
  // captions of a run without an oracle); {} when the run wrote none.
  std::vector<std::string> gridRows() const;
  // eval/pairs.jsonl (text runs), "" when missing.
  std::string pairsFile() const;
  // Complete checkpoints (checkpoints/step-N with trainer_state.json; no step-N.tmp), ascending.
  std::vector<RunCheckpointEntry> checkpoints() const;
  // The final policy's folder (hf/ for text runs, model/ for image and pretraining runs) when it
  // exists, else "".
  std::string finalModel() const;
  // Final policy, checkpoints newest first, then the reference (when run_info names one that exists).
  std::vector<RunModelEntry> models() const;

private:
  std::string m_dir;
};

} // namespace preflab::core
