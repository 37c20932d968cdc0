// The facade's run diagnostics: findings from a run's logged metrics (torch-free).
#pragma once

#include "core/metrics/run_diagnostics.h"
