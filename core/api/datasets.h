// The facade's datasets: text preference files as the trainer reads them, Fashion-MNIST's class
// names, and the error type that names file, line and key (torch-free).
#pragma once

#include "core/data/fashion_mnist.h"
#include "core/data/text_preference_reader.h"
#include "core/io/input_error.h"
