// Data-parallel shards of one CPU batch on threads, with gradients reduced in a fixed order.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <functional>
#include <vector>

namespace preflab::core {

// Splits `count` rows into at most `shards` contiguous, non-empty ranges of near-equal size.
// Returns the start of each range plus `count` at the end (ranges i = [starts[i], starts[i+1])).
std::vector<std::size_t> shardBounds(std::size_t count, int shards);

// Runs fn(0) … fn(n − 1) on n threads at once and joins them; each thread uses one intra-op
// thread, so n shards keep n cores busy even where a matrix product runs on one core (CPU
// `addmm`/`bmm` without MKL). Grad mode is on in every shard. The first exception thrown by any
// shard is rethrown after all have joined. Call from one thread at a time per process.
void runShards(int n, const std::function<void(int)> &fn);

// Gradients of `loss` (a scalar) with respect to `params`, without touching their .grad (an
// unused parameter gets an undefined tensor). Safe to call from several shards at once.
std::vector<torch::Tensor> shardGradients(const torch::Tensor &loss, const std::vector<torch::Tensor> &params);

// Adds the shards' gradients to params' .grad in shard order: the sum is the same bits for a
// given shard count whatever order the threads finished in (autograd's own accumulation into
// .grad from several threads would depend on that order).
void addShardGradients(std::vector<torch::Tensor> &params, const std::vector<std::vector<torch::Tensor>> &grads);

} // namespace preflab::core
