// The facade's runs: what a run is (a text or a text-to-image config), how to start, pause, cancel
// and resume one, and which devices exist. Torch-free; the app and the CLI include core through
// core/api/ only.
#pragma once

#include "core/jobs/image_training.h" // runImageTraining (task: text-to-image)
#include "core/jobs/text_training.h"  // runTextTraining (text objectives), RunOptions, RunSummary
#include "core/runtime/device_info.h"
#include "core/train/image_train_config.h"
#include "core/train/text_train_config.h"
