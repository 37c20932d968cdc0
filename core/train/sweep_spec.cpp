// parseSweepSpec: the sweep file's grid and listed runs expanded into points.
#include "core/train/sweep_spec.h"

#include "core/io/input_error.h"

#include <yaml-cpp/yaml.h>

#include <cctype>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

int lineOf(const YAML::Node &node) {
  return node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
}

// A scalar's text as the config reads an override's value.
std::string scalarText(const YAML::Node &node, const std::string &path, const std::string &key) {
  if (!node.IsScalar())
    throw InputError(path, lineOf(node), key,
                     "a value must be a single number or word, not a list or mapping");
  return node.Scalar();
}

// "beta=0.1,loss_type=ipo": a folder name (characters a file system would refuse become '_').
std::string pointName(const std::vector<std::pair<std::string, std::string>> &overrides) {
  std::string name;
  for (const auto &[key, value] : overrides)
    name += (name.empty() ? "" : ",") + key + "=" + value;
  for (auto &c : name)
    if (c == '/' || c == '\\' || c == ':' || c == ' ' || c == '\0' ||
        std::iscntrl(static_cast<unsigned char>(c)))
      c = '_';
  if (name.size() > 200)
    name = name.substr(0, 200);
  return name.empty() ? "base" : name;
}

} // namespace

SweepSpec parseSweepSpec(const std::string &text, const std::string &path) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception &e) { // syntax errors and bad aliases
    throw InputError(path, e.mark.line + 1, {}, "YAML syntax error: " + e.msg);
  }
  if (!root.IsMap())
    throw InputError(path, 1, {}, "a sweep file is a mapping with base, grid and/or runs");
  SweepSpec spec;
  const auto folder = fs::path(path).parent_path();
  bool sawGrid = false, sawRuns = false;
  YAML::Node grid, runs;
  for (const auto &entry : root) {
    const auto key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    const auto &value = entry.second;
    if (key == "base") {
      spec.base = (folder / scalarText(value, path, key)).lexically_normal().string();
    } else if (key == "output_dir") {
      spec.outputDir = scalarText(value, path, key);
    } else if (key == "grid") {
      if (!value.IsMap())
        throw InputError(path, lineOf(value), key, "must be a mapping of config keys to lists of values");
      grid = value;
      sawGrid = true;
    } else if (key == "runs") {
      if (!value.IsSequence())
        throw InputError(path, lineOf(value), key, "must be a list of mappings of config keys to values");
      runs = value;
      sawRuns = true;
    } else {
      throw InputError(path, lineOf(entry.first), key,
                       "unknown key (a sweep file has base, output_dir, grid, runs)");
    }
  }
  if (spec.base.empty())
    throw InputError(path, 1, "base", "missing: the run config the sweep varies");
  if (spec.outputDir.empty())
    spec.outputDir = "runs/" + fs::path(path).stem().string();

  // The grid: the product of every key's values, the first key varying slowest.
  std::vector<std::vector<std::pair<std::string, std::string>>> points;
  if (sawGrid) {
    points.emplace_back();
    for (const auto &entry : grid) {
      const auto key = scalarText(entry.first, path, "grid");
      const auto &values = entry.second;
      if (!values.IsSequence() || values.size() == 0)
        throw InputError(path, lineOf(values), key,
                         "a grid key takes a non-empty list of values, e.g. [0.1, 0.3]");
      std::vector<std::vector<std::pair<std::string, std::string>>> next;
      for (const auto &point : points)
        for (const auto &v : values) {
          auto extended = point;
          extended.emplace_back(key, scalarText(v, path, key));
          next.push_back(std::move(extended));
          if (next.size() > kMaxSweepPoints)
            throw InputError(path, lineOf(values), key,
                             "the grid has more than " + std::to_string(kMaxSweepPoints) + " points");
        }
      points = std::move(next);
    }
    if (grid.size() == 0)
      points.clear();
  }
  if (sawRuns)
    for (const auto &run : runs) {
      if (!run.IsMap())
        throw InputError(path, lineOf(run), "runs", "each run is a mapping of config keys to values");
      std::vector<std::pair<std::string, std::string>> point;
      for (const auto &entry : run) {
        const auto key = scalarText(entry.first, path, "runs");
        point.emplace_back(key, scalarText(entry.second, path, key));
      }
      points.push_back(std::move(point));
      if (points.size() > kMaxSweepPoints)
        throw InputError(path, lineOf(run), "runs",
                         "more than " + std::to_string(kMaxSweepPoints) + " points");
    }
  if (points.empty())
    throw InputError(path, 1, "grid", "the sweep has no points: give a grid of values or a list of runs");
  std::set<std::string> names;
  for (auto &overrides : points) {
    SweepPoint p{pointName(overrides), std::move(overrides)};
    if (!names.insert(p.name).second)
      throw InputError(path, 0, "runs", "two points of the sweep are the same run (" + p.name + ")");
    spec.points.push_back(std::move(p));
  }
  return spec;
}

SweepSpec readSweepSpec(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw InputError(path, 0, {}, "cannot open the sweep file");
  std::stringstream text;
  text << in.rdbuf();
  return parseSweepSpec(text.str(), path);
}

} // namespace preflab::core
