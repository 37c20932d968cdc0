// Conversational preference data with a model's own chat template: the prompt and answers rendered
// as TRL's DPO trainer renders them (tests/data/chat_templates/make_trl_renders.py, jinja2), their
// ids, the refusals, and a DPO run on a Qwen3-shaped model whose tokenizer carries Qwen3's template.
#include "core/io/gzip_input.h"
#include "core/io/input_error.h"
#include "core/jobs/text_training.h"
#include "core/text/chat_template.h"
#include "core/text/llama.h"
#include "core/text/model_store.h"
#include "core/text/tokenizer_files.h"
#include "core/train/run_folder.h"
#include "core/train/text_train_config.h"
#include "core/train/tokenized_data.h"

#include "tests/core/test_files.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace preflab_tests {

using namespace preflab::core;
using preflab::test::inputErrorOf;
using preflab::test::readJsonFile;
using preflab::test::readTextFile;
namespace fs = std::filesystem;

namespace {

const std::string kTemplates = PREFLAB_TEST_DATA_DIR "/chat_templates";
const std::string kPairs = PREFLAB_TEST_DATA_DIR "/trl_conversational/input.jsonl";

// trl_renders.jsonl's lines for one template, by pair line.
std::map<std::int64_t, nlohmann::json> trlRenders(const std::string &name) {
  std::map<std::int64_t, nlohmann::json> out;
  std::ifstream in(kTemplates + "/trl_renders.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["template"] == name)
      out[j["line"].get<std::int64_t>()] = j;
  }
  return out;
}

// A tokenizer folder: Qwen3's tokenizer.json (cut, ids unchanged) with tokenizer_config.json
// naming <|im_end|> as EOS and carrying Qwen3's chat template, as Qwen3's own folders do.
std::shared_ptr<Tokenizer> qwen3Tokenizer(const fs::path &dir) {
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.json", std::ios::binary)
      << readPossiblyCompressedFile(PREFLAB_TEST_DATA_DIR "/tokenizers/qwen3-cut.tokenizer.json.gz");
  const nlohmann::json config = {{"eos_token", "<|im_end|>"},
                                 {"bos_token", nullptr},
                                 {"pad_token", "<|endoftext|>"},
                                 {"chat_template", readTextFile(kTemplates + "/qwen3.jinja")}};
  std::ofstream(dir / "tokenizer_config.json") << config.dump(2);
  return loadTokenizer(dir.string());
}

} // namespace

class TestConversationalTraining : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void rendersAsTrl_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("bos");
    QTest::addColumn<QString>("eos");
    QTest::newRow("qwen3") << "qwen3"
                           << ""
                           << "<|im_end|>";
    QTest::newRow("llama3") << "llama3"
                            << "<|begin_of_text|>"
                            << "<|end_of_text|>";
    QTest::newRow("mistral") << "mistral"
                             << "<s>"
                             << "</s>";
  }

  // Each pair's texts equal jinja2's renders with TRL's prompt / answer split, byte for byte.
  void rendersAsTrl() {
    QFETCH(QString, name);
    QFETCH(QString, bos);
    QFETCH(QString, eos);
    const ChatTemplate chat(readTextFile(kTemplates + "/" + name.toStdString() + ".jinja"));
    nlohmann::json tokens = {{"eos_token", eos.toStdString()}};
    if (!bos.isEmpty())
      tokens["bos_token"] = bos.toStdString();
    const auto data = readTextPreferences(kPairs);
    const auto expected = trlRenders(name.toStdString());
    QCOMPARE(int(data.pairs.size()), 3);
    QCOMPARE(int(expected.size()), 3);
    for (const auto &pair : data.pairs) {
      QVERIFY(pair.messages.has_value());
      const auto &want = expected.at(pair.line);
      const auto got = renderWithChatTemplate(pair, chat, tokens);
      QCOMPARE(QString::fromStdString(got.prompt), QString::fromStdString(want["prompt"]));
      QCOMPARE(QString::fromStdString(got.chosen), QString::fromStdString(want["chosen"]));
      QCOMPARE(QString::fromStdString(got.rejected), QString::fromStdString(want["rejected"]));
      QCOMPARE(got.id, pair.id);
    }
  }

  // tokenizeData with a tokenizer that has a template: the rendered texts' ids (special tokens
  // written by the template are matched as tokens), EOS after each answer; no BOS (Qwen3 has none).
  void idsOfTheRenderedTexts() {
    QTemporaryDir tmp;
    const auto tokenizer = qwen3Tokenizer(fs::path(tmp.path().toStdString()) / "tok");
    QVERIFY(!tokenizer->chatTemplate().empty());
    QVERIFY(!tokenizer->bosId());
    const auto imStartIds = tokenizer->encode("<|im_start|>");
    const auto imEndIds = tokenizer->encode("<|im_end|>");
    QCOMPARE(imStartIds.size(), std::size_t(1));
    QCOMPARE(imEndIds.size(), std::size_t(1));
    const auto imStart = imStartIds[0], imEnd = imEndIds[0];
    QCOMPARE(tokenizer->eosId(), imEnd);
    const auto data = readTextPreferences(kPairs);
    const auto tokenized = tokenizeData(data, *tokenizer, false);
    const auto expected = trlRenders("qwen3");
    QCOMPARE(tokenized.pairs.size(), data.pairs.size());
    for (std::size_t i = 0; i < data.pairs.size(); ++i) {
      const auto &want = expected.at(data.pairs[i].line);
      const auto &got = tokenized.pairs[i];
      QCOMPARE(got.prompt, tokenizer->encode(want["prompt"].get<std::string>()));
      auto chosen = tokenizer->encode(want["chosen"].get<std::string>());
      chosen.push_back(imEnd);
      QCOMPARE(got.chosen, chosen);
      QCOMPARE(got.prompt.front(), imStart);
      QCOMPARE(std::count(got.prompt.begin(), got.prompt.end(), imStart),
               std::ptrdiff_t(data.pairs[i].messages->prompt.size() + 1));
    }
    // Without a template the same pairs keep PrefLab's plain transcript.
    const auto plain = tokenizeData(data, ByteTokenizer(), false);
    QCOMPARE(plain.pairs[0].prompt, ByteTokenizer().encode(data.pairs[0].prompt));
  }

  // KTO rows with messages (TRL's prompt / completion layout and LLaMA-Factory's) are rendered the
  // same way: the prompt, and the completion after it.
  void unpairedRowsUseTheTemplate() {
    QTemporaryDir tmp;
    const auto tokenizer = qwen3Tokenizer(fs::path(tmp.path().toStdString()) / "tok");
    const auto file = tmp.filePath("kto.jsonl").toStdString();
    std::ofstream(file)
        << R"({"prompt": [{"role": "user", "content": "What is 2+2?"}], "completion": [{"role": "assistant", "content": "4"}], "label": true})"
        << "\n"
        << R"({"messages": [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "5"}], "label": false})"
        << "\n";
    TextReadOptions options;
    const auto want = trlRenders("qwen3").at(1);
    const auto imEnd = tokenizer->eosId();
    for (const char *format : {"kto", "kto-messages"}) {
      options.format = parseTextFormat(format);
      const auto data = readTextPreferences(file, options);
      QVERIFY(data.isUnpaired());
      const auto tokenized = tokenizeData(data, *tokenizer, true);
      QCOMPARE(tokenized.unpaired.size(), std::size_t(2));
      for (const auto &u : tokenized.unpaired) {
        QCOMPARE(u.prompt, tokenizer->encode(want["prompt"].get<std::string>()));
        auto completion = tokenizer->encode(want[u.desirable ? "chosen" : "rejected"].get<std::string>());
        completion.push_back(imEnd);
        QCOMPARE(u.completion, completion);
      }
    }
  }

  // A prompt ending with an assistant message is continued (no generation prompt, cut after it);
  // one ending with a system message, and a rejected side the template renders differently before
  // the answer, are refused naming the line.
  void promptEndsAndRefusals() {
    const ChatTemplate chatml(readTextFile(kTemplates + "/chatml.jinja"));
    TextPair pair;
    pair.line = 7;
    pair.messages = PairMessages{
        {{"user", "Hi"}, {"assistant", "Hello, "}}, {{"assistant", "friend"}}, {{"assistant", "foe"}}};
    const auto continued = renderWithChatTemplate(pair, chatml, nlohmann::json::object());
    QVERIFY2(continued.prompt.size() >= 7 &&
                 continued.prompt.compare(continued.prompt.size() - 6, 6, "Hello,") == 0,
             continued.prompt.c_str());
    QVERIFY(continued.prompt.find("<|im_start|>assistant\nHello,") != std::string::npos);
    pair.messages->prompt = {{"user", "Hi"}, {"system", "late"}};
    const auto e = inputErrorOf([&] { renderWithChatTemplate(pair, chatml, nlohmann::json::object()); });
    QVERIFY2(e.find("line 7") != std::string::npos && e.find("user or an assistant") != std::string::npos,
             e.c_str());
    // A (contrived) template that writes something before the conversation for one answer only.
    const ChatTemplate odd("{% if messages[-1]['content'] == 'foe' %}!{% endif %}"
                           "{% for m in messages %}{{ m['content'] }}{% endfor %}");
    pair.messages->prompt = {{"user", "Hi"}};
    const auto f = inputErrorOf([&] { renderWithChatTemplate(pair, odd, nlohmann::json::object()); });
    QVERIFY2(f.find("line 7") != std::string::npos && f.find("rejected") != std::string::npos, f.c_str());
  }

  // Prompts to sample from (sample, Compare) are one user message with the generation prompt in
  // the model's template, rendered as jinja2 renders it; plain text without the template.
  void samplingPromptsUseTheTemplate() {
    QTemporaryDir tmp;
    const auto tokenizer = qwen3Tokenizer(fs::path(tmp.path().toStdString()) / "tok");
    std::string expected; // jinja2's render of [{"role": "user", "content": "Just one message."}]
    std::ifstream in(kTemplates + "/reference.jsonl");
    for (std::string line; std::getline(in, line);) {
      const auto j = nlohmann::json::parse(line);
      if (j["template"] == "qwen3" && j["conversation"] == 8 && j["add_generation_prompt"] == true)
        expected = j["text"].get<std::string>();
    }
    QVERIFY(expected.find("Just one message.") != std::string::npos);
    QVERIFY(expected.size() > 30 &&
            expected.compare(expected.size() - 22, 22, "<|im_start|>assistant\n") == 0);
    const auto ids = encodeSamplingPrompts(*tokenizer, {"Just one message.", ""}, true);
    QCOMPARE(ids.size(), std::size_t(2));
    QCOMPARE(ids[0], tokenizer->encode(expected));
    QCOMPARE(ids[0].front(), tokenizer->encode("<|im_start|>").front()); // matched as the special token
    QVERIFY(ids[1].empty());
    QCOMPARE(encodeSamplingPrompts(*tokenizer, {"Just one message."}, false)[0],
             tokenizer->encode("Just one message."));
    QCOMPARE(encodeSamplingPrompts(ByteTokenizer(), {"Hi"}, true)[0], encodePrompt(ByteTokenizer(), "Hi"));
  }

  // A DPO run on a Qwen3-shaped model whose folder carries Qwen3's template trains on the rendered
  // conversations, and the tuned folder keeps the template.
  void qwen3ConversationalRun() {
    QTemporaryDir tmp;
    const fs::path root(tmp.path().toStdString());
    const auto tokenizer = qwen3Tokenizer(root / "tok");
    LlamaConfig shape;
    shape.family = "qwen3";
    shape.vocabSize = 151669; // Qwen3's size (the cut tokenizer uses the first 20,282 ids)
    shape.hiddenSize = 16;
    shape.intermediateSize = 24;
    shape.nHead = 2;
    shape.nKvHead = 1;
    shape.headDim = 8;
    shape.nLayer = 1;
    shape.qkNorm = true;
    shape.tieEmbeddings = true;
    shape.maxPositions = 256;
    torch::manual_seed(11);
    const auto baseDir = (root / "qwen3-tiny").string();
    makeLlama(shape)->exportHuggingFace(*tokenizer, baseDir);
    // Qwen3's own generation_config.json stops at <|im_end|> and <|endoftext|>.
    std::ofstream(baseDir + "/generation_config.json")
        << R"({"bos_token_id": 151643, "eos_token_id": [151645, 151643], "temperature": 0.6, "top_p": 0.95})";
    TextTrainConfig c = loadTextTrainConfig(PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml");
    c.trainFile = kPairs;
    c.evalFile.clear();
    c.outputDir = (root / "run").string();
    c.modelNameOrPath = baseDir;
    c.maxSteps = 2;
    c.perDeviceTrainBatchSize = 1;
    c.maxLength = 128;
    c.maxPromptLength = 64;
    const auto s = runTextTraining(c, {}, {});
    QVERIFY2(s.state == RunState::Finished, s.message.c_str());
    const auto lines = readMetricsFile(c.outputDir + "/metrics.jsonl");
    QVERIFY(!lines.empty());
    QVERIFY(std::abs(lines.front()["loss"].get<double>() - std::log(2.0)) < 1e-5);
    std::shared_ptr<Tokenizer> tuned;
    loadModelFolder(c.outputDir + "/hf", &tuned);
    QVERIFY(tuned);
    QCOMPARE(QString::fromStdString(tuned->chatTemplate()),
             QString::fromStdString(tokenizer->chatTemplate()));
    // max_length is bounded by the folder's positions, not by the config's (unused) model block.
    c.outputDir = (root / "run2").string();
    c.maxLength = 300;
    const auto tooLong = runTextTraining(c, {}, {});
    QVERIFY(tooLong.state == RunState::Failed);
    QVERIFY2(tooLong.message.find("256 positions") != std::string::npos, tooLong.message.c_str());
  }
};

PREFLAB_TEST_MAIN(TestConversationalTraining)

} // namespace preflab_tests
#include "tst_conversational_training.moc"
