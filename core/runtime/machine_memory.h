// The machine's physical memory, for checks that refuse a size before an allocation fails.
#pragma once

namespace preflab::core {

// Physical memory in bytes (0 when the system does not say).
double physicalMemoryBytes();

} // namespace preflab::core
