// The facade's model comparison: sampling two models on fixed prompts and scoring them, token by
// token (torch-free).
#pragma once

#include "core/jobs/compare_tools.h"
#include "core/text/sampling_options.h"
