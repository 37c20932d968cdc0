// Tests candidates generated for labeling (text: two seeds of one model; images: two seeds per
// caption), prompt lists, and the informativeness of pairs against a direct forward pass.
#include "core/diffusion/diffusion_store.h"
#include "core/diffusion/unet.h"
#include "core/io/input_error.h"
#include "core/io/utf8.h"
#include "core/jobs/label_generation.h"
#include "core/labels/label_store.h"
#include "core/metrics/ranking_analysis.h"
#include "core/text/gpt.h"
#include "core/text/model_store.h"
#include "core/text/tokenizer.h"

#include <torch/torch.h>

#include "tests/core/tiny_runs.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {
std::string saveTinyText(const QString &dir, std::uint64_t seed) {
  GptConfig c;
  c.nLayer = 1;
  c.nHead = 2;
  c.nEmbd = 16;
  c.blockSize = 64;
  c.vocabSize = 257;
  torch::manual_seed(seed);
  Gpt model(c);
  saveNativeModel(model, ByteTokenizer(), dir.toStdString());
  return dir.toStdString();
}

std::string saveTinyDiffusion(const QString &dir) {
  torch::manual_seed(4);
  UNet model(preflab::test::tinyDiffusionConfig(50));
  {
    torch::NoGradGuard g;
    for (auto &p : model->parameters())
      p.add_(torch::randn_like(p) * 0.1);
  }
  saveDiffusionModel(model, dir.toStdString());
  return dir.toStdString();
}

std::vector<nlohmann::json> jsonLines(const std::string &path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(nlohmann::json::parse(line));
  return out;
}

// Σ log p(response | prompt) under `dir`'s model by one plain forward over prompt ⊕ response
// (byte tokens), independent of the batching and masking code under test.
double directLogp(const std::string &dir, const std::string &prompt, const std::string &response) {
  std::shared_ptr<Tokenizer> tok;
  CausalLm m = loadModelFolder(dir, &tok);
  m->eval();
  torch::NoGradGuard g;
  std::vector<std::int64_t> ids;
  for (unsigned char ch : prompt + response)
    ids.push_back(ch);
  const auto x = torch::tensor(ids, torch::kLong).unsqueeze(0);
  const auto logp = torch::log_softmax(m->forward(x), -1)[0];
  double sum = 0;
  for (std::size_t t = prompt.size(); t < ids.size(); ++t)
    sum += logp[std::int64_t(t) - 1][ids[t]].item<double>();
  return sum;
}
} // namespace

class TestLabelGeneration : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_textA = saveTinyText(m_dir.filePath("a"), 1);
    m_textB = saveTinyText(m_dir.filePath("b"), 2);
  }

  // Two samples per prompt with recorded seeds; each side is what one-sided sampling with its
  // seed gives; the file is a candidate file the store imports.
  void textCandidatesUseTwoSeedsPerPrompt() {
    CandidateGenerationRequest r;
    r.model = m_textA;
    r.prompts = {"the film", "this story", "a movie"};
    r.seed = 10;
    r.sampling.maxNewTokens = 12;
    r.batchSize = 2;
    r.out = m_dir.filePath("gen.jsonl").toStdString();
    std::vector<std::string> stages;
    const auto res = generateLabelCandidates(r, [&](const std::string &s, double) { stages.push_back(s); });
    QVERIFY(!res.images);
    QVERIFY(!res.cancelled);
    QCOMPARE(res.items + res.identical, std::int64_t(3));
    QVERIFY(res.items >= 2);
    QVERIFY(std::find(stages.begin(), stages.end(), "generating") != stages.end());
    const auto lines = jsonLines(res.path);
    QCOMPARE(std::int64_t(lines.size()), res.items);
    CompareRequest one;
    one.modelA = one.modelB = m_textA;
    one.scorer = "none";
    one.sampling = r.sampling;
    for (const auto &l : lines) {
      const auto id = l["id"].get<std::string>();
      QVERIFY(id.rfind("gen-", 0) == 0);
      const int i = std::stoi(id.substr(4)) - 1;
      QCOMPARE(l["prompt"].get<std::string>(), r.prompts[std::size_t(i)]);
      QCOMPARE(l["seed_a"].get<std::uint64_t>(), r.seed + 2 * std::uint64_t(i));
      QCOMPARE(l["seed_b"].get<std::uint64_t>(), r.seed + 2 * std::uint64_t(i) + 1);
      QCOMPARE(l["model"].get<std::string>(), m_textA);
      one.prompts = {r.prompts[std::size_t(i)]};
      one.seeds = {l["seed_a"].get<std::uint64_t>()};
      QCOMPARE(l["completion_a"].get<std::string>(), sanitizedUtf8(compareGenerations(one)[0].a.text));
      one.seeds = {l["seed_b"].get<std::uint64_t>()};
      QCOMPARE(l["completion_b"].get<std::string>(), sanitizedUtf8(compareGenerations(one)[0].a.text));
    }
    const auto items = readLabelCandidates(res.path);
    QCOMPARE(std::int64_t(items.size()), res.items);
    QCOMPARE(items[0].kind, std::string("text"));
    // Generating again gives the same file.
    const auto again = m_dir.filePath("gen-again.jsonl").toStdString();
    auto r2 = r;
    r2.out = again;
    generateLabelCandidates(r2);
    const auto other = jsonLines(again);
    QCOMPARE(other.size(), lines.size());
    for (std::size_t k = 0; k < lines.size(); ++k)
      QCOMPARE(other[k]["completion_b"], lines[k]["completion_b"]);
  }

  void cancelledGenerationKeepsWhatWasDone() {
    CandidateGenerationRequest r;
    r.model = m_textA;
    r.prompts = {"one", "two", "three", "four"};
    r.batchSize = 1;
    r.sampling.maxNewTokens = 6;
    r.out = m_dir.filePath("cancel.jsonl").toStdString();
    std::atomic<bool> cancel{false};
    const auto res = generateLabelCandidates(
        r,
        [&](const std::string &stage, double f) {
          if (stage == "generating" && f >= 0.5)
            cancel = true;
        },
        &cancel);
    QVERIFY(res.cancelled);
    QCOMPARE(res.items + res.identical, std::int64_t(2));
    QCOMPARE(std::int64_t(jsonLines(res.path).size()), res.items);
  }

  void badRequestsNameTheProblem() {
    CandidateGenerationRequest r;
    r.model = m_textA;
    r.prompts = {"x"};
    r.out = m_dir.filePath("bad.jsonl").toStdString();
    r.sampling.temperature = 0.0;
    try {
      generateLabelCandidates(r);
      QFAIL("a temperature of 0 should be refused");
    } catch (const InputError &e) {
      QVERIFY(std::string(e.what()).find("temperature") != std::string::npos);
    }
    r.sampling.temperature = 1.0;
    r.model = m_dir.filePath("missing").toStdString();
    QVERIFY_THROWS_EXCEPTION(InputError, generateLabelCandidates(r));
    r.model = m_textA;
    r.prompts = {"ok", ""};
    QVERIFY_THROWS_EXCEPTION(InputError, generateLabelCandidates(r));
    QVERIFY(!std::filesystem::exists(r.out));
  }

  // Two seeds per caption from a diffusion model: PNGs beside the file, read back as image items.
  void imageCandidatesUseTwoSeedsPerCaption() {
    const auto model = saveTinyDiffusion(m_dir.filePath("unet"));
    QVERIFY(isDiffusionModelFolder(model));
    QVERIFY(!isDiffusionModelFolder(m_textA));
    CandidateGenerationRequest r;
    r.model = model;
    r.prompts = builtInLabelPrompts(true, 3, 0);
    QCOMPARE(r.prompts.size(), std::size_t(3));
    r.imageSampling.steps = 3;
    r.seed = 100;
    r.out = m_dir.filePath("pics.jsonl").toStdString();
    const auto res = generateLabelCandidates(r);
    QVERIFY(res.images);
    QCOMPARE(res.items, std::int64_t(3));
    QVERIFY(std::filesystem::is_regular_file(m_dir.filePath("pics-images/pics-1_a.png").toStdString()));
    const auto lines = jsonLines(res.path);
    QCOMPARE(lines[2]["seed_a"].get<std::uint64_t>(), std::uint64_t(104));
    QCOMPARE(lines[2]["caption"].get<std::string>(), r.prompts[2]);
    const auto items = readLabelCandidates(res.path);
    QCOMPARE(items.size(), std::size_t(3));
    QCOMPARE(items[1].kind, std::string("image"));
    LabelStore store(m_dir.filePath("pics.preflab-labels").toStdString());
    QCOMPARE(store.addItems(items).added, std::int64_t(3));
    const auto stored = store.items();
    QVERIFY(stored[0].candidateHash[0] != stored[0].candidateHash[1]);
    // Generating into the same name again would change what the stored items show: refused.
    QVERIFY(std::filesystem::remove(r.out));
    r.seed = 7;
    try {
      generateLabelCandidates(r);
      QFAIL("an existing images folder should be refused");
    } catch (const InputError &e) {
      QVERIFY(std::string(e.what()).find("pics-images") != std::string::npos);
    }
  }

  void promptListsReadTextAndJsonLines() {
    const auto path = m_dir.filePath("prompts.txt").toStdString();
    std::ofstream(path) << "first prompt\r\n\n{\"prompt\": \"second\"}\n{\"caption\": \"a bag\"}\n  \n";
    const auto p = readPromptList(path);
    QCOMPARE(p, (std::vector<std::string>{"first prompt", "second", "a bag"}));
    std::ofstream(path) << "fine\n{\"text\": \"no prompt key\"}\n";
    try {
      readPromptList(path);
      QFAIL("a JSON line without prompt should be refused");
    } catch (const InputError &e) {
      QCOMPARE(e.line(), std::int64_t(2));
    }
    std::ofstream(path) << "\n\n";
    QVERIFY_THROWS_EXCEPTION(InputError, readPromptList(path));
    std::ofstream(path) << "ok\n\xff\xfe bad\n";
    QVERIFY_THROWS_EXCEPTION(InputError, readPromptList(path));
  }

  // margin = β[(logπ − logπ_ref)(w) − (logπ − logπ_ref)(l)], c = logπ_ref(l) − logπ_ref(w),
  // difficulty = softplus(−βc), against log-probs from a plain forward pass.
  void informativenessMatchesDirectLogProbs() {
    std::vector<LabelItem> items(2);
    items[0] = {"p1", "text", "the film", {" was good", " was dull"}, "x", 1};
    items[1] = {"p2", "text", "a plot", {" is fine", " is a mess!"}, "x", 2};
    InformativenessRequest r;
    r.policy = m_textA;
    r.reference = m_textB;
    r.beta = 0.5;
    const auto s = scoreInformativeness(r, items, {true, false});
    QCOMPARE(s.size(), std::size_t(2));
    for (std::size_t i = 0; i < 2; ++i) {
      const auto &w = items[i].candidates[i == 0 ? 0 : 1];
      const auto &l = items[i].candidates[i == 0 ? 1 : 0];
      const double pw = directLogp(m_textA, items[i].prompt, w), pl = directLogp(m_textA, items[i].prompt, l);
      const double rw = directLogp(m_textB, items[i].prompt, w), rl = directLogp(m_textB, items[i].prompt, l);
      const double margin = 0.5 * ((pw - rw) - (pl - rl));
      QVERIFY2(std::abs(s[i].margin - margin) < 1e-4,
               qPrintable(QString("%1 vs %2").arg(s[i].margin).arg(margin)));
      QVERIFY(std::abs(s[i].c - (rl - rw)) < 1e-4);
      QVERIFY(std::abs(s[i].difficulty - std::log1p(std::exp(-0.5 * (rl - rw)))) < 1e-6);
    }
    // The policy as its own reference has no opinion: every margin is 0.
    r.reference.clear();
    for (const auto &x : scoreInformativeness(r, items, {true, true}))
      QCOMPARE(x.margin, 0.0);
    // A prompt the models cannot take is set aside with its reason; the others are scored.
    items.push_back({"p3", "text", "", {" a", " b"}, "x", 3});
    items.push_back({"p4", "text", std::string(80, 'x'), {" a", " b"}, "x", 4}); // past 64 positions
    const auto some = scoreInformativeness(r, items, {true, true, true, true});
    QCOMPARE(some.size(), std::size_t(4));
    QVERIFY(some[0].scored() && some[1].scored());
    QVERIFY2(some[2].error.find("p3: empty prompt") != std::string::npos, some[2].error.c_str());
    QVERIFY2(some[3].error.find("p4") != std::string::npos &&
                 some[3].error.find("tokens") != std::string::npos,
             some[3].error.c_str());
    items[1].kind = "image";
    QVERIFY_THROWS_EXCEPTION(InputError, scoreInformativeness(r, items, {true, true, true, true}));
  }

  // The presumed winner follows the majority where it says second.
  void presumedWinnerFollowsTheMajority() {
    LabelStore store(m_dir.filePath("winners.preflab-labels").toStdString());
    std::vector<LabelItem> items(3);
    for (int i = 0; i < 3; ++i)
      items[std::size_t(i)] = {"w" + std::to_string(i),        "text", "p",
                               {"a" + std::to_string(i), "b"}, "x",    i + 1};
    store.addItems(items);
    const auto stored = store.items();
    store.decide(stored[0].key, "ann", LabelChoice::Second, false);
    store.decide(stored[1].key, "ann", LabelChoice::First, false);
    store.decide(stored[2].key, "ann", LabelChoice::Tie, false);
    QCOMPARE(presumedFirstWins(stored, store.currentDecisions()), (std::vector<bool>{false, true, true}));
  }

private:
  QTemporaryDir m_dir;
  std::string m_textA, m_textB;
};

PREFLAB_TEST_MAIN(TestLabelGeneration)

} // namespace preflab_tests
#include "tst_label_generation.moc"
