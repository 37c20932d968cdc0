// Which sampled pairs get gold labels in an online round, and which earlier gold pairs a
// discriminator update replays. Torch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace preflab::core {

enum class GoldSelection { Confidence, Random };

// "confidence" or "random"; throws InputError (key d2po.gold_selection) otherwise.
GoldSelection goldSelectionNamed(const std::string &name);

// Up to `quota` pair indices for gold labels, given the discriminator's scores of both sides:
// Confidence takes the pairs with the smallest |scoreA − scoreB| first (the discriminator is
// least sure of them; equal gaps in index order), Random a uniform draw without replacement
// seeded by `seed`. Indices in the order chosen.
std::vector<std::size_t> selectForGold(const std::vector<double> &scoreA, const std::vector<double> &scoreB,
                                       std::size_t quota, GoldSelection mode, std::uint64_t seed);

// The rows [first, last) of a gold buffer (oldest first) that one discriminator update trains
// on: the `fresh` newest, and up to `replay` gold pairs from before them.
struct BufferRange {
  std::size_t first = 0, last = 0;
};
BufferRange replayRange(std::size_t bufferSize, std::size_t fresh, std::size_t replay);

// Positions [first, first + count) of an endless stream over 0..pool-1 that visits the whole pool
// once per pass, each pass in its own order (shuffled by a generator seeded with
// roundSeed(runSeed, pass, salt)): which prompts an online round or a mixing iteration takes, a
// pure function of its position. pool must be > 0.
std::vector<std::size_t> poolStream(std::size_t pool, std::size_t first, std::size_t count,
                                    std::uint64_t runSeed, std::uint64_t salt);

// A seed for one draw of an online run: mixes the run's seed with a round and an index so that
// nearby inputs give unrelated seeds (splitmix64).
std::uint64_t roundSeed(std::uint64_t runSeed, std::uint64_t round, std::uint64_t index);

// A sampling seed of an online run (D2PO rounds, WRO steps): roundSeed with the top bit clear.
// The embedded task's evaluation seeds have it set, so training never draws the evaluation's samples.
inline std::uint64_t onlineSampleSeed(std::uint64_t runSeed, std::uint64_t round, std::uint64_t index) {
  return roundSeed(runSeed, round, index) >> 1;
}

} // namespace preflab::core
