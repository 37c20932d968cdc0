// Where the embedded resources (pretrained reference, oracle) are found at run time.
#pragma once

#include <string>

namespace preflab::core {

// The folder holding the embedded resources: $PREFLAB_RESOURCES_DIR when set and not empty, else
// the source tree's resources/ folder this build was configured from when it exists, else
// <prefix>/share/preflab (where `cmake --install` puts them).
std::string resourcesDirectory();

// resourcesDirectory() + "/" + name, e.g. "fashion-reference" or "fashion-oracle".
std::string embeddedResource(const std::string &name);

} // namespace preflab::core
