// The checks before a run writes to its output folder, shared by text and image runs, the CLI and
// the app: one writer per folder (a lock held for the whole run), nothing deleted that is not
// recognisably a PrefLab run, and a resume that continues exactly what the folder holds.
#pragma once

#include "core/io/folder_lock.h"

#include <memory>
#include <string>
#include <vector>

namespace preflab::core {

struct RunOptions;

// Whether `dir` holds a PrefLab run: status.json, metrics.jsonl or config.yaml with run_info.json.
bool isRunFolder(const std::string &dir);

// The entries a run writes (config.yaml, metrics.jsonl, checkpoints/, ...): what --overwrite
// deletes, and nothing else.
const std::vector<std::string> &runFolderEntries();

// One key whose value differs between a run folder's config.yaml and a resume's config.
struct ConfigChange {
  std::string key, before, after;
};
// The keys of two resolved configs (YAML, nested keys dotted) whose values differ, except keys
// that do not change what is trained (output_dir, device, threads, cache_dir, logging_steps,
// save_steps, save_total_limit, per_device_eval_batch_size).
std::vector<ConfigChange> resultChangingDifferences(const std::string &savedYaml, const std::string &newYaml);

// Takes the folder's lock, then: with options.resume, the folder must hold a run whose
// config.yaml matches `newConfigYaml` in every result-changing key; with options.overwrite, a
// run's entries are deleted (a folder that is not a run, the current directory or one of its
// parents is refused); with neither, the folder must be new, empty or hold only a lock. Every
// refusal is an InputError naming the path (and the key) before anything in it is written. The
// returned lock is held until it is destroyed.
std::unique_ptr<FolderLock> claimOutputDir(const std::string &outputDir, const RunOptions &options,
                                           const std::string &newConfigYaml);

} // namespace preflab::core
