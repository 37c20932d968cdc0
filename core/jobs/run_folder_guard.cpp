// Output-folder checks before a run; see run_folder_guard.h.
#include "core/jobs/run_folder_guard.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/jobs/text_training.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

void flatten(const YAML::Node &node, const std::string &prefix, std::map<std::string, std::string> &out) {
  for (const auto &item : node) {
    const auto key = prefix + item.first.as<std::string>();
    if (item.second.IsMap())
      flatten(item.second, key + ".", out);
    else if (item.second.IsScalar())
      out[key] = item.second.Scalar();
  }
}

std::map<std::string, std::string> flatConfig(const std::string &yaml, const std::string &source) {
  std::map<std::string, std::string> out;
  try {
    const auto root = YAML::Load(yaml);
    if (root.IsMap())
      flatten(root, "", out);
  } catch (const YAML::Exception &e) {
    throw InputError(source, 0, {}, std::string("cannot read it as YAML: ") + e.what());
  }
  return out;
}

// Whether `dir` is the current directory or one of its parents.
bool containsWorkingDirectory(const fs::path &dir) {
  std::error_code ec;
  const auto target = fs::weakly_canonical(dir, ec);
  for (auto p = fs::current_path(ec); !ec && !p.empty(); p = p.parent_path()) {
    if (p == target)
      return true;
    if (p == p.parent_path())
      break;
  }
  return false;
}

bool onlyTheLock(const fs::path &dir) {
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec))
    if (entry.path().filename() != FolderLock::kFileName)
      return false;
  return true;
}

} // namespace

bool isRunFolder(const std::string &dir) {
  const fs::path d(dir);
  std::error_code ec;
  return fs::is_regular_file(d / "status.json", ec) || fs::is_regular_file(d / "metrics.jsonl", ec) ||
         (fs::is_regular_file(d / "config.yaml", ec) && fs::is_regular_file(d / "run_info.json", ec));
}

const std::vector<std::string> &runFolderEntries() {
  static const std::vector<std::string> kEntries = {
      "config.yaml", "metrics.jsonl", "status.json", "run_info.json", "checkpoints", "hf", "reference",
      "samples", "eval", "model", "discriminator",
      // D2PO's gold questions and a person's answers (d2po.gold_labeller: person), with SQLite's
      // write-ahead log: an overwritten run asks afresh.
      "gold.preflab-labels", "gold.preflab-labels-wal", "gold.preflab-labels-shm"};
  return kEntries;
}

std::vector<ConfigChange> resultChangingDifferences(const std::string &savedYaml, const std::string &newYaml) {
  static const std::set<std::string> kFree = {"output_dir",    "device",           "threads",
                                              "cache_dir",     "logging_steps",    "save_steps",
                                              "save_total_limit", "per_device_eval_batch_size"};
  const auto before = flatConfig(savedYaml, "config.yaml"), after = flatConfig(newYaml, "the new config");
  std::set<std::string> keys;
  for (const auto &[k, v] : before)
    keys.insert(k);
  for (const auto &[k, v] : after)
    keys.insert(k);
  std::vector<ConfigChange> out;
  for (const auto &k : keys) {
    if (kFree.count(k))
      continue;
    const auto b = before.count(k) ? before.at(k) : std::string("(unset)");
    const auto a = after.count(k) ? after.at(k) : std::string("(unset)");
    if (a != b)
      out.push_back({k, b, a});
  }
  return out;
}

std::unique_ptr<FolderLock> claimOutputDir(const std::string &outputDir, const RunOptions &options,
                                           const std::string &newConfigYaml) {
  const fs::path dir(outputDir);
  std::error_code ec;
  if (options.resume && !isRunFolder(outputDir))
    throw InputError({}, 0, "output_dir",
                     outputDir + " holds no run to resume" +
                         (fs::exists(dir, ec) ? "" : " (it does not exist)") + "; start it without --resume");
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw InputError({}, 0, "output_dir", outputDir + " exists and is not a folder");
  if (options.overwrite && !options.resume && fs::exists(dir, ec)) {
    if (containsWorkingDirectory(dir))
      throw InputError({}, 0, "output_dir",
                       outputDir + " is the current directory or holds it; --overwrite would delete what "
                                   "you are working in: choose a folder of its own for the run");
    if (!isRunFolder(outputDir) && !onlyTheLock(dir) && !fs::is_empty(dir, ec))
      throw InputError({}, 0, "output_dir",
                       outputDir + " is not a PrefLab run folder (no status.json, metrics.jsonl or "
                                   "run_info.json) and is not empty; --overwrite deletes only runs");
  }
  if (!options.overwrite && !options.resume && fs::exists(dir, ec) && !onlyTheLock(dir) &&
      !fs::is_empty(dir, ec))
    throw InputError({}, 0, "output_dir",
                     isRunFolder(outputDir)
                         ? outputDir + " already holds a run; pass --resume to continue it or --overwrite to replace it"
                         : outputDir + " is not empty and is not a PrefLab run; choose a new or empty folder");
  auto lock = std::make_unique<FolderLock>(outputDir); // refuses a second writer
  if (options.resume) {
    const auto saved = dir / "config.yaml";
    if (fs::exists(saved, ec)) {
      const auto changes = resultChangingDifferences(readFile(saved.string()), newConfigYaml);
      if (!changes.empty()) {
        std::string list;
        for (const auto &c : changes)
          list += (list.empty() ? "" : ", ") + c.key + " " + c.before + " -> " + c.after;
        throw InputError(saved.string(), 0, changes.front().key,
                         "a resume must continue the same run, and this config changes " + list +
                             "; resume with the saved config, or start a new run");
      }
    }
  } else if (options.overwrite) {
    for (const auto &entry : runFolderEntries())
      fs::remove_all(dir / entry, ec);
    std::vector<fs::path> events; // TensorBoard's files, one per process that wrote
    for (const auto &file : fs::directory_iterator(dir, ec))
      if (file.path().filename().string().rfind("events.out.tfevents.", 0) == 0)
        events.push_back(file.path());
    for (const auto &file : events)
      fs::remove(file, ec);
  }
  return lock;
}

} // namespace preflab::core
