// SweepSpec: a sweep file (a base run config and the points to run it at), parsed and expanded.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace preflab::core {

// One run of a sweep: the key=value overrides applied to the base config, in file order, and the
// run folder's name under the sweep folder ("beta=0.1,loss_type=ipo").
struct SweepPoint {
  std::string name;
  std::vector<std::pair<std::string, std::string>> overrides;
};

struct SweepSpec {
  std::string base;      // the base config's path, resolved against the sweep file's folder
  std::string outputDir; // the sweep folder (output_dir; default runs/<sweep file name>)
  std::vector<SweepPoint> points;
};

// A sweep file:
//   base: dpo.yaml                 # a text or image run config (required)
//   output_dir: runs/beta-sweep    # optional
//   grid:                          # every combination, the first key varying slowest
//     beta: [0.03, 0.1, 0.3, 1]
//     loss_type: [dpo, ipo]
//   runs:                          # and/or listed points, after the grid's
//     - {beta: 0.1, loss_type: simper}
// Keys are config keys ("model.n_layer" for nested ones), values scalars; whether they are valid
// keys and values is checked by the config when each point is applied. Throws InputError naming
// the file, line and key: a YAML error, a missing base, a grid value that is not a non-empty list
// of scalars, a listed run that is not a mapping of scalars, two points with the same overrides,
// no points, or more than kMaxSweepPoints.
constexpr std::size_t kMaxSweepPoints = 10000;
SweepSpec parseSweepSpec(const std::string &text, const std::string &path);
SweepSpec readSweepSpec(const std::string &path);

} // namespace preflab::core
