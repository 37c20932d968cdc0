// The facade's model folders: what one holds, read without loading its weights (torch-free).
#pragma once

#include "core/text/model_folder_info.h"
