// The facade's labeling: label stores, candidate files, agreement, exports, generated candidates and active
// selection (torch-free).
#pragma once

#include "core/io/input_error.h"
#include "core/jobs/label_generation.h"
#include "core/labels/label_agreement.h"
#include "core/labels/label_candidates.h"
#include "core/labels/label_export.h"
#include "core/labels/label_store.h"
