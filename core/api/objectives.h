// The facade's objective catalogue: every registered text and image objective as it declares
// itself (kind, inputs, parameters with defaults, ranges and meanings; torch-free).
#pragma once

#include "core/objectives/objective_info.h"
