// One config key as `train --help`, the README and the New run dialog show it (torch-free).
#pragma once

#include <string>

namespace preflab::core {

struct ConfigKeyHelp {
  std::string key;          // "beta", "model.n_layer", ...
  std::string defaultValue; // as it is written in a resolved config.yaml
  std::string help;         // one line: what it means, its range
};

} // namespace preflab::core
