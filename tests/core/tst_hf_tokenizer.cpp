// Hugging Face tokenizer.json files: PrefLab's ids against the ids of Hugging Face's own
// tokenizers library (tests/data/tokenizers/make_reference.js), and the errors for bad files.
#include "core/io/atomic_file.h"
#include "core/io/gzip_input.h"
#include "core/io/input_error.h"
#include "core/text/hf_tokenizer.h"
#include "core/text/tokenizer_files.h"

#include "tests/core/test_files.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <fstream>
#include <sstream>

namespace preflab_tests {

using namespace preflab::core;
using preflab::test::inputErrorOf;
using preflab::test::nonEmptyLines;

namespace {

const std::string kDir = PREFLAB_TEST_DATA_DIR "/tokenizers";

nlohmann::json baseFile(const std::string &name) {
  return nlohmann::json::parse(readPossiblyCompressedFile(kDir + "/" + name + ".tokenizer.json.gz"));
}

// A file of the directory, or a variant: a base file with some top-level keys ("set") and some
// model keys ("model") replaced.
nlohmann::json tokenizerJson(const std::string &name) {
  const auto variants = nlohmann::json::parse(readFile(kDir + "/variants.json"));
  for (const auto &v : variants)
    if (v["name"] == name) {
      auto j = baseFile(v["base"].get<std::string>());
      if (v.contains("set"))
        j.update(v["set"]);
      if (v.contains("model"))
        j["model"].update(v["model"]);
      return j;
    }
  return baseFile(name);
}

} // namespace

class TestHfTokenizer : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // Every text of texts.jsonl (whitespace runs, CR/LF, emoji with ZWJ, CJK, combining marks,
  // U+2028, a BOM, special tokens inside text, real HH-RLHF turns): the same ids as tokenizers
  // gives, with and without the post-processor's special tokens, and the same decoded text.
  void matchesHuggingFaceIds_data() {
    QTest::addColumn<QString>("name");
    for (const char *name : {"gpt2", "qwen3-cut", "llama3-style", "mistral", "mistral-normalizers",
                             "mistral-splits", "gpt2-prefix-space"})
      QTest::newRow(name) << name;
  }
  void matchesHuggingFaceIds() {
    QFETCH(QString, name);
    const HfTokenizer tokenizer(tokenizerJson(name.toStdString()));
    const auto texts = nonEmptyLines(kDir + "/texts.jsonl");
    const auto reference = nonEmptyLines(kDir + "/" + name.toStdString() + ".reference.jsonl");
    QCOMPARE(reference.size(), texts.size());
    QVERIFY(texts.size() >= 50);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const auto text = nlohmann::json::parse(texts[i])["text"].get<std::string>();
      const auto ref = nlohmann::json::parse(reference[i]);
      const auto row = "text " + std::to_string(i + 1) + ": " + text.substr(0, 40);
      const auto ids = tokenizer.encode(text);
      QVERIFY2(nlohmann::json(ids) == ref["ids"], (row + "\n got " + nlohmann::json(ids).dump()).c_str());
      QVERIFY2(nlohmann::json(tokenizer.encodeWithSpecialTokens(text)) == ref["ids_special"], row.c_str());
      QVERIFY2(tokenizer.decodeTokens(ids, false) == ref["decoded"].get<std::string>(), row.c_str());
    }
  }

  // GPT-2's vocab.json + merges.txt, as older folders ship it: the ids of its tokenizer.json.
  void vocabAndMergesFolder() {
    QTemporaryDir tmp;
    const auto dir = tmp.path().toStdString();
    const auto j = baseFile("gpt2");
    writeFileAtomic(dir + "/vocab.json", j["model"]["vocab"].dump());
    std::ostringstream merges;
    merges << "#version: 0.2\n";
    for (const auto &m : j["model"]["merges"])
      merges << (m.is_array() ? m[0].get<std::string>() + " " + m[1].get<std::string>()
                              : m.get<std::string>())
             << "\n";
    writeFileAtomic(dir + "/merges.txt", merges.str());
    const auto tokenizer = loadTokenizer(dir);
    QCOMPARE(tokenizer->eosId(), std::int64_t(50256));
    QCOMPARE(tokenizer->vocabSize(), std::int64_t(50257));
    const auto texts = nonEmptyLines(kDir + "/texts.jsonl");
    const auto reference = nonEmptyLines(kDir + "/gpt2.reference.jsonl");
    for (std::size_t i = 0; i < texts.size(); ++i)
      QVERIFY2(
          nlohmann::json(tokenizer->encode(nlohmann::json::parse(texts[i])["text"].get<std::string>())) ==
              nlohmann::json::parse(reference[i])["ids"],
          texts[i].c_str());
  }

  // The special tokens' roles come from tokenizer_config.json beside the file.
  void specialTokensFromTheConfig() {
    QTemporaryDir tmp;
    const auto dir = tmp.path().toStdString();
    writeFileAtomic(dir + "/tokenizer.json", tokenizerJson("mistral").dump());
    QCOMPARE(loadTokenizer(dir)->eosId(), std::int64_t(2)); // "</s>" by its usual name
    QVERIFY(!loadTokenizer(dir)->bosId());
    writeFileAtomic(dir + "/tokenizer_config.json",
                    R"({"bos_token": {"content": "<s>"}, "eos_token": "<unk>"})");
    const auto t = loadTokenizer(dir + "/tokenizer.json");
    QCOMPARE(t->eosId(), std::int64_t(0));
    QCOMPARE(t->bosId().value_or(-1), std::int64_t(1));
    QCOMPARE(t->idToToken(1).value_or(""), std::string("<s>"));
  }

  // Unsupported or malformed files: the file and the key path, never a crash or a silent
  // fallback.
  void badFilesNameTheKey_data() {
    QTest::addColumn<QString>("patch");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown pre-tokenizer")
        << R"({"pre_tokenizer": {"type": "Whitespace"}})"
        << "key 'pre_tokenizer.type': pre-tokenizer 'Whitespace' is not supported";
    QTest::newRow("in a sequence")
        << R"({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "Nope"}]}})"
        << "key 'pre_tokenizer.pretokenizers[1].type'";
    QTest::newRow("unigram model") << R"({"model": {"type": "Unigram", "vocab": []}})"
                                   << "key 'model.type': model 'Unigram' is not supported (supported: BPE)";
    // (written without a raw string: moc's lexer loses its place inside R"(...(["...)")
    QTest::newRow("bad regex")
        << "{\"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"Regex\": \"([\"}, \"content\": \"\"}}"
        << "key 'normalizer.pattern': regular expression '([' does not compile";
    QTest::newRow("bad behaviour")
        << R"({"pre_tokenizer": {"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"}})"
        << "key 'pre_tokenizer.behavior': unknown split behaviour 'Sideways'";
    QTest::newRow("decoder field type")
        << R"({"decoder": {"type": "Strip", "content": " ", "start": "one", "stop": 0}})"
        << "key 'decoder.start'";
    QTest::newRow("added token id") << R"({"added_tokens": [{"id": "x", "content": "a"}]})"
                                    << "key 'added_tokens[0].id'";
    QTest::newRow("dropout") << R"({"model": {"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}})"
                             << "key 'model.dropout'";
  }
  void badFilesNameTheKey() {
    QFETCH(QString, patch);
    QFETCH(QString, expected);
    QTemporaryDir tmp;
    const auto file = tmp.filePath("tokenizer.json").toStdString();
    auto j = tokenizerJson("mistral");
    j.update(nlohmann::json::parse(patch.toStdString()));
    writeFileAtomic(file, j.dump());
    const auto what = inputErrorOf([&] { loadTokenizer(file); });
    QVERIFY2(what.find(file) == 0 && what.find(expected.toStdString()) != std::string::npos, what.c_str());
  }

  void mergeOutsideTheVocabulary() {
    auto j = tokenizerJson("mistral");
    j["model"]["merges"].push_back("zzqq xxyy");
    const auto what = inputErrorOf([&] { HfTokenizer t(j); });
    QVERIFY2(what.find("key 'model': merge 58980 ('zzqq' 'xxyy')") != std::string::npos, what.c_str());
  }

  void filesThatAreNoTokenizer() {
    QTemporaryDir tmp;
    const auto dir = tmp.path().toStdString();
    QVERIFY(inputErrorOf([&] { loadTokenizer(dir); }).find("no tokenizer here") != std::string::npos);
    writeFileAtomic(dir + "/tokenizer.json", "{\"model\": ");
    QVERIFY(inputErrorOf([&] { loadTokenizer(dir); }).find(dir + "/tokenizer.json: invalid JSON") == 0);
    writeFileAtomic(dir + "/t.model", "not protobuf");
    QVERIFY(inputErrorOf([&] { loadTokenizer(dir + "/t.model"); }).find("SentencePiece") !=
            std::string::npos);
    QVERIFY(inputErrorOf([&] { loadTokenizer(dir + "/missing.json"); }).find("not found") !=
            std::string::npos);
  }

  // Per-token text for Compare: joined, the pieces are the decoded text, and a SentencePiece-style
  // tokenizer keeps the spaces its decoder strips from a lone token.
  void tokenPiecesKeepSpaces() {
    const HfTokenizer mistral(tokenizerJson("mistral"));
    const auto ids = mistral.encode("Hello world, again");
    const auto pieces = tokenPieces(mistral, ids);
    QCOMPARE(pieces.size(), ids.size());
    std::string joined;
    for (const auto &p : pieces)
      joined += p;
    QCOMPARE(joined, mistral.decode(ids));
    QCOMPARE(pieces[1], std::string(" world"));
    QCOMPARE(mistral.decode({ids[1]}), std::string("world")); // what a lone decode gives
    const HfTokenizer gpt2(tokenizerJson("gpt2"));
    const auto g = tokenPieces(gpt2, gpt2.encode("Hello world"));
    QCOMPARE(g, (std::vector<std::string>{"Hello", " world"}));
  }

  // A word of 200,000 letters (one pre-token): the merge loop is O(n log n), not quadratic.
  void longWordFinishes() {
    const HfTokenizer tokenizer(tokenizerJson("gpt2"));
    std::string word(200000, 'a');
    const auto ids = tokenizer.encode(word);
    QVERIFY(!ids.empty() && ids.size() < word.size());
    QCOMPARE(tokenizer.decode(ids), word);
  }
};

PREFLAB_TEST_MAIN(TestHfTokenizer)

} // namespace preflab_tests
#include "tst_hf_tokenizer.moc"
