// Embedded resource lookup: environment, then the configured source tree, then the install prefix.
#include "core/io/resource_paths.h"

#include <cstdlib>
#include <filesystem>

#ifndef PREFLAB_SOURCE_RESOURCES_DIR
#define PREFLAB_SOURCE_RESOURCES_DIR ""
#endif
#ifndef PREFLAB_INSTALL_RESOURCES_DIR
#define PREFLAB_INSTALL_RESOURCES_DIR "/usr/local/share/preflab"
#endif

namespace preflab::core {

std::string resourcesDirectory() {
  if (const char *env = std::getenv("PREFLAB_RESOURCES_DIR"); env && *env)
    return env;
  const std::string source = PREFLAB_SOURCE_RESOURCES_DIR;
  std::error_code ec;
  if (!source.empty() && std::filesystem::is_directory(source, ec))
    return source;
  return PREFLAB_INSTALL_RESOURCES_DIR;
}

std::string embeddedResource(const std::string &name) {
  return resourcesDirectory() + "/" + name;
}

} // namespace preflab::core
