// The facade's objective catalogue: every registered text and image objective with its β meaning,
// default and usual range (torch-free).
#pragma once

#include "core/objectives/diffusion_objective_info.h"
#include "core/objectives/objective_catalogue.h"
#include "core/objectives/objective_info.h"
