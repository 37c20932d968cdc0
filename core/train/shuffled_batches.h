// ShuffledBatches: batches of rows drawn from seeded random permutations, one per pass, resumable.
// Shared by the image preference and pretraining steps (torch API, core-internal).
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

namespace preflab::core {

// Rows 0..n-1 in batches of `batch`: a new permutation from the run's own generator whenever the
// current one has fewer than `batch` rows left. The same generator also draws each step's noise, so
// a checkpoint saves its state with the permutation and the position (rng.pt, data_order.pt,
// data_state.json) and a resumed run draws exactly what it would have.
class ShuffledBatches {
public:
  ShuffledBatches(std::int64_t rows, std::int64_t batch, std::uint64_t seed);

  torch::Tensor next(); // (batch,) int64 row indices
  at::Generator &generator() { return m_generator; }
  std::int64_t batch() const { return m_batch; }

  void save(const std::string &dir) const;
  // Throws InputError naming the file when the state is missing or does not fit `rows`.
  void load(const std::string &dir);

private:
  std::int64_t m_rows, m_batch;
  at::Generator m_generator;
  torch::Tensor m_order;
  std::int64_t m_cursor;
};

// The process-wide CPU generator (dropout, prompt dropout), saved as global_rng.pt.
void saveGlobalGenerator(const std::string &dir);
void loadGlobalGenerator(const std::string &dir);

} // namespace preflab::core
