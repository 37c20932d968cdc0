// Sweep folders: sweep.json written and read back, each point's run folder as a row.
#include "core/api/sweeps.h"

#include "core/api/run_reader.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

// Config keys that name where a run lives or how often it reports, not what it trains: they differ
// between the runs of any folder and are left out of the values of a folder without sweep.json.
bool isBookkeepingKey(const std::string &key) {
  static const std::set<std::string> kKeys = {"output_dir", "logging_steps", "save_steps", "eval_steps",
                                              "run_name",   "threads",       "device",     "resume",
                                              "grid_seeds", "overwrite"};
  return kKeys.count(key) > 0;
}

SweepRow readRow(const std::string &name, const std::string &dir) {
  SweepRow row;
  row.name = name;
  row.dir = fs::absolute(dir).lexically_normal().string();
  if (!RunReader::isRunFolder(dir)) {
    row.state = "queued";
    return row;
  }
  const RunReader run(dir);
  try {
    if (const auto status = run.status()) {
      row.state = status->state;
      row.step = status->step;
      row.maxSteps = status->maxSteps;
    } else {
      row.state = "unknown";
    }
    row.metrics = run.finalMetrics();
  } catch (const std::exception &) {
    row.state = "unknown";
  }
  return row;
}

std::vector<SweepRow> readPlan(const std::string &dir) {
  const auto file = dir + "/sweep.json";
  const auto plan = nlohmann::json::parse(readFile(file), nullptr, false);
  if (!plan.is_object())
    throw InputError(file, 0, {}, "not a JSON object");
  if (!plan.contains("points") || !plan["points"].is_array())
    throw InputError(file, 0, "points", "missing or not a list");
  std::vector<SweepRow> rows;
  for (std::size_t i = 0; i < plan["points"].size(); ++i) {
    const auto &p = plan["points"][i];
    const auto key = "points." + std::to_string(i);
    if (!p.is_object() || !p.contains("name") || !p["name"].is_string())
      throw InputError(file, 0, key + ".name", "missing or not a string");
    const auto name = p["name"].get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      throw InputError(file, 0, key + ".name", "'" + name + "' is not a folder name");
    auto row = readRow(name, dir + "/" + name);
    if (p.contains("overrides")) {
      if (!p["overrides"].is_object())
        throw InputError(file, 0, key + ".overrides", "not an object");
      for (const auto &[k, v] : p["overrides"].items())
        row.values.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// A folder of runs without a plan: the config values that differ between them.
std::vector<SweepRow> readRunsIn(const std::string &dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(dir, ec))
    if (entry.is_directory(ec) && RunReader::isRunFolder(entry.path().string()))
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  std::vector<SweepRow> rows;
  std::vector<std::map<std::string, std::string>> configs;
  std::vector<std::string> keys; // in the first config's order of appearance (map order: by name)
  std::set<std::string> seen;
  for (const auto &name : names) {
    rows.push_back(readRow(name, dir + "/" + name));
    configs.push_back(RunReader(dir + "/" + name).configValues());
    for (const auto &[k, v] : configs.back())
      if (seen.insert(k).second)
        keys.push_back(k);
  }
  for (const auto &k : keys) {
    if (isBookkeepingKey(k))
      continue;
    std::set<std::string> distinct;
    for (const auto &c : configs) {
      const auto it = c.find(k);
      distinct.insert(it == c.end() ? std::string("\x01") : it->second);
    }
    if (distinct.size() < 2)
      continue;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto it = configs[i].find(k);
      rows[i].values.emplace_back(k, it == configs[i].end() ? std::string() : it->second);
    }
  }
  return rows;
}

} // namespace

bool isSweepFolder(const std::string &dir) {
  std::error_code ec;
  return fs::is_regular_file(dir + "/sweep.json", ec);
}

std::vector<SweepRow> readSweepFolder(const std::string &dir) {
  return isSweepFolder(dir) ? readPlan(dir) : readRunsIn(dir);
}

void writeSweepPlan(const SweepSpec &spec, const std::vector<std::string> &extraOverrides) {
  fs::create_directories(spec.outputDir);
  nlohmann::json plan = {{"base", fs::absolute(spec.base).lexically_normal().string()},
                         {"overrides", extraOverrides},
                         {"points", nlohmann::json::array()}};
  for (const auto &point : spec.points) {
    nlohmann::json values = nlohmann::json::object();
    for (const auto &[key, value] : point.overrides)
      values[key] = value;
    plan["points"].push_back({{"name", point.name}, {"overrides", values}});
  }
  writeFileAtomic(spec.outputDir + "/sweep.json", plan.dump(2) + "\n");
}

nlohmann::json sweepRowJson(const SweepRow &row) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto &[key, value] : row.values)
    values[key] = value;
  return {{"name", row.name},
          {"dir", row.dir},
          {"overrides", values},
          {"state", row.state},
          {"metrics", row.metrics}};
}

std::string writeSweepSummary(const std::string &dir, const std::vector<SweepRow> &rows) {
  std::string text;
  for (const auto &row : rows)
    text += sweepRowJson(row).dump() + "\n";
  const auto path = dir + "/summary.jsonl";
  writeFileAtomic(path, text);
  return path;
}

} // namespace preflab::core
