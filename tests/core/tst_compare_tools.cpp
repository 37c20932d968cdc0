// Tests the comparison facade: seeded generations, per-token log-ratios, UTF-8 pieces, files, errors.
#include "core/api/run_reader.h"
#include "core/io/input_error.h"
#include "core/jobs/compare_tools.h"
#include "core/tasks/sentiment_oracle.h"
#include "core/text/gpt.h"
#include "core/text/hf_gpt2.h"
#include "core/text/model_store.h"
#include "core/text/sequence_batch.h"
#include "core/text/tokenizer.h"

#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <fstream>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {
GptConfig tinyConfig() {
  GptConfig c;
  c.nLayer = 1;
  c.nHead = 2;
  c.nEmbd = 16;
  c.blockSize = 40;
  c.vocabSize = 257;
  return c;
}

// A random tiny model saved natively under `dir`; different seeds give different weights.
std::string saveTinyModel(const QString &dir, std::uint64_t seed) {
  torch::manual_seed(seed);
  Gpt model(tinyConfig());
  saveNativeModel(model, ByteTokenizer(), dir.toStdString());
  return dir.toStdString();
}

// A model that stops often: constant hidden state pointing at the end-of-text embedding
// (P(EOS) ≈ 9% per token), so samples end by themselves.
std::string saveStoppingModel(const QString &dir) {
  torch::manual_seed(3);
  Gpt model(tinyConfig());
  {
    torch::NoGradGuard g;
    model->wte->weight[ByteTokenizer::kEosId].fill_(1.0);
    model->ln_f->weight.zero_();
    model->ln_f->bias.copy_(model->wte->weight[ByteTokenizer::kEosId] * 0.2);
  }
  saveNativeModel(model, ByteTokenizer(), dir.toStdString());
  return dir.toStdString();
}

CompareRequest request(const std::string &a, const std::string &b) {
  CompareRequest r;
  r.modelA = a;
  r.modelB = b;
  r.prompts = {"the film", "this story", "a movie", "the plot"};
  r.seeds = {11, 12, 13, 14};
  r.sampling.maxNewTokens = 16;
  r.batchSize = 3; // two chunks
  return r;
}

void writeText(const QString &path, const std::string &text) {
  std::ofstream(path.toStdString()) << text;
}
} // namespace

class TestCompareTools : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_modelA = saveTinyModel(m_dir.filePath("a"), 1);
    m_modelB = saveTinyModel(m_dir.filePath("b"), 2);
    m_modelACopy = saveTinyModel(m_dir.filePath("a-copy"), 1);
    m_stopping = saveStoppingModel(m_dir.filePath("stopping"));
  }

  void sameModelGivesSameTextsAndZeroDeltas_data() {
    QTest::addColumn<bool>("copy");
    QTest::newRow("one folder") << false;
    QTest::newRow("two folders, same weights") << true;
  }
  void sameModelGivesSameTextsAndZeroDeltas() {
    QFETCH(bool, copy);
    const auto rows = compareGenerations(request(m_modelA, copy ? m_modelACopy : m_modelA));
    QCOMPARE(rows.size(), std::size_t(4));
    for (const auto &row : rows) {
      QCOMPARE(row.a.text, row.b.text);
      QVERIFY(!row.a.tokens.empty());
      QVERIFY(row.a.score.has_value());
      QCOMPARE(*row.a.score, SentimentOracle::reward(row.a.text));
      for (const auto *side : {&row.a, &row.b})
        for (const auto &t : side->tokens)
          QCOMPARE(t.delta(), 0.0);
    }
    QCOMPARE(rows[2].prompt, std::string("a movie"));
    QCOMPARE(rows[2].seed, std::uint64_t(13));
  }

  void seedsFixTheTextWhateverTheBatch() {
    auto r = request(m_modelA, m_modelB);
    const auto first = compareGenerations(r);
    const auto second = compareGenerations(r);
    auto alone = r;
    alone.prompts = {r.prompts[3]};
    alone.seeds = {r.seeds[3]};
    const auto single = compareGenerations(alone);
    for (std::size_t i = 0; i < first.size(); ++i) {
      QCOMPARE(first[i].a.text, second[i].a.text);
      QCOMPARE(first[i].b.text, second[i].b.text);
    }
    QCOMPARE(single[0].a.text, first[3].a.text);
    QCOMPARE(single[0].b.text, first[3].b.text);
    r.seeds[3] = 99;
    const auto other = compareGenerations(r);
    QVERIFY2(other[3].b.text != first[3].b.text, "another seed should give another sample");
  }

  // Pieces sum to the side's totals, which equal sequenceLogps over prompt ⊕ response (⊕ EOS).
  void pieceLogpsSumToSequenceLogps() {
    auto r = request(m_modelA, m_stopping);
    r.sampling.maxNewTokens = 30;
    const auto rows = compareGenerations(r);
    ByteTokenizer tok;
    std::shared_ptr<Tokenizer> unused;
    CausalLm a = loadModelFolder(m_modelA, &unused), b = loadModelFolder(m_stopping, &unused);
    a->eval();
    b->eval();
    torch::NoGradGuard noGrad;
    int ended = 0;
    for (const auto &row : rows) {
      const auto &side = row.b;
      double sumModel = 0, sumRef = 0;
      for (const auto &t : side.tokens) {
        sumModel += t.logpModel;
        sumRef += t.logpReference;
      }
      QVERIFY(std::abs(sumModel - side.logpModel) < 1e-9);
      auto response = tok.encode(side.text);
      if (!side.tokens.empty() && side.tokens.back().isEnd) {
        response.push_back(tok.eosId());
        ++ended;
      }
      const auto batch = buildSequenceBatch({tok.encode(row.prompt)}, {response}, 40, 39, 0, torch::kCPU);
      const double expectModel = sequenceLogps(b, batch).sum.item<double>();
      const double expectRef = sequenceLogps(a, batch).sum.item<double>(); // the reference is A by default
      QVERIFY2(std::abs(expectModel - side.logpModel) < 1e-4,
               qPrintable(QString("%1 vs %2").arg(expectModel).arg(side.logpModel)));
      QVERIFY(std::abs(expectRef - sumRef) < 1e-4);
      QVERIFY(std::abs(sumRef - side.logpReference) < 1e-9);
      // A's side is coloured against itself: zero everywhere.
      for (const auto &t : row.a.tokens)
        QCOMPARE(t.delta(), 0.0);
    }
    QVERIFY2(ended > 0, "the end-of-text token should have been scored at least once");
  }

  void existingTextsAreScoredNotSampled() {
    auto r = request(m_modelA, m_modelB);
    r.prompts.resize(2);
    r.seeds.resize(2);
    const std::vector<std::string> textsA = {" was good.", " was bad and dull."},
                                   textsB = {" was great!", " is fine"};
    const auto rows = scoreExistingTexts(r, textsA, textsB);
    QCOMPARE(rows.size(), std::size_t(2));
    QCOMPARE(rows[1].a.text, textsA[1]);
    QCOMPARE(rows[0].b.text, textsB[0]);
    QCOMPARE(*rows[1].a.score, SentimentOracle::reward(textsA[1]));
    QCOMPARE(rows[1].a.tokens.size(), textsA[1].size()); // ASCII: one piece per byte, no end token
    r.scorer = "none";
    QVERIFY(!scoreExistingTexts(r, textsA, textsB)[0].b.score.has_value());
    QVERIFY_THROWS_EXCEPTION(InputError, scoreExistingTexts(r, textsA, {"one"}));
  }

  // A reward-model folder as the scorer: its score head on prompt ⊕ response at the last token.
  void rewardModelScorer() {
    torch::manual_seed(5);
    GptConfig c = tinyConfig();
    c.scoreHead = true;
    Gpt rm(c);
    const auto dir = m_dir.filePath("reward-model").toStdString();
    saveNativeModel(rm, ByteTokenizer(), dir);
    auto r = request(m_modelA, m_modelB);
    r.prompts.resize(2);
    r.seeds.resize(2);
    r.scorer = dir;
    const std::vector<std::string> textsA = {" was good.", " was bad."}, textsB = {" was great!", " is fine"};
    const auto rows = scoreExistingTexts(r, textsA, textsB);
    ByteTokenizer tok;
    rm->eval();
    torch::NoGradGuard noGrad;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto batch = buildSequenceBatch({tok.encode(r.prompts[i])}, {tok.encode(textsB[i])}, c.blockSize,
                                            c.blockSize / 2, 0, torch::kCPU);
      const double expected = rm->score(batch.ids, batch.lastIndex).item<double>();
      QVERIFY(rows[i].b.score.has_value());
      QVERIFY2(std::abs(*rows[i].b.score - expected) < 1e-5,
               qPrintable(QString("%1 vs %2").arg(*rows[i].b.score).arg(expected)));
    }
    r.scorer = m_modelA; // no score head
    try {
      scoreExistingTexts(r, textsA, textsB);
      QFAIL("expected InputError");
    } catch (const InputError &e) {
      QVERIFY2(std::string(e.what()).find("score head") != std::string::npos, e.what());
    }
  }

  void cancelStopsBetweenChunks() {
    std::atomic<bool> cancel{false};
    int reports = 0;
    auto r = request(m_modelA, m_modelB);
    const auto rows = compareGenerations(
        r,
        [&](const std::string &stage, double) {
          if (stage == "generating" && ++reports == 1)
            cancel = true;
        },
        &cancel);
    QCOMPARE(rows.size(), std::size_t(3)); // the first chunk of three, then stopped
  }

  void missingFolderIsNamed_data() {
    QTest::addColumn<QString>("which");
    QTest::newRow("model A") << "a";
    QTest::newRow("model B") << "b";
    QTest::newRow("reference") << "ref";
    QTest::newRow("reward model") << "scorer";
  }
  void missingFolderIsNamed() {
    QFETCH(QString, which);
    const std::string missing = m_dir.filePath("no-such-model").toStdString();
    auto r = request(m_modelA, m_modelB);
    if (which == "a")
      r.modelA = missing;
    else if (which == "b")
      r.modelB = missing;
    else if (which == "ref")
      r.referenceDir = missing;
    else
      r.scorer = missing;
    try {
      compareGenerations(r);
      QFAIL("expected InputError");
    } catch (const InputError &e) {
      QVERIFY2(std::string(e.what()).find(missing) != std::string::npos, e.what());
    }
  }

  void badRequestsThrow() {
    auto r = request(m_modelA, m_modelB);
    r.seeds.pop_back();
    QVERIFY_THROWS_EXCEPTION(InputError, compareGenerations(r));
    r = request(m_modelA, m_modelB);
    r.prompts[1].clear();
    QVERIFY_THROWS_EXCEPTION(InputError, compareGenerations(r));
    r = request(m_modelA, m_modelB);
    r.prompts[0] = std::string(60, 'x'); // longer than block_size
    QVERIFY_THROWS_EXCEPTION(InputError, compareGenerations(r));
  }

  void utf8Pieces_data() {
    QTest::addColumn<QByteArrayList>("pieces");
    QTest::addColumn<QStringList>("expected");
    QTest::addColumn<QList<int>>("counts");
    QTest::newRow("ascii") << QByteArrayList{"a", "b"} << QStringList{"a", "b"} << QList<int>{1, 1};
    QTest::newRow("two-byte char split")
        << QByteArrayList{"x", "\xC3", "\xA9", "y"} << QStringList{"x", QString::fromUtf8("é"), "y"}
        << QList<int>{1, 2, 1};
    QTest::newRow("four-byte char split")
        << QByteArrayList{"\xF0", "\x9F", "\x98", "\x80"}
        << QStringList{QString::fromUtf8("\xF0\x9F\x98\x80")} << QList<int>{4};
    QTest::newRow("invalid byte") << QByteArrayList{"a", "\xFF", "b"}
                                  << QStringList{"a", QString(QChar(0xFFFD)), "b"} << QList<int>{1, 1, 1};
    QTest::newRow("lead byte then ascii")
        << QByteArrayList{"\xC3", "a"} << QStringList{QString(QChar(0xFFFD)) + "a"} << QList<int>{2};
    QTest::newRow("truncated at end") << QByteArrayList{"a", "\xE2", "\x82"}
                                      << QStringList{"a", QString(2, QChar(0xFFFD))} << QList<int>{1, 2};
  }
  void utf8Pieces() {
    QFETCH(QByteArrayList, pieces);
    QFETCH(QStringList, expected);
    QFETCH(QList<int>, counts);
    std::vector<TokenDelta> in;
    double total = 0;
    for (int i = 0; i < pieces.size(); ++i) {
      in.push_back({pieces[i].toStdString(), -1.0 - i, -0.5});
      total += -1.0 - i;
    }
    const auto out = mergeUtf8Pieces(in);
    QCOMPARE(int(out.size()), expected.size());
    double sum = 0;
    for (int i = 0; i < expected.size(); ++i) {
      QCOMPARE(QString::fromStdString(out[std::size_t(i)].text), expected[i]);
      QCOMPARE(out[std::size_t(i)].tokenCount, counts[i]);
      sum += out[std::size_t(i)].logpModel;
    }
    QCOMPARE(sum, total);
  }

  void readsEvalSamplesAndRunInfo() {
    const QString samples = m_dir.filePath("eval_samples.jsonl");
    writeText(samples,
              R"({"prompt":"the film","seed":1000003,"policy":" was great.","reference":" was dull.",)"
              R"("reward_policy":0.88,"reward_reference":0.27})"
              "\n\n"
              R"({"prompt":"a movie","seed":1000004,"policy":"","reference":" ok"})"
              "\n");
    const auto s = readEvalSamples(samples.toStdString());
    QCOMPARE(s.size(), std::size_t(2));
    QCOMPARE(s[0].seed, std::uint64_t(1000003));
    QCOMPARE(s[0].policy, std::string(" was great."));
    QCOMPARE(s[0].rewardReference.value_or(-1), 0.27);
    QVERIFY(!s[1].rewardPolicy);
    writeText(samples, "{\"prompt\":\"x\",\"seed\":1}\n{\"prompt\":\"y\"}\n");
    try {
      readEvalSamples(samples.toStdString());
      QFAIL("expected InputError");
    } catch (const InputError &e) {
      QCOMPARE(e.line(), std::int64_t(2));
      QCOMPARE(e.key(), std::string("seed"));
    }
    QDir(m_dir.path()).mkpath("run");
    writeText(
        m_dir.filePath("run/run_info.json"),
        R"({"task":"sentiment","loss_type":"dpo","reference_model":"/x/sft","policy_final":"/x/run/hf"})");
    const auto m = RunReader(m_dir.filePath("run").toStdString()).runInfo();
    QVERIFY(m.has_value());
    QCOMPARE(m->referenceModel, std::string("/x/sft"));
    QCOMPARE(m->policyFinal, std::string("/x/run/hf"));
    QCOMPARE(m->lossType, std::string("dpo"));
    QVERIFY(!RunReader(m_dir.filePath("no-run").toStdString()).runInfo());
  }

  // Regenerates tests/data/ui_compare/model_a and model_b (used by the ui tests, which cannot
  // build models without torch) when PREFLAB_WRITE_UI_COMPARE_MODELS names the target folder.
  void writeUiFixture() {
    const QByteArray target = qgetenv("PREFLAB_WRITE_UI_COMPARE_MODELS");
    if (target.isEmpty())
      QSKIP("set PREFLAB_WRITE_UI_COMPARE_MODELS=<folder> to regenerate the ui test models");
    GptConfig c = tinyConfig();
    c.blockSize = 64;
    for (const auto &[name, seed] : {std::pair<const char *, int>{"model_a", 7}, {"model_b", 8}}) {
      torch::manual_seed(seed);
      Gpt model(c);
      exportHfGpt2(model, ByteTokenizer(), target.toStdString() + "/" + name);
    }
  }

private:
  QTemporaryDir m_dir;
  std::string m_modelA, m_modelB, m_modelACopy, m_stopping;
};

PREFLAB_TEST_MAIN(TestCompareTools)

} // namespace preflab_tests
#include "tst_compare_tools.moc"
