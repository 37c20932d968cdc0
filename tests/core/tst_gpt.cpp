// Tests the GPT model, sequence batches and sampling: masks by construction, KV cache, seeds.
#include "core/text/gpt.h"
#include "core/text/sampler.h"
#include "core/text/sequence_batch.h"
#include "core/text/tokenizer.h"

#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {
GptConfig tinyConfig() {
  GptConfig c;
  c.nLayer = 2;
  c.nHead = 2;
  c.nEmbd = 16;
  c.blockSize = 24;
  c.vocabSize = 257;
  return c;
}
} // namespace

class TestGpt : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { torch::manual_seed(1); }

  void logitsShapeAndCausality() {
    Gpt model(tinyConfig());
    model->eval();
    torch::NoGradGuard g;
    auto a = torch::randint(0, 257, {2, 10}, torch::kLong);
    auto b = a.clone();
    b.index_put_({torch::indexing::Slice(), 7}, (a.index({torch::indexing::Slice(), 7}) + 1) % 257);
    auto la = model->forward(a), lb = model->forward(b);
    QCOMPARE(la.sizes().vec(), (std::vector<std::int64_t>{2, 10, 257}));
    // Changing token 7 must not change logits before position 7 (causal mask), and must after.
    QVERIFY(torch::allclose(la.narrow(1, 0, 7), lb.narrow(1, 0, 7)));
    QVERIFY(!torch::allclose(la.narrow(1, 7, 3), lb.narrow(1, 7, 3)));
  }

  void blockSizeIsEnforced() {
    Gpt model(tinyConfig());
    QVERIFY_THROWS_EXCEPTION(c10::Error, model->forward(torch::zeros({1, 25}, torch::kLong)));
  }

  void kvCacheMatchesFullForward() {
    Gpt model(tinyConfig());
    model->eval();
    torch::NoGradGuard g;
    auto ids = torch::randint(0, 257, {3, 12}, torch::kLong);
    auto full = model->forward(ids);
    KvCache cache;
    auto first = model->forwardCached(ids.narrow(1, 0, 5), cache);
    std::vector<torch::Tensor> steps = {first};
    for (int t = 5; t < 12; ++t)
      steps.push_back(model->forwardCached(ids.narrow(1, t, 1), cache));
    QCOMPARE(cache.length, std::int64_t(12));
    QVERIFY(torch::allclose(torch::cat(steps, 1), full, 1e-5, 1e-5));
  }

  void maskIsBuiltByConstruction() {
    auto batch = buildSequenceBatch({{1, 2, 3}, {4}}, {{5, 6}, {7, 8, 9}}, 16, 8, 0, torch::kCPU);
    QCOMPARE(batch.ids.sizes().vec(), (std::vector<std::int64_t>{2, 5}));
    // Row 0: prompt 1 2 3, response 5 6: labels at positions 2 and 3 (predicting ids[3], ids[4]).
    auto m = batch.labelMask;
    QCOMPARE(m[0].sum().item<float>(), 2.0f);
    QCOMPARE(m[0][2].item<float>(), 1.0f);
    QCOMPARE(m[0][1].item<float>(), 0.0f);
    QCOMPARE(m[1].sum().item<float>(), 3.0f);
    QCOMPARE(m[1][0].item<float>(), 1.0f);
    QCOMPARE(batch.lengths[1].item<float>(), 3.0f);
    QCOMPARE(batch.lastIndex[0].item<std::int64_t>(), std::int64_t(4));
  }

  void sequenceLogpsEqualManualSum() {
    Gpt model(tinyConfig());
    model->eval();
    torch::NoGradGuard g;
    TokenIds prompt = {10, 11, 12}, response = {13, 14};
    auto batch = buildSequenceBatch({prompt}, {response}, 16, 8, 0, torch::kCPU);
    auto lp = sequenceLogps(model, batch);
    auto logits = torch::log_softmax(model->forward(batch.ids), -1);
    const double manual = logits[0][2][13].item<double>() + logits[0][3][14].item<double>();
    QVERIFY(std::abs(lp.sum.item<double>() - manual) < 1e-5);
    QVERIFY(std::abs(lp.mean.item<double>() - manual / 2) < 1e-5);
  }

  // Scoring at a temperature gives the log-probs of softmax(z / T), what sampling at T draws from.
  void temperedLogpsAreTheSamplingDistribution() {
    Gpt model(tinyConfig());
    model->eval();
    torch::NoGradGuard g;
    auto batch = buildSequenceBatch({{10, 11, 12}}, {{13, 14}}, 16, 8, 0, torch::kCPU);
    const auto lp = sequenceLogps(model, batch, 0.7);
    auto logits = torch::log_softmax(model->forward(batch.ids) / 0.7, -1);
    const double manual = logits[0][2][13].item<double>() + logits[0][3][14].item<double>();
    QVERIFY(std::abs(lp.sum.item<double>() - manual) < 1e-5);
    QVERIFY(std::abs(sequenceLogps(model, batch).sum.item<double>() - manual) > 1e-3); // T matters
  }

  void truncationKeepsTheResponse() {
    TokenIds prompt(20, 1), response(20, 2);
    truncateToFit(prompt, response, 16, 6);
    QCOMPARE(prompt.size(), std::size_t(6));
    QCOMPARE(response.size(), std::size_t(10));
    // As TRL does: the prompt is cut to max_prompt_length first (never below what leaves one
    // response token), then the response is cut to fit.
    TokenIds p2(30, 1), r2(3, 2);
    truncateToFit(p2, r2, 16, 20);
    QCOMPARE(p2.size(), std::size_t(15));
    QCOMPARE(r2.size(), std::size_t(1));
    TokenIds p3(5, 1), r3(3, 2);
    truncateToFit(p3, r3, 16, 4);
    QCOMPARE(p3.size() + r3.size(), std::size_t(8)); // fits: untouched
  }

  void emptyPromptIsConditionedOnEos() {
    ByteTokenizer tok;
    QCOMPARE(encodePrompt(tok, ""), (TokenIds{ByteTokenizer::kEosId}));
    QCOMPARE(encodePrompt(tok, "hi"), (TokenIds{104, 105}));
    // An empty prompt never reaches a batch: its first label would sit before the row.
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             buildSequenceBatch({{1, 2}, {}}, {{5}, {6}}, 16, 8, 0, torch::kCPU));
    // Truncation keeps at least one prompt token, even with max_prompt_length 0.
    TokenIds p(5, 1), r(20, 2);
    truncateToFit(p, r, 8, 0);
    QCOMPARE(p.size(), std::size_t(1));
    QCOMPARE(r.size(), std::size_t(7));
    // Scoring an EOS-conditioned row predicts every response token, and only those.
    auto batch = buildSequenceBatch({{1, 2, 3}, encodePrompt(tok, "")}, {{5, 6}, {7, 8}}, 16, 8, 0, torch::kCPU);
    QCOMPARE(batch.labelMask[1].sum().item<float>(), 2.0f);
    QCOMPARE(batch.labelMask[1][0].item<float>(), 1.0f);
    QCOMPARE(batch.labelMask[0].sum().item<float>(), 2.0f); // row 0 unchanged by row 1
  }

  void samplingIsDeterministicPerSeed() {
    Gpt model(tinyConfig());
    ByteTokenizer tok;
    SamplingOptions o;
    o.maxNewTokens = 8;
    auto p = tok.encode("ab");
    auto alone = generate(model, {p}, {42}, o, tok.eosId());
    auto batched = generate(model, {tok.encode("xyz"), p, p}, {7, 42, 43}, o, tok.eosId());
    QCOMPARE(alone[0], batched[1]); // same (prompt, seed), whatever else is in the batch
    QVERIFY(batched[1] != batched[2] || batched[1].empty());
    QVERIFY(alone[0].size() <= 8);
  }

  void greedySamplingFollowsArgmax() {
    Gpt model(tinyConfig());
    model->eval();
    SamplingOptions o;
    o.temperature = 0;
    o.maxNewTokens = 3;
    auto out = generate(model, {{5, 6}}, {0}, o, -1);
    torch::NoGradGuard g;
    auto first =
        model->forward(torch::tensor({5, 6}, torch::kLong).unsqueeze(0))[0][1].argmax().item<std::int64_t>();
    QCOMPARE(out[0].size(), std::size_t(3));
    QCOMPARE(out[0][0], first);
  }

  void byteTokenizerRoundTrip() {
    ByteTokenizer tok;
    const std::string text = "caf\xc3\xa9 \x01";
    QCOMPARE(tok.decode(tok.encode(text)), text);
    QCOMPARE(tok.decode({104, 256, 105}), std::string("hi"));
    QCOMPARE(tokenizerFromDescription(tok.describe())->vocabSize(), std::int64_t(257));
  }

  void cloneIsIndependent() {
    Gpt model(tinyConfig());
    auto copy = cloneGpt(model);
    {
      torch::NoGradGuard g;
      model->wte->weight.add_(1.0);
    }
    QVERIFY(!torch::allclose(model->wte->weight, copy->wte->weight));
  }
};

PREFLAB_TEST_MAIN(TestGpt)

} // namespace preflab_tests
#include "tst_gpt.moc"
