// Lookups shared by the objective registries (text and image): by name, and the list of infos.
#pragma once

#include "core/io/input_error.h"

#include <string>
#include <vector>

namespace preflab::core {

// The entry whose info.name is `name`; otherwise InputError with key "loss_type" naming `what`
// ("objective", "image objective") and every known name.
template <class Entry>
const Entry &findRegistryEntry(const std::vector<Entry> &entries, const std::string &name,
                               const std::string &what) {
  for (const Entry &e : entries)
    if (e.info.name == name)
      return e;
  std::string known;
  for (const Entry &e : entries)
    known += (known.empty() ? "" : ", ") + e.info.name;
  throw InputError({}, 0, "loss_type", "unknown " + what + " '" + name + "'; known: " + known);
}

// The entries' infos, in registry order.
template <class Entry> auto registryInfos(const std::vector<Entry> &entries) {
  std::vector<decltype(Entry::info)> out;
  for (const Entry &e : entries)
    out.push_back(e.info);
  return out;
}

} // namespace preflab::core
