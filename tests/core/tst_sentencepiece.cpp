// SentencePiece tokenizer.model files through libpreflab_sentencepiece.so, in a process with
// LibTorch loaded: the ids of python3-sentencepiece (tests/data/sentencepiece/make_model.py), the
// descriptions and files that restore a tokenizer, and the errors for files that are no model.
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/text/sentencepiece_tokenizer.h"
#include "core/text/tokenizer_files.h"

#include "tests/core/test_files.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <fstream>
#include <functional>
#include <thread>

// AddressSanitizer and ThreadSanitizer abort a process that calls dlopen(RTLD_DEEPBIND), which
// libsentencepiece needs beside LibTorch: a sanitized build only checks the clear error instead.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PREFLAB_SP_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define PREFLAB_SP_TEST_SANITIZED 1
#endif
#endif
#ifndef PREFLAB_SP_TEST_SANITIZED
#define PREFLAB_SP_TEST_SANITIZED 0
#endif

namespace preflab_tests {

using namespace preflab::core;
using preflab::test::inputErrorOf;
using preflab::test::nonEmptyLines;

namespace {

const std::string kDir = PREFLAB_TEST_DATA_DIR "/sentencepiece";

std::vector<std::string> texts() {
  std::vector<std::string> out;
  for (const auto &line : nonEmptyLines(kDir + "/texts.jsonl"))
    out.push_back(nlohmann::json::parse(line)["text"].get<std::string>());
  return out;
}

} // namespace

// Every test but the first needs the library; under a sanitizer each one skips, saying why.
#define PREFLAB_SP_SKIP_IF_SANITIZED()                                                                       \
  if (PREFLAB_SP_TEST_SANITIZED)                                                                             \
  QSKIP("built with AddressSanitizer or ThreadSanitizer, which abort on the dlopen(RTLD_DEEPBIND) that "     \
        "libsentencepiece needs beside LibTorch (sanitizerGivesAClearError checks the error instead)")

class TestSentencePiece : public QObject {
  Q_OBJECT

private Q_SLOTS:
  // Sanitized, loading fails with an InputError naming the file and the reason, not an abort.
  void sanitizerGivesAClearError() {
    if (!PREFLAB_SP_TEST_SANITIZED)
      QSKIP("not a sanitizer build: the library loads (the other tests use it)");
    const auto file = kDir + "/bpe.model";
    const auto what = inputErrorOf([&] { SentencePieceTokenizer::fromFile(file); });
    QVERIFY2(what.find(file) == 0 && what.find("RTLD_DEEPBIND") != std::string::npos, what.c_str());
  }

  // Each text of texts.jsonl (whitespace runs, tabs, CR/LF, emoji with ZWJ, CJK, combining marks,
  // U+2028, a BOM, "<s>" and user-defined pieces written as text, the empty string): the ids,
  // pieces and decoded text that python3-sentencepiece gives.
  void matchesPythonSentencePiece_data() {
    QTest::addColumn<QString>("name");
    QTest::newRow("bpe, byte fallback (Llama's settings)") << "bpe";
    QTest::newRow("unigram, <unk>, user-defined and control pieces") << "unigram";
  }
  void matchesPythonSentencePiece() {
    PREFLAB_SP_SKIP_IF_SANITIZED();
    QFETCH(QString, name);
    const auto tokenizer = SentencePieceTokenizer::fromFile(kDir + "/" + name.toStdString() + ".model");
    const auto all = texts();
    const auto reference = nonEmptyLines(kDir + "/" + name.toStdString() + ".reference.jsonl");
    QCOMPARE(reference.size(), all.size());
    QVERIFY(all.size() >= 30);
    const auto specials = nlohmann::json::parse(readFile(kDir + "/" + name.toStdString() + ".specials.json"));
    QCOMPARE(tokenizer->vocabSize(), specials["vocab_size"].get<std::int64_t>());
    QCOMPARE(tokenizer->bosId().value_or(-1), specials["bos_id"].get<std::int64_t>());
    QCOMPARE(tokenizer->eosId(), specials["eos_id"].get<std::int64_t>());
    for (const auto &id : specials["control"]) // control pieces decode to nothing unless kept
      QVERIFY2(tokenizer->decode({id.get<std::int64_t>()}).empty() &&
                   tokenizer->decodeTokens({id.get<std::int64_t>()}, false) ==
                       tokenizer->idToToken(id.get<std::int64_t>()).value_or("?"),
               id.dump().c_str());
    for (std::size_t i = 0; i < all.size(); ++i) {
      const auto ref = nlohmann::json::parse(reference[i]);
      const auto row = "text " + std::to_string(i + 1) + ": " + all[i].substr(0, 40);
      const auto ids = tokenizer->encode(all[i]);
      QVERIFY2(nlohmann::json(ids) == ref["ids"], (row + "\n got " + nlohmann::json(ids).dump()).c_str());
      nlohmann::json pieces = nlohmann::json::array();
      for (const auto id : ids)
        pieces.push_back(tokenizer->idToToken(id).value_or("?"));
      QVERIFY2(pieces == ref["pieces"], row.c_str());
      QVERIFY2(tokenizer->decode(ids) == ref["decoded"].get<std::string>(), row.c_str());
      QVERIFY2(tokenizer->decodeTokens(ids, false) == ref["decoded"].get<std::string>(), row.c_str());
    }
  }

  // Byte fallback, no normalization, whitespace kept: decoding gives the text back, except where
  // the text holds SentencePiece's own space mark U+2581, which decodes as a space.
  void bpeRoundTrips() {
    PREFLAB_SP_SKIP_IF_SANITIZED();
    const auto tokenizer = SentencePieceTokenizer::fromFile(kDir + "/bpe.model");
    for (const auto &text : texts()) {
      const bool hasMark = text.find("\xE2\x96\x81") != std::string::npos;
      QVERIFY2((tokenizer->decode(tokenizer->encode(text)) == text) != hasMark, text.c_str());
    }
    // A character split into byte pieces: a lone byte decodes to U+FFFD, all of them to the emoji.
    const auto ids = tokenizer->encode("\xF0\x9F\xA6\x84"); // U+1F984, not in the training text
    QCOMPARE(ids.size(), std::size_t(5));                   // "▁" and 4 bytes
    QCOMPARE(tokenizer->idToToken(ids[1]).value_or(""), std::string("<0xF0>"));
    QCOMPARE(tokenizer->decode({ids[1]}), std::string("\xEF\xBF\xBD"));
  }

  // BOS / EOS as LlamaTokenizer uses them; control pieces kept as text only when asked.
  void specialTokens() {
    PREFLAB_SP_SKIP_IF_SANITIZED();
    const auto t = SentencePieceTokenizer::fromFile(kDir + "/bpe.model");
    QCOMPARE(t->vocabSize(), std::int64_t(600));
    QCOMPARE(t->bosId().value_or(-1), std::int64_t(1));
    QCOMPARE(t->eosId(), std::int64_t(2));
    QCOMPARE(t->idToToken(1).value_or(""), std::string("<s>"));
    QCOMPARE(t->idToToken(2).value_or(""), std::string("</s>"));
    QVERIFY(!t->idToToken(600) && !t->idToToken(-1));
    auto ids = t->encode("Hello world");
    QCOMPARE(t->encodeWithSpecialTokens("Hello world").front(), std::int64_t(1));
    QCOMPARE(t->encodeWithSpecialTokens("Hello world").size(), ids.size() + 1);
    QCOMPARE(t->encodeWithSpecialTokens(""), std::vector<std::int64_t>{1});
    ids.insert(ids.begin(), 1);
    ids.push_back(2);
    ids.push_back(12345); // outside the vocabulary: dropped
    QCOMPARE(t->decode(ids), std::string("Hello world"));
    QCOMPARE(t->decodeTokens(ids, false), std::string("<s>Hello world</s>"));
    SentencePieceOptions options;
    options.addBosToken = false;
    options.addEosToken = true;
    options.eosToken = "<unk>";
    const auto u = SentencePieceTokenizer::fromFile(kDir + "/bpe.model", options);
    QCOMPARE(u->eosId(), std::int64_t(0));
    QCOMPARE(u->encodeWithSpecialTokens("Hello world").back(), std::int64_t(0));
    QCOMPARE(u->encodeWithSpecialTokens("Hello world").front(), t->encode("Hello world").front());
    options.eosToken = "<|endoftext|>";
    const auto what = inputErrorOf([&] { SentencePieceTokenizer::fromFile(kDir + "/bpe.model", options); });
    QVERIFY2(what.find("key 'eos_token': the SentencePiece model has no piece '<|endoftext|>'") !=
                 std::string::npos,
             what.c_str());
    // The unigram model's pad and extra control piece are special too.
    const auto g = SentencePieceTokenizer::fromFile(kDir + "/unigram.model");
    QCOMPARE(g->decodeTokens({3, 4, 1}, false), std::string("<pad><ctl><s>"));
    QCOMPARE(g->decode({3, 4, 1}), std::string());
  }

  // describe() holds the model itself: the tokenizer built from it, directly or through
  // tokenizerFromDescription, is equal.
  void describeRoundTrips() {
    PREFLAB_SP_SKIP_IF_SANITIZED();
    SentencePieceOptions options;
    options.addEosToken = true;
    options.chatTemplate = "{{ messages }}";
    const auto t = SentencePieceTokenizer::fromFile(kDir + "/unigram.model", options);
    const auto d = t->describe();
    QCOMPARE(d["type"].get<std::string>(), std::string("sentencepiece"));
    const SentencePieceTokenizer back(nlohmann::json::parse(d.dump()));
    QCOMPARE(back.describe(), d);
    QCOMPARE(back.modelBytes(), readFile(kDir + "/unigram.model"));
    const auto restored = tokenizerFromDescription(d);
    QCOMPARE(restored->chatTemplate(), std::string("{{ messages }}"));
    for (const auto &text : texts()) {
      QCOMPARE(restored->encodeWithSpecialTokens(text), t->encodeWithSpecialTokens(text));
      QCOMPARE(back.encode(text), t->encode(text));
    }
    auto broken = d;
    broken["model"] = "not*base64";
    QVERIFY2(inputErrorOf([&] {
               tokenizerFromDescription(broken);
             }).find("key 'model': is not valid base64") != std::string::npos,
             inputErrorOf([&] { tokenizerFromDescription(broken); }).c_str());
  }

  // A model folder: tokenizer.model with tokenizer_config.json beside it, as Llama 2's; written
  // back by writeTokenizerFiles as the same bytes and flags.
  void modelFolderRoundTrips() {
    PREFLAB_SP_SKIP_IF_SANITIZED();
    QTemporaryDir tmp;
    const auto dir = tmp.path().toStdString();
    writeFileAtomic(dir + "/tokenizer.model", readFile(kDir + "/bpe.model"));
    writeFileAtomic(dir + "/tokenizer_config.json",
                    R"({"bos_token": {"content": "<s>"}, "eos_token": "</s>", "add_bos_token": false,
                        "add_eos_token": true, "chat_template": "T"})");
    const auto t = loadTokenizer(dir);
    QCOMPARE(t->encodeWithSpecialTokens("Hello").back(), std::int64_t(2));
    QVERIFY(t->encodeWithSpecialTokens("Hello").front() != 1);
    QCOMPARE(t->chatTemplate(), std::string("T"));
    QTemporaryDir out;
    const auto outDir = out.path().toStdString();
    writeFileAtomic(outDir + "/tokenizer.json", "{}"); // stale: would be read before tokenizer.model
    QCOMPARE(writeTokenizerFiles(*t, outDir, 128), std::string("tokenizer.model"));
    QVERIFY(!QFile::exists(out.filePath("tokenizer.json")));
    QCOMPARE(readFile(outDir + "/tokenizer.model"), readFile(kDir + "/bpe.model"));
    const auto again = loadTokenizer(outDir);
    QCOMPARE(again->describe(), t->describe());
    writeFileAtomic(dir + "/tokenizer_config.json", R"({"add_bos_token": "yes"})");
    const auto what = inputErrorOf([&] { loadTokenizer(dir); });
    QVERIFY2(what.find("tokenizer_config.json: key 'add_bos_token': must be true or false") !=
                 std::string::npos,
             what.c_str());
  }

  // Files that are no SentencePiece model: an InputError naming the file, never a crash. The last
  // three crash, throw out of, or overflow the stack of libsentencepiece 0.1.97 unless the shim
  // refuses them first (core/sentencepiece_shim/model_proto_check.h).
  void badFilesNameTheFile_data() {
    const auto model = readFile(kDir + "/bpe.model");
    QTest::addColumn<QByteArray>("bytes");
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("text") << QByteArray("not protobuf");
    QTest::newRow("tokenizer.json") << QByteArray(R"({"model": {"type": "BPE"}})");
    QTest::newRow("truncated to half") << QByteArray(model.data(), int(model.size() / 2));
    QTest::newRow("truncated by one byte") << QByteArray(model.data(), int(model.size() - 1));
    QTest::newRow("first 20 bytes") << QByteArray(model.data(), 20);
    QByteArray corrupt(model.data(), int(model.size()));
    corrupt[1] = char(0xFF); // the first piece's length: runs past the end
    corrupt[2] = char(0xFF);
    QTest::newRow("corrupt length") << corrupt;
    QTest::newRow("zeros") << QByteArray(4096, '\0');
    QTest::newRow("charsmap trie pointing outside")
        << QByteArray::fromStdString(readFile(kDir + "/bad_charsmap.model"));
    QTest::newRow("piece with a NUL byte") << QByteArray::fromStdString(readFile(kDir + "/nul_piece.model"));
    // A unigram model with one more piece of 300,000 bytes: ModelProto field 1, a SentencePiece
    // whose field 1 is the string and field 2 the score.
    const std::string longPiece(300000, 'x');
    auto varint = [](std::size_t n) {
      std::string out;
      for (; n > 0x7F; n >>= 7)
        out.push_back(char((n & 0x7F) | 0x80));
      return out + char(n);
    };
    const auto piece = "\x0a" + varint(longPiece.size()) + longPiece + std::string("\x15\0\0\0\0", 5);
    QTest::newRow("piece of 300,000 bytes") << QByteArray::fromStdString(
        readFile(kDir + "/unigram.model") + "\x0a" + varint(piece.size()) + piece);
  }
  void badFilesNameTheFile() {
    PREFLAB_SP_SKIP_IF_SANITIZED();
    QFETCH(QByteArray, bytes);
    QTemporaryDir tmp;
    const auto file = tmp.filePath("tokenizer.model").toStdString();
    writeFileAtomic(file, bytes.toStdString());
    const auto what = inputErrorOf([&] { loadTokenizer(file); });
    QVERIFY2(what.find(file + ": ") == 0 && what.find("SentencePiece") != std::string::npos, what.c_str());
    QVERIFY2(inputErrorOf([&] { SentencePieceTokenizer::fromFile(file); }) == what, what.c_str());
    const auto missing = tmp.filePath("missing.model").toStdString();
    QVERIFY(inputErrorOf([&] {
              SentencePieceTokenizer::fromFile(missing);
            }).find(missing + ": cannot open") == 0);
  }

  // One instance, two threads, every text many times: the ids of one thread.
  void encodeFromTwoThreads() {
    PREFLAB_SP_SKIP_IF_SANITIZED();
    const auto tokenizer = SentencePieceTokenizer::fromFile(kDir + "/bpe.model");
    const auto all = texts();
    std::vector<std::vector<std::int64_t>> ids;
    std::vector<std::string> decoded;
    for (const auto &text : all) {
      ids.push_back(tokenizer->encode(text));
      decoded.push_back(tokenizer->decode(ids.back()));
    }
    std::vector<int> mismatches(2, 0);
    auto work = [&](int thread) {
      for (int round = 0; round < 200; ++round)
        for (std::size_t i = 0; i < all.size(); ++i)
          if (tokenizer->encode(all[i]) != ids[i] || tokenizer->decode(ids[i]) != decoded[i])
            ++mismatches[std::size_t(thread)];
    };
    std::thread a(work, 0), b(work, 1);
    a.join();
    b.join();
    QCOMPARE(mismatches, (std::vector<int>{0, 0}));
  }
};

PREFLAB_TEST_MAIN(TestSentencePiece)

} // namespace preflab_tests
#include "tst_sentencepiece.moc"
