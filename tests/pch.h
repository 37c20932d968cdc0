// Precompiled header shared by all test executables (torch + Qt Test).
#pragma once

#include <torch/torch.h>

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>
