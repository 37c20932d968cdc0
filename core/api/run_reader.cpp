// RunReader: run folders read leniently where a view must not fail, strictly where a user asked.
#include "core/api/run_reader.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/tensorboard_events.h"
#include "core/train/run_folder.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <regex>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

std::string readIfExists(const std::string &path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return {};
  try {
    return readFile(path);
  } catch (const std::exception &) {
    return {};
  }
}

void flatten(const YAML::Node &node, const std::string &prefix, std::map<std::string, std::string> &out) {
  if (node.IsMap()) {
    for (const auto &item : node) {
      const auto key = item.first.as<std::string>();
      flatten(item.second, prefix.empty() ? key : prefix + "." + key, out);
    }
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      flatten(node[i], prefix + "." + std::to_string(i), out);
  } else if (node.IsScalar()) {
    out[prefix] = node.Scalar();
  } else if (node.IsNull() && !prefix.empty()) {
    out[prefix] = "";
  }
}

std::int64_t stepOf(const std::string &name, const std::regex &pattern) {
  std::smatch m;
  if (!std::regex_match(name, m, pattern))
    return -1;
  try {
    return std::stoll(m[1].str());
  } catch (const std::exception &) {
    return -1;
  }
}

std::string absolute(const std::string &path) {
  return fs::absolute(path).lexically_normal().string();
}

} // namespace

std::string runKindName(RunKind kind) {
  switch (kind) {
  case RunKind::TextPreference:
    return "text";
  case RunKind::ImagePreference:
    return "text-to-image";
  case RunKind::DiffusionPretraining:
    return "pretrain-diffusion";
  case RunKind::Unknown:
    break;
  }
  return "unknown";
}

std::optional<RunStatusRecord> parseRunStatus(const std::string &text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  RunStatusRecord s;
  auto str = [&](const char *key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  auto num = [&](const char *key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
  };
  s.state = str("state");
  s.message = str("message");
  s.step = std::int64_t(num("step"));
  s.maxSteps = std::int64_t(num("max_steps"));
  s.updatedAt = num("updated_at");
  return s;
}

std::optional<MetricsLine> parseMetricsLine(const std::string &line, std::string *reason) {
  auto fail = [&](const char *why) -> std::optional<MetricsLine> {
    if (reason)
      *reason = why;
    return std::nullopt;
  };
  const auto record = nlohmann::json::parse(line, nullptr, false);
  if (record.is_discarded())
    return fail("not valid JSON");
  if (!record.is_object())
    return fail("not a JSON object");
  const auto step = record.find("step");
  if (step == record.end() || !step->is_number())
    return fail("no numeric \"step\"");
  // A run counts its steps from 0 up; a negative or astronomically large one is a damaged line,
  // and plotting it would squash every real point into one pixel.
  if (!(step->get<double>() >= 0.0 && step->get<double>() <= 9007199254740992.0))
    return fail("\"step\" out of range");
  MetricsLine out;
  out.step = step->get<double>();
  out.time = std::numeric_limits<double>::quiet_NaN();
  for (auto it = record.begin(); it != record.end(); ++it) {
    if (it.key() == "step")
      continue;
    if (it.key() == "time") {
      if (it->is_number())
        out.time = it->get<double>();
      continue;
    }
    if (it->is_number())
      out.metrics[it.key()] = it->get<double>();
    else if (it->is_null())
      out.metrics[it.key()] = std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

namespace {

// Python's json.dumps writes NaN, Infinity and -Infinity, which JSON has not: null outside strings.
std::string pythonJsonToJson(const std::string &text) {
  std::string out;
  out.reserve(text.size());
  bool inString = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (inString) {
      out += c;
      if (c == '\\' && i + 1 < text.size())
        out += text[++i];
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"')
      inString = true;
    const auto word = [&](const char *w) { return text.compare(i, std::strlen(w), w) == 0; };
    if (word("NaN")) {
      out += "null";
      i += 2;
    } else if (word("-Infinity")) {
      out += "null";
      i += 8;
    } else if (word("Infinity")) {
      out += "null";
      i += 7;
    } else {
      out += c;
    }
  }
  return out;
}

std::string trainerMetricName(const std::string &key) {
  if (key.rfind("eval_", 0) == 0)
    return "eval/" + key.substr(5);
  if (key.rfind("train_", 0) == 0)
    return "train/" + key.substr(6);
  return key;
}

bool hasLogHistory(const fs::path &file) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.find("\"log_history\"") != std::string::npos;
}

} // namespace

TrainerStateRecord parseTrainerState(const std::string &text, const std::string &path) {
  const auto root = nlohmann::json::parse(pythonJsonToJson(text), nullptr, false);
  if (root.is_discarded() || !root.is_object())
    throw InputError(path, 0, {}, "not a JSON object (a Hugging Face trainer_state.json)");
  const auto history = root.find("log_history");
  if (history == root.end() || !history->is_array())
    throw InputError(path, 0, "log_history", "missing or not a list");
  TrainerStateRecord out;
  const auto integer = [&](const char *key) -> std::int64_t {
    const auto it = root.find(key);
    return it != root.end() && it->is_number() && it->get<double>() >= 0 && it->get<double>() < 9e15
               ? std::int64_t(it->get<double>())
               : 0;
  };
  out.globalStep = integer("global_step");
  out.maxSteps = integer("max_steps");
  for (const auto &entry : *history) {
    const auto step = entry.is_object() ? entry.find("step") : entry.end();
    if (!entry.is_object() || step == entry.end() || !step->is_number() || !(step->get<double>() >= 0.0) ||
        step->get<double>() > 9007199254740992.0) {
      ++out.skipped;
      continue;
    }
    MetricsLine line;
    line.step = step->get<double>();
    line.time = std::numeric_limits<double>::quiet_NaN();
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      if (it.key() == "step")
        continue;
      if (it->is_number())
        line.metrics[trainerMetricName(it.key())] = it->get<double>();
      else if (it->is_null())
        line.metrics[trainerMetricName(it.key())] = std::numeric_limits<double>::quiet_NaN();
    }
    out.lines.push_back(std::move(line));
  }
  return out;
}

std::string newestTrainerStateFile(const std::string &dir) {
  std::error_code ec;
  fs::path newest;
  std::int64_t newestStep = -1;
  static const std::regex pattern(R"(checkpoint-(\d+))");
  for (const auto &entry : fs::directory_iterator(dir, ec)) {
    const auto step = stepOf(entry.path().filename().string(), pattern);
    const auto state = entry.path() / "trainer_state.json";
    if (step > newestStep && fs::is_regular_file(state, ec)) {
      newest = state;
      newestStep = step;
    }
  }
  const auto own = fs::path(dir) / "trainer_state.json";
  if (fs::is_regular_file(own, ec) &&
      (newest.empty() || fs::last_write_time(own, ec) >= fs::last_write_time(newest, ec)))
    newest = own;
  return newest.string();
}

std::string trainerStatePath(const std::string &dir) {
  const auto newest = newestTrainerStateFile(dir);
  return !newest.empty() && hasLogHistory(newest) ? newest : std::string();
}

std::vector<std::string> tensorBoardEventFiles(const std::string &dir) {
  std::vector<std::string> out;
  std::error_code ec;
  const auto collect = [&](const fs::path &folder) {
    for (const auto &entry : fs::directory_iterator(folder, ec))
      if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0 && entry.is_regular_file(ec))
        out.push_back(entry.path().string());
  };
  collect(dir);
  for (const auto &entry : fs::directory_iterator(fs::path(dir) / "runs", ec))
    if (entry.is_directory(ec))
      collect(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string tensorBoardMetricName(const std::string &tag) {
  return tag.rfind("train/", 0) == 0 ? tag.substr(6) : tag;
}

bool RunReader::isRunFolder(const std::string &dir) {
  std::error_code ec;
  return fs::is_directory(dir, ec) &&
         (fs::exists(fs::path(dir) / "config.yaml", ec) || fs::exists(fs::path(dir) / "metrics.jsonl", ec) ||
          !trainerStatePath(dir).empty() || !tensorBoardEventFiles(dir).empty());
}

RunReader::RunReader(std::string dir) : m_dir(std::move(dir)) {
  while (m_dir.size() > 1 && m_dir.back() == '/')
    m_dir.pop_back();
}

bool RunReader::exists(const std::string &relative) const {
  std::error_code ec;
  return fs::exists(path(relative), ec);
}

std::string RunReader::configText() const {
  return readIfExists(path("config.yaml"));
}

std::map<std::string, std::string> flattenConfigYaml(const std::string &text, std::string *error) {
  std::map<std::string, std::string> out;
  try {
    flatten(YAML::Load(text), "", out);
  } catch (const YAML::Exception &e) {
    if (error)
      *error = "line " + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return {};
  } catch (const std::exception &e) {
    if (error)
      *error = e.what();
    return {};
  }
  return out;
}

std::map<std::string, std::string> RunReader::configValues() const {
  return flattenConfigYaml(configText());
}

std::string RunReader::configError() const {
  std::string error;
  flattenConfigYaml(configText(), &error);
  return error.empty() ? error : path("config.yaml") + ":" + error.substr(5); // "line N: ..." -> ":N: ..."
}

std::string RunReader::configValue(const std::string &key, const std::string &fallback) const {
  const auto values = configValues();
  const auto it = values.find(key);
  return it == values.end() ? fallback : it->second;
}

RunKind RunReader::kind() const {
  std::string task;
  try {
    if (const auto info = runInfo())
      task = info->task;
  } catch (const std::exception &) {
  }
  if (task.empty())
    task = configValue("task");
  if (task == "text-to-image")
    return RunKind::ImagePreference;
  if (task == "pretrain-diffusion")
    return RunKind::DiffusionPretraining;
  if (task == "sentiment" || exists("run_info.json") || !configValue("loss_type").empty())
    return RunKind::TextPreference;
  return RunKind::Unknown;
}

std::string RunReader::lossType() const {
  auto loss = configValue("loss_type");
  if (loss.empty()) {
    try {
      if (const auto info = runInfo())
        loss = info->lossType;
    } catch (const std::exception &) {
    }
  }
  return loss;
}

double RunReader::beta() const {
  const auto text = configValue("beta");
  if (text.empty())
    return std::numeric_limits<double>::quiet_NaN();
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    return used == text.size() ? v : std::numeric_limits<double>::quiet_NaN();
  } catch (const std::exception &) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

std::optional<RunStatusRecord> RunReader::status() const {
  const auto text = readIfExists(path("status.json"));
  if (text.empty())
    return std::nullopt;
  return parseRunStatus(text);
}

std::optional<RunInfoRecord> RunReader::runInfo() const {
  const auto file = path("run_info.json");
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    return std::nullopt;
  const auto j = nlohmann::json::parse(readFile(file), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw InputError(file, 0, {}, "not a JSON object");
  auto str = [&](const char *key) {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
      return std::string();
    if (!it->is_string())
      throw InputError(file, 0, key, "must be a string");
    return it->get<std::string>();
  };
  auto located = [&](const std::string &p) {
    if (p.empty())
      return p;
    return fs::path(p).is_absolute() ? p : absolute(path(p));
  };
  RunInfoRecord info;
  info.task = str("task");
  info.lossType = str("loss_type");
  info.referenceModel = located(str("reference_model"));
  info.policyFinal = located(str("policy_final"));
  info.oracleModel = located(str("oracle_model"));
  info.trainer = str("trainer");
  info.discriminator = located(str("discriminator"));
  if (const auto it = j.find("components"); it != j.end() && !it->is_null()) {
    if (!it->is_array())
      throw InputError(file, 0, "components", "must be a list of model folders");
    for (const auto &c : *it) {
      if (!c.is_string())
        throw InputError(file, 0, "components", "must be a list of model folders");
      info.components.push_back(located(c.get<std::string>()));
    }
  }
  return info;
}

nlohmann::json RunReader::evalSummary() const {
  const auto j = nlohmann::json::parse(readIfExists(path("eval/summary.json")), nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

std::map<std::string, double> RunReader::finalMetrics() const {
  std::map<std::string, double> out;
  for (const auto &line : metrics())
    for (const auto &[key, value] : line.items())
      if (key != "step" && key != "time" && value.is_number())
        out[key] = value.get<double>();
  const auto summary = evalSummary(); // named: items() only refers to it
  for (const auto &[key, value] : summary.items())
    if (value.is_number() && key != "steps" && key != "seconds")
      out[key] = value.get<double>();
  return out;
}

std::vector<nlohmann::json> RunReader::metrics() const {
  if (exists("metrics.jsonl"))
    return readMetricsFile(path("metrics.jsonl"));
  const auto state = trainerStatePath(m_dir);
  if (state.empty()) { // event files: one line per step, their scalars merged
    std::map<std::int64_t, nlohmann::json> steps;
    try {
      for (const auto &file : tensorBoardEventFiles(m_dir)) {
        std::size_t offset = 0;
        for (const auto &s : readEventScalars(readFile(file), offset, file)) {
          auto &line = steps[s.step];
          line["step"] = s.step;
          line[tensorBoardMetricName(s.tag)] =
              std::isfinite(s.value) ? nlohmann::json(s.value) : nlohmann::json();
        }
      }
    } catch (const InputError &) {
      return {};
    }
    std::vector<nlohmann::json> out;
    for (auto &[step, line] : steps)
      out.push_back(std::move(line));
    return out;
  }
  std::vector<nlohmann::json> out;
  try {
    for (const auto &line : parseTrainerState(readFile(state), state).lines) {
      nlohmann::json j = {{"step", line.step}};
      for (const auto &[name, value] : line.metrics)
        j[name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
      out.push_back(std::move(j));
    }
  } catch (const InputError &) {
    return {}; // a torn or foreign file: the watcher reports why
  }
  return out;
}

std::vector<nlohmann::json> RunReader::evalSamples() const {
  return readMetricsFile(path("eval/samples.jsonl"));
}

std::vector<RunGridEntry> RunReader::grids() const {
  std::vector<RunGridEntry> out;
  std::error_code ec;
  static const std::regex pattern(R"(grid-step-(\d+)\.png)");
  for (const auto &entry : fs::directory_iterator(path("samples"), ec)) {
    const auto step = stepOf(entry.path().filename().string(), pattern);
    if (step >= 0 && entry.is_regular_file(ec))
      out.push_back({step, entry.path().string()});
  }
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.step < b.step; });
  return out;
}

std::vector<std::string> RunReader::gridRows() const {
  std::vector<std::string> out;
  const auto j = nlohmann::json::parse(readIfExists(path("samples/grid_rows.json")), nullptr, false);
  if (j.is_object() && j.contains("rows") && j["rows"].is_array())
    for (const auto &row : j["rows"])
      out.push_back(row.is_string() ? row.get<std::string>() : std::string());
  return out;
}

std::string RunReader::pairsFile() const {
  return exists("eval/pairs.jsonl") ? path("eval/pairs.jsonl") : "";
}

std::vector<RunCheckpointEntry> RunReader::checkpoints() const {
  std::vector<RunCheckpointEntry> out;
  std::error_code ec;
  static const std::regex pattern(R"(step-(\d+))");
  for (const auto &entry : fs::directory_iterator(path("checkpoints"), ec)) {
    const auto step = stepOf(entry.path().filename().string(), pattern);
    if (step >= 0 && fs::exists(entry.path() / "trainer_state.json", ec))
      out.push_back({step, entry.path().string()});
  }
  std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.step < b.step; });
  return out;
}

std::string RunReader::finalModel() const {
  std::string final;
  try {
    if (const auto info = runInfo())
      final = info->policyFinal;
  } catch (const std::exception &) {
  }
  std::error_code ec;
  if (!final.empty() && fs::is_directory(final, ec))
    return final;
  for (const char *candidate : {"hf", "model"})
    if (fs::is_directory(path(candidate), ec))
      return absolute(path(candidate));
  return {};
}

std::vector<RunModelEntry> RunReader::models() const {
  std::vector<RunModelEntry> out;
  const auto runKind = kind();
  const bool image = runKind == RunKind::ImagePreference || runKind == RunKind::DiffusionPretraining;
  const auto final = finalModel();
  if (!final.empty())
    out.push_back({RunModelEntry::Role::Final, fs::path(final).filename().string(), final, image});
  const auto steps = checkpoints();
  for (auto it = steps.rbegin(); it != steps.rend(); ++it)
    out.push_back(
        {RunModelEntry::Role::Checkpoint, "step-" + std::to_string(it->step), absolute(it->dir), image});
  std::optional<RunInfoRecord> info;
  try {
    info = runInfo();
  } catch (const std::exception &) {
  }
  std::error_code ec;
  if (info && !info->referenceModel.empty() && fs::is_directory(info->referenceModel, ec))
    out.push_back({RunModelEntry::Role::Reference, "reference", info->referenceModel, image});
  return out;
}

} // namespace preflab::core
