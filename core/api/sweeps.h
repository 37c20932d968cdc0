// Sweep folders: the plan a sweep writes (sweep.json), its points' run folders read back as rows
// of final metrics (for the CLI's summary.jsonl and table and the app's Sweep view), and a point's
// config. Torch-free.
#pragma once

#include "core/train/sweep_spec.h"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace preflab::core {

// One point of a sweep as its run folder says now.
struct SweepRow {
  std::string name; // the point's name, or the run folder's name
  std::string dir;  // absolute run folder
  // The point's values (sweep.json), or in a folder of runs without one the config values that
  // differ between its runs; in the sweep's key order.
  std::vector<std::pair<std::string, std::string>> values;
  std::string state; // queued (no folder yet) | running | finished | failed | cancelled | unknown
  std::int64_t step = 0, maxSteps = 0;
  std::map<std::string, double> metrics; // RunReader::finalMetrics
};

// sweep.json in `dir`.
bool isSweepFolder(const std::string &dir);
// The rows of a sweep folder: its points in sweep.json's order, or, for a folder of run folders
// without sweep.json, each run folder (by name) with the config keys whose values differ between
// them (output_dir and the like left out). Throws InputError naming the file and key when
// sweep.json is not a sweep plan; an unreadable run folder reads as state "unknown", no metrics.
std::vector<SweepRow> readSweepFolder(const std::string &dir);

// Writes `dir`/sweep.json for the spec's points: base (absolute), the overrides every point gets,
// and each point's name and values.
void writeSweepPlan(const SweepSpec &spec, const std::vector<std::string> &extraOverrides);
// One line of summary.jsonl: name, dir, overrides (the values), state, metrics.
nlohmann::json sweepRowJson(const SweepRow &row);
// Writes `dir`/summary.jsonl, a line per row (sweepRowJson); returns its path.
std::string writeSweepSummary(const std::string &dir, const std::vector<SweepRow> &rows);

// The config a point runs: the base loaded by `load`, the point's values, then `extra`
// ("key=value"), validated. Throws what load, applyOverride and validate throw.
template <typename Load>
auto sweepPointConfig(const SweepSpec &spec, const SweepPoint &point, const std::vector<std::string> &extra,
                      Load load) {
  auto config = load(spec.base);
  for (const auto &[key, value] : point.overrides)
    applyOverride(config, key + "=" + value);
  for (const auto &o : extra)
    applyOverride(config, o);
  config.validate();
  return config;
}

} // namespace preflab::core
