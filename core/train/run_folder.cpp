// RunFolder: creates the layout, appends metrics line by line, replaces status.json atomically.
#include "core/train/run_folder.h"

#include "core/io/atomic_file.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {
double unixNow() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}
} // namespace

std::string runStateName(RunState state) {
  switch (state) {
  case RunState::Running: return "running";
  case RunState::Finished: return "finished";
  case RunState::Failed: return "failed";
  case RunState::Cancelled: return "cancelled";
  }
  return "unknown";
}

RunFolder::RunFolder(std::string root, bool writes) : m_root(std::move(root)), m_writes(writes) {
  if (!m_writes)
    return;
  std::error_code ec;
  for (const char *sub : {"", "checkpoints", "samples", "eval"}) {
    fs::create_directories(fs::path(m_root) / sub, ec);
    if (ec)
      throw std::runtime_error(m_root + ": cannot create run folder: " + ec.message());
  }
}

std::string RunFolder::checkpointDir(std::int64_t step) const {
  return path("checkpoints/step-" + std::to_string(step));
}

void RunFolder::writeConfig(const std::string &yaml) {
  if (!m_writes)
    return;
  if (m_holding) {
    m_heldConfig = yaml; // a resume: the run's first event file already holds its config
    return;
  }
  writeFileAtomic(path("config.yaml"), yaml);
  // TensorBoard's Text tab renders Markdown: indented, the YAML shows as a code block.
  std::string block;
  for (std::size_t at = 0; at < yaml.size();) {
    const auto end = std::min(yaml.find('\n', at), yaml.size());
    block += "    " + yaml.substr(at, end - at) + "\n";
    at = end + 1;
  }
  events().writeText(0, unixNow(), "config", block);
}

EventFileWriter &RunFolder::events() {
  if (!m_events) {
    m_events = std::make_unique<EventFileWriter>(m_root);
    if (m_resumedAt)
      m_events->writeSessionStart(*m_resumedAt, unixNow());
  }
  return *m_events;
}

void RunFolder::writeFile(const std::string &relative, const std::string &content) {
  if (m_writes)
    writeFileAtomic(path(relative), content);
}

void RunFolder::appendImage(std::int64_t step, const std::string &tag, const std::string &png, int height,
                            int width, int channels) {
  if (m_writes)
    events().writeImage(step, unixNow(), tag, png, height, width, channels);
}

void RunFolder::release() {
  if (!m_holding)
    return;
  m_holding = false;
  if (!m_writes)
    return;
  if (!m_heldConfig.empty())
    writeFileAtomic(path("config.yaml"), m_heldConfig);
  if (!m_heldStatus.empty())
    writeFileAtomic(path("status.json"), m_heldStatus);
  m_heldConfig.clear();
  m_heldStatus.clear();
}

void RunFolder::appendMetrics(std::int64_t step, const std::map<std::string, double> &metrics) {
  if (!m_writes)
    return;
  if (!m_metrics.is_open()) {
    m_metrics.open(path("metrics.jsonl"), std::ios::app);
    if (!m_metrics)
      throw std::runtime_error(path("metrics.jsonl") + ": cannot open for writing");
  }
  nlohmann::json line = {{"step", step}};
  for (const auto &[name, value] : metrics)
    line[name] = std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
  const double now = unixNow();
  line["time"] = now;
  m_metrics << line.dump() << '\n';
  m_metrics.flush();
  events().writeScalars(step, now, metrics);
}

void RunFolder::writeStatus(RunState state, const std::string &message, std::int64_t step,
                            std::int64_t maxSteps) {
  if (!m_writes)
    return;
  nlohmann::json status = {{"state", runStateName(state)}, {"message", message}, {"step", step},
                           {"max_steps", maxSteps},        {"updated_at", unixNow()}};
  if (m_holding)
    m_heldStatus = status.dump(2) + "\n";
  else
    writeFileAtomic(path("status.json"), status.dump(2) + "\n");
}

void RunFolder::truncateMetricsAfter(std::int64_t step, bool evaluationRedone) {
  if (!m_writes)
    return;
  const auto file = path("metrics.jsonl");
  if (!fs::exists(file))
    return;
  std::string kept;
  for (const auto &line : readMetricsFile(file)) {
    const auto at = line.value("step", std::int64_t(0));
    const bool evaluation = !line.contains("loss"); // training lines carry the loss, eval lines do not
    if (at < step || (at == step && !(evaluationRedone && evaluation)))
      kept += line.dump() + "\n";
  }
  m_metrics.close();
  writeFileAtomic(file, kept);
  m_events.reset(); // the next line opens a new event file that starts at the resumed step
  m_resumedAt = step;
}

std::vector<std::int64_t> RunFolder::checkpointSteps() const {
  std::vector<std::int64_t> steps;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator(path("checkpoints"), ec)) {
    const auto name = entry.path().filename().string();
    // "step-N" exactly: "step-8.tmp" is a checkpoint a kill interrupted before its rename.
    const auto digits = name.size() > 5 ? name.substr(5) : std::string();
    if (name.rfind("step-", 0) != 0 || digits.empty() || digits.size() > 18 ||
        digits.find_first_not_of("0123456789") != std::string::npos ||
        !fs::exists(entry.path() / "trainer_state.json"))
      continue;
    steps.push_back(std::stoll(digits));
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

std::vector<nlohmann::json> readMetricsFile(const std::string &path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object())
      out.push_back(std::move(parsed)); // a torn last line (crash mid-write) is skipped
  }
  return out;
}

} // namespace preflab::core
