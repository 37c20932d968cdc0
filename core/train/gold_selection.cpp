// Gold selection for online rounds: least-confident or random pairs, and the replay window.
#include "core/train/gold_selection.h"

#include "core/io/input_error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace preflab::core {

GoldSelection goldSelectionNamed(const std::string &name) {
  if (name == "confidence")
    return GoldSelection::Confidence;
  if (name == "random")
    return GoldSelection::Random;
  throw InputError({}, 0, "d2po.gold_selection", "is '" + name + "', must be confidence or random");
}

std::vector<std::size_t> selectForGold(const std::vector<double> &scoreA, const std::vector<double> &scoreB,
                                       std::size_t quota, GoldSelection mode, std::uint64_t seed) {
  const auto n = std::min(scoreA.size(), scoreB.size());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (mode == GoldSelection::Confidence) {
    std::stable_sort(order.begin(), order.end(), [&](std::size_t i, std::size_t j) {
      return std::abs(scoreA[i] - scoreB[i]) < std::abs(scoreA[j] - scoreB[j]);
    });
  } else {
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
  }
  order.resize(std::min(quota, n));
  return order;
}

BufferRange replayRange(std::size_t bufferSize, std::size_t fresh, std::size_t replay) {
  fresh = std::min(fresh, bufferSize);
  const auto freshStart = bufferSize - fresh;
  return {freshStart - std::min(replay, freshStart), bufferSize};
}

std::vector<std::size_t> poolStream(std::size_t pool, std::size_t first, std::size_t count,
                                    std::uint64_t runSeed, std::uint64_t salt) {
  std::vector<std::size_t> out, order;
  std::size_t orderPass = ~std::size_t(0);
  for (auto k = first; k < first + count; ++k) {
    const auto pass = k / pool;
    if (pass != orderPass) {
      order.resize(pool);
      std::iota(order.begin(), order.end(), 0);
      std::mt19937_64 rng(roundSeed(runSeed, pass, salt));
      std::shuffle(order.begin(), order.end(), rng);
      orderPass = pass;
    }
    out.push_back(order[k % pool]);
  }
  return out;
}

std::uint64_t roundSeed(std::uint64_t runSeed, std::uint64_t round, std::uint64_t index) {
  auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  };
  return mix(mix(mix(runSeed) ^ round) ^ index);
}

} // namespace preflab::core
