// Tests the reference log-prob stage: its cache key covers the whole model configuration, a
// non-finite reference is refused before anything is cached, and implausible cached values are
// recomputed instead of trusted.
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/text/gpt.h"
#include "core/train/reference_logps.h"

#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <limits>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

GptConfig shape(std::int64_t heads) {
  GptConfig c;
  c.nLayer = 1;
  c.nHead = heads;
  c.nEmbd = 16;
  c.blockSize = 24;
  return c;
}

TokenizedData twoPairs() {
  TokenizedData d;
  d.pairs.push_back({"a", {10, 11}, {12, 256}, {13, 256}, 0.8, {}, {}});
  d.pairs.push_back({"b", {256}, {14, 15, 256}, {16, 256}, 0.6, {}, {}});
  return d;
}

ReferenceOptions options() {
  ReferenceOptions o;
  o.maxLength = 16;
  o.maxPromptLength = 8;
  o.batchSize = 4;
  return o;
}

} // namespace

class TestReferenceLogps : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // n_head changes the forward pass but no parameter shape: the same weights under 2 and 4
  // heads give other log-probs, so they must not share a cache entry.
  void cacheKeyCoversTheWholeConfiguration() {
    torch::manual_seed(3);
    CausalLm two = makeGpt(shape(2)), four = makeGpt(shape(4));
    {
      torch::NoGradGuard noGrad;
      auto from = two->named_parameters();
      for (auto &item : four->named_parameters())
        item.value().copy_(from[item.key()]);
    }
    auto data = twoPairs();
    QVERIFY(referenceCacheKey(two, data, options()) != referenceCacheKey(four, data, options()));
    auto a = twoPairs(), b = twoPairs();
    computeReferenceLogps(two, a, options());
    computeReferenceLogps(four, b, options());
    QVERIFY(*a.pairs[0].refChosen != *b.pairs[0].refChosen); // why the key must differ
    // Dropout does not change an eval-mode forward: the key ignores it.
    auto withDropout = shape(2);
    withDropout.dropout = 0.2;
    CausalLm three = makeGpt(withDropout);
    {
      torch::NoGradGuard noGrad;
      auto from = two->named_parameters();
      for (auto &item : three->named_parameters())
        item.value().copy_(from[item.key()]);
    }
    QCOMPARE(referenceCacheKey(three, data, options()), referenceCacheKey(two, data, options()));
  }

  void nonFiniteReferenceIsRefusedNamingTheExample() {
    CausalLm model = makeGpt(shape(2));
    {
      torch::NoGradGuard noGrad;
      model->named_parameters()["wte.weight"].fill_(std::numeric_limits<float>::quiet_NaN());
    }
    auto data = twoPairs();
    try {
      computeReferenceLogps(model, data, options());
      QFAIL("a NaN reference was accepted");
    } catch (const InputError &e) {
      QVERIFY2(std::string(e.what()).find("example 'a'") != std::string::npos, e.what());
    }
    QVERIFY(!data.pairs[0].refChosen.has_value()); // nothing attached, so nothing can be cached
  }

  void implausibleCachedValuesAreRecomputed_data() {
    QTest::addColumn<QString>("a");
    QTest::newRow("null (a NaN written by an older version)") << "null";
    QTest::newRow("positive") << "3.5";
    QTest::newRow("huge") << "1e6";
    QTest::newRow("a string") << "\"-1\"";
  }
  void implausibleCachedValuesAreRecomputed() {
    QFETCH(QString, a);
    QTemporaryDir tmp;
    const auto dir = tmp.path().toStdString();
    writeFileAtomic(dir + "/reflogps-k.json", "{\"a\": [" + a.toStdString() + ", -2.0], \"b\": [-3.0, -4.0]}");
    auto data = twoPairs();
    QVERIFY(!loadReferenceCache(dir, "k", data));
    writeFileAtomic(dir + "/reflogps-k.json", R"({"a": [-1.0, -2.0], "b": [-3.0, -4.0]})");
    QVERIFY(loadReferenceCache(dir, "k", data));
    QCOMPARE(*data.pairs[1].refRejected, -4.0);
  }

  // Cache files of the wrong shape are recomputed; indexing an object of two keys by position
  // used to throw a type error naming no file.
  void malformedCacheFilesAreRecomputed_data() {
    QTest::addColumn<QString>("text");
    QTest::newRow("objects of two keys") << R"({"a": {"x": -1, "y": -2}, "b": {"x": -3, "y": -4}})";
    QTest::newRow("strings") << R"({"a": "ab", "b": "cd"})";
    QTest::newRow("an array") << "[1, 2]";
    QTest::newRow("truncated") << R"({"a": [-1.0, -2)";
    QTest::newRow("too short") << R"({"a": [-1.0], "b": [-3.0]})";
  }
  void malformedCacheFilesAreRecomputed() {
    QFETCH(QString, text);
    QTemporaryDir tmp;
    const auto dir = tmp.path().toStdString();
    writeFileAtomic(dir + "/reflogps-k.json", text.toStdString());
    auto data = twoPairs();
    QVERIFY(!loadReferenceCache(dir, "k", data));
    QVERIFY(!data.pairs[0].refChosen.has_value());
  }
};

PREFLAB_TEST_MAIN(TestReferenceLogps)

} // namespace preflab_tests
#include "tst_reference_logps.moc"
