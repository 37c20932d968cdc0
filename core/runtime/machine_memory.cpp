// physicalMemoryBytes: sysconf(_SC_PHYS_PAGES) × page size.
#include "core/runtime/machine_memory.h"

#include <unistd.h>

namespace preflab::core {

double physicalMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? double(pages) * double(size) : 0.0;
}

} // namespace preflab::core
