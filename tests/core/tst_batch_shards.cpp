// Tests data-parallel batch shards: bounds, one intra-op thread per shard, errors, exact reduction.
#include "core/objectives/objective.h"
#include "core/text/gpt.h"
#include "core/text/sequence_batch.h"
#include "core/train/batch_shards.h"

#include <ATen/Parallel.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <atomic>
#include <stdexcept>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

// DPO loss of pairs [begin, end) of a fixed random batch, weighted by their share of `total`.
torch::Tensor pairLoss(Gpt &policy, const std::vector<TokenIds> &prompts, const std::vector<TokenIds> &chosen,
                       const std::vector<TokenIds> &rejected, std::size_t begin, std::size_t end,
                       std::size_t total) {
  std::vector<TokenIds> p, r;
  for (std::size_t i = begin; i < end; ++i) {
    p.push_back(prompts[i]);
    r.push_back(chosen[i]);
  }
  for (std::size_t i = begin; i < end; ++i) {
    p.push_back(prompts[i]);
    r.push_back(rejected[i]);
  }
  const auto batch = buildSequenceBatch(p, r, 24, 12, 0, torch::kCPU);
  const auto n = std::int64_t(end - begin);
  auto lp = sequenceLogps(policy, batch);
  ObjectiveInputs in;
  in.policyChosen = lp.sum.narrow(0, 0, n);
  in.policyRejected = lp.sum.narrow(0, n, n);
  in.policyChosenMean = lp.mean.narrow(0, 0, n);
  in.policyRejectedMean = lp.mean.narrow(0, n, n);
  in.lenChosen = batch.lengths.narrow(0, 0, n);
  in.lenRejected = batch.lengths.narrow(0, n, n);
  in.refChosen = torch::full({n}, -20.0);
  in.refRejected = torch::full({n}, -21.0);
  ObjectiveParams params = preflab::core::defaultObjectiveParams(preflab::core::objectiveInfo("dpo"));
  params.set("beta", 0.5);
  return objectiveFunction("dpo")(in, params).loss * (double(n) / double(total));
}

} // namespace

class TestBatchShards : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void bounds_data() {
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("shards");
    QTest::addColumn<std::vector<std::size_t>>("expected");
    QTest::newRow("even split") << 8 << 2 << std::vector<std::size_t>{0, 4, 8};
    QTest::newRow("uneven split") << 7 << 3 << std::vector<std::size_t>{0, 2, 4, 7};
    QTest::newRow("more shards than rows") << 2 << 4 << std::vector<std::size_t>{0, 1, 2};
    QTest::newRow("one shard") << 5 << 1 << std::vector<std::size_t>{0, 5};
    QTest::newRow("zero shards means one") << 5 << 0 << std::vector<std::size_t>{0, 5};
  }
  void bounds() {
    QFETCH(int, count);
    QFETCH(int, shards);
    QFETCH(std::vector<std::size_t>, expected);
    QCOMPARE(shardBounds(std::size_t(count), shards), expected);
  }

  void eachShardUsesOneIntraOpThread() {
    at::set_num_threads(2);
    std::atomic<int> maxSeen{0}, calls{0};
    runShards(2, [&](int) {
      ++calls;
      int n = at::get_num_threads();
      int seen = maxSeen.load();
      while (n > seen && !maxSeen.compare_exchange_weak(seen, n)) {
      }
      QVERIFY(torch::GradMode::is_enabled());
    });
    QCOMPARE(calls.load(), 2);
    QCOMPARE(maxSeen.load(), 1);
    QCOMPARE(at::get_num_threads(), 2); // the caller's own setting is untouched
  }

  void aShardsErrorReachesTheCaller() {
    std::atomic<int> finished{0};
    bool thrown = false;
    try {
      runShards(3, [&](int s) {
        if (s == 1)
          throw std::runtime_error("shard one failed");
        ++finished;
      });
    } catch (const std::runtime_error &e) {
      thrown = QString(e.what()) == "shard one failed";
    }
    QVERIFY(thrown);
    QCOMPARE(finished.load(), 2); // the other shards ran to the end before the rethrow
  }

  // Gradients summed over shards equal the gradient of the whole batch, and repeat exactly.
  void shardedGradientsMatchTheWholeBatch() {
    torch::manual_seed(7);
    GptConfig config;
    config.nLayer = 1;
    config.nHead = 2;
    config.nEmbd = 16;
    config.blockSize = 24;
    config.vocabSize = 257;
    Gpt policy(config);
    std::vector<TokenIds> prompts, chosen, rejected;
    for (int i = 0; i < 6; ++i) {
      auto draw = [&](int n) {
        auto t = torch::randint(0, 256, {n}, torch::kInt64);
        return TokenIds(t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + n);
      };
      prompts.push_back(draw(5 + i % 3));
      chosen.push_back(draw(8 + i % 4));
      rejected.push_back(draw(6 + i % 5));
    }
    auto params = policy->parameters();
    for (auto &p : params)
      p.mutable_grad() = torch::Tensor();
    pairLoss(policy, prompts, chosen, rejected, 0, 6, 6).backward();
    std::vector<torch::Tensor> whole;
    for (auto &p : params)
      whole.push_back(p.grad().clone());

    auto sharded = [&] {
      for (auto &p : params)
        p.mutable_grad() = torch::Tensor();
      const auto b = shardBounds(6, 3);
      std::vector<std::vector<torch::Tensor>> grads(3);
      runShards(3, [&](int s) {
        grads[s] = shardGradients(pairLoss(policy, prompts, chosen, rejected, b[s], b[s + 1], 6), params);
      });
      addShardGradients(params, grads);
      std::vector<torch::Tensor> out;
      for (auto &p : params)
        out.push_back(p.grad().clone());
      return out;
    };
    const auto first = sharded(), second = sharded();
    for (std::size_t i = 0; i < params.size(); ++i) {
      QVERIFY2(torch::allclose(first[i], whole[i], 1e-4, 1e-6), ("parameter " + std::to_string(i)).c_str());
      QVERIFY2(torch::equal(first[i], second[i]), ("not repeatable: parameter " + std::to_string(i)).c_str());
    }
  }
};

PREFLAB_TEST_MAIN(TestBatchShards)

} // namespace preflab_tests
#include "tst_batch_shards.moc"
