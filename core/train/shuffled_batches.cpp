// ShuffledBatches: permutation batches and their checkpoint files.
#include "core/train/shuffled_batches.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace preflab::core {

ShuffledBatches::ShuffledBatches(std::int64_t rows, std::int64_t batch, std::uint64_t seed)
    : m_rows(rows), m_batch(std::min(batch, rows)), m_generator(at::detail::createCPUGenerator(seed)),
      m_cursor(rows) {}

torch::Tensor ShuffledBatches::next() {
  if (m_cursor + m_batch > m_rows) {
    m_order = torch::randperm(m_rows, m_generator, torch::kInt64);
    m_cursor = 0;
  }
  const auto index = m_order.slice(0, m_cursor, m_cursor + m_batch);
  m_cursor += m_batch;
  return index;
}

void ShuffledBatches::save(const std::string &dir) const {
  torch::save(m_generator.get_state(), dir + "/rng.pt");
  if (m_order.defined())
    torch::save(m_order, dir + "/data_order.pt");
  writeFileAtomic(dir + "/data_state.json",
                  nlohmann::json{{"cursor", m_cursor}, {"rows", m_rows}}.dump() + "\n");
}

void ShuffledBatches::load(const std::string &dir) {
  const auto statePath = dir + "/data_state.json";
  const auto state = nlohmann::json::parse(readFile(statePath), nullptr, false);
  if (!state.is_object() || !state.contains("cursor") || !state["cursor"].is_number_integer())
    throw InputError(statePath, 0, "cursor", "missing or not an integer");
  if (state.contains("rows") && state["rows"] != m_rows)
    throw InputError(statePath, 0, "rows",
                     "the checkpoint was trained on " + state["rows"].dump() + " rows, this run has " +
                         std::to_string(m_rows) + " (was the training data changed?)");
  torch::Tensor generatorState;
  torch::load(generatorState, dir + "/rng.pt");
  m_generator.set_state(generatorState);
  m_cursor = state["cursor"].get<std::int64_t>();
  if (std::filesystem::exists(dir + "/data_order.pt"))
    torch::load(m_order, dir + "/data_order.pt");
  if (m_cursor + m_batch <= m_rows && (!m_order.defined() || m_order.numel() != m_rows))
    throw InputError(dir + "/data_order.pt", 0, {},
                     "missing or does not fit " + std::to_string(m_rows) + " rows");
}

void saveGlobalGenerator(const std::string &dir) {
  torch::save(at::detail::getDefaultCPUGenerator().get_state(), dir + "/global_rng.pt");
}

void loadGlobalGenerator(const std::string &dir) {
  torch::Tensor state;
  torch::load(state, dir + "/global_rng.pt");
  auto global = at::detail::getDefaultCPUGenerator();
  global.set_state(state);
}

} // namespace preflab::core
