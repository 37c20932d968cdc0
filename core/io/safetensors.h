// Reading and writing safetensors files (the Hugging Face tensor interchange format).
#pragma once

#include <torch/types.h>

#include <map>
#include <string>

namespace preflab::core {

// Reads every tensor of a safetensors file onto the CPU, in the dtype stored in the file.
// Supported dtypes: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL; others are rejected.
// The whole file is validated before a tensor is returned: header size and JSON syntax,
// duplicate keys, every entry's dtype, shape and data_offsets, and that the entries tile the
// byte buffer exactly (no overlap, no hole, no trailing bytes). The optional string-to-string
// "__metadata__" map goes to `metadata` when it is not null (cleared first).
// Throws InputError naming the file and, where one is involved, the tensor key. Any thread.
std::map<std::string, torch::Tensor>
readSafetensors(const std::string &path, std::map<std::string, std::string> *metadata = nullptr);

// Writes `tensors` (copied to the CPU, made contiguous, little-endian) to `path` atomically:
// a crash leaves the old file or the new one. Entries are laid out as the reference writer lays
// out a single-dtype file: "__metadata__" first, then tensors sorted by name, with their data
// in the same order and the header padded with spaces to a multiple of 8 bytes.
// Throws std::invalid_argument for a dtype outside the supported list or a tensor named
// "__metadata__", std::runtime_error when the file cannot be written.
void writeSafetensors(const std::string &path, const std::map<std::string, torch::Tensor> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

} // namespace preflab::core
