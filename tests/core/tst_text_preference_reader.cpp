// Golden-file and edge-case tests of the text preference JSONL reader (all formats, bad input).
#include "core/data/text_preference_reader.h"
#include "core/io/input_error.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <optional>
#include <sstream>
#include <sys/stat.h>
#include <string>

using nlohmann::json;
using namespace preflab::core;

// tests/data/<case>/ holds input.jsonl and expected.json. For a good case expected.json has
// "format", "record_count", "records" (every parsed record, in order) and "summary" (the whole
// summarizeTextPreferences object); numbers compare with a relative tolerance of 1e-9, and keys
// must match exactly. For a broken case it has "error" ({"contains": [...], "line", "key"} for
// the default, strict read) and "skip_mode" (either the same "error" or "record_count" plus
// "skipped": [{"line", "contains": [...]}] for a read with skipInvalid).

namespace preflab_tests { // one per test file (test_main.h)

namespace {

const std::string kDataDir = PREFLAB_TEST_DATA_DIR;
const std::size_t kTenMiB = std::size_t(10) << 20;

std::string casePath(const std::string &name, const char *file) {
  return kDataDir + "/" + name + "/" + file;
}

std::string readBytes(const std::string &path) {
  std::ifstream input(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << input.rdbuf();
  return bytes.str();
}

void writeBytes(const std::string &path, const std::string &bytes) {
  std::ofstream output(path, std::ios::binary | std::ios::trunc);
  output << bytes;
}

json readExpected(const std::string &name) {
  return json::parse(readBytes(casePath(name, "expected.json")));
}

json recordJson(const TextPair &pair) {
  json record = {{"id", pair.id},
                 {"line", pair.line},
                 {"prompt", pair.prompt},
                 {"chosen", pair.chosen},
                 {"rejected", pair.rejected}};
  const auto put = [&record](const char *key, const auto &value) {
    if (value)
      record[key] = *value;
  };
  put("rater_fraction", pair.raterFraction);
  put("rater_count", pair.raterCount);
  put("score_chosen", pair.scoreChosen);
  put("score_rejected", pair.scoreRejected);
  put("ref_chosen_logps", pair.refChosenLogp);
  put("ref_rejected_logps", pair.refRejectedLogp);
  return record;
}

json recordJson(const UnpairedExample &example) {
  json record = {{"id", example.id},
                 {"line", example.line},
                 {"prompt", example.prompt},
                 {"completion", example.completion},
                 {"label", example.desirable}};
  if (example.refLogp)
    record["ref_logps"] = *example.refLogp;
  return record;
}

json recordsOf(const TextPreferenceData &data) {
  json records = json::array();
  for (const TextPair &pair : data.pairs)
    records.push_back(recordJson(pair));
  for (const UnpairedExample &example : data.unpaired)
    records.push_back(recordJson(example));
  return records;
}

std::string shortDump(const json &value) {
  const std::string text = value.dump();
  return text.size() > 200 ? text.substr(0, 200) + "..." : text;
}

// The first difference between expected and actual, described; empty when they agree.
std::string jsonMismatch(const json &expected, const json &actual, const std::string &where) {
  const std::string differ = where + ": expected " + shortDump(expected) + ", got " + shortDump(actual);
  if (expected.is_number() && actual.is_number()) {
    const double e = expected.get<double>(), a = actual.get<double>();
    return std::fabs(e - a) <= 1e-9 * std::max(1.0, std::fabs(e)) ? "" : differ;
  }
  if (expected.type() != actual.type())
    return differ;
  if (expected.is_object()) {
    for (const auto &[key, value] : expected.items()) {
      if (!actual.contains(key))
        return where + "." + key + ": missing";
      if (std::string m = jsonMismatch(value, actual.at(key), where + "." + key); !m.empty())
        return m;
    }
    for (const auto &[key, value] : actual.items())
      if (!expected.contains(key))
        return where + "." + key + ": unexpected " + shortDump(value);
    return "";
  }
  if (expected.is_array()) {
    if (expected.size() != actual.size())
      return where + ": expected " + std::to_string(expected.size()) + " elements, got " +
             std::to_string(actual.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
      if (std::string m = jsonMismatch(expected[i], actual[i], where + "[" + std::to_string(i) + "]");
          !m.empty())
        return m;
    return "";
  }
  return expected == actual ? "" : differ;
}

std::string missingSubstrings(const std::string &text, const json &contains) {
  std::string missing;
  for (const json &part : contains)
    if (text.find(part.get<std::string>()) == std::string::npos)
      missing += "'" + part.get<std::string>() + "' not in '" + text + "'; ";
  return missing;
}

// Compares a caught error with {"contains", "line", "key"}; empty when it matches.
std::string errorMismatch(const InputError &error, const json &expected) {
  std::string problems = missingSubstrings(error.what(), expected.at("contains"));
  if (error.line() != expected.at("line").get<std::int64_t>())
    problems += "line " + std::to_string(error.line()) + " instead of " + expected.at("line").dump() + "; ";
  if (error.key() != expected.at("key").get<std::string>())
    problems += "key '" + error.key() + "' instead of " + expected.at("key").dump() + "; ";
  return problems;
}

std::optional<InputError> readError(const std::string &path, const TextReadOptions &options) {
  try {
    readTextPreferences(path, options);
  } catch (const InputError &error) {
    return error;
  }
  return std::nullopt;
}

// Reads into `data`; on InputError returns false with the message in `error`, so that a test can
// fail with the reader's own words instead of an unhandled exception ending the whole run.
bool readInto(const std::string &path, const TextReadOptions &options, TextPreferenceData &data,
              std::string &error) {
  try {
    data = readTextPreferences(path, options);
    return true;
  } catch (const InputError &caught) {
    error = caught.what();
    return false;
  }
}

TextReadOptions skipping() {
  TextReadOptions options;
  options.skipInvalid = true;
  return options;
}

TextReadOptions forced(TextFormat format) {
  TextReadOptions options;
  options.format = format;
  return options;
}

void addCaseRows(std::initializer_list<const char *> cases) {
  QTest::addColumn<QString>("caseName");
  for (const char *name : cases)
    QTest::newRow(name) << QString::fromLatin1(name);
}

const std::initializer_list<const char *> kGoodCases = {
    "trl_standard", "trl_conversational", "hh_rlhf", "ultrafeedback", "kto_unpaired", "rater_fields",
    // Files as users have them (excerpts of real files; SOURCE.md in each folder) and the layouts
    // found in the wild; expected.json by tests/data/format_cases.py from the documented rules.
    "hh_rlhf_gzip", "prescott_signal", "llamafactory_sharegpt", "llamafactory_kto", "llamafactory_v1",
    "mxandre_blank_lines", "openai_dpo", "alpaca", "trl_implicit_prompt"};
const std::initializer_list<const char *> kBrokenCases = {
    "truncated_line", "wrong_types", "invalid_utf8", "empty_file", "bad_rater_fraction", "mixed_formats"};

std::string recordLine(const std::string &prompt) {
  return json{{"prompt", prompt}, {"chosen", "c"}, {"rejected", "r"}}.dump();
}

} // namespace

class TestTextPreferenceReader : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void goldenRecords_data() { addCaseRows(kGoodCases); }
  void goldenRecords();
  void goldenErrors_data() { addCaseRows(kBrokenCases); }
  void goldenErrors();
  void goldenSkipped_data() { addCaseRows(kBrokenCases); }
  void goldenSkipped();
  void lineEndingsAndBom_data();
  void lineEndingsAndBom();
  void longLines_data();
  void longLines();
  void lineLimitBoundary_data();
  void lineLimitBoundary();
  void recordErrors_data();
  void recordErrors();
  void detectFormat_data();
  void detectFormat();
  void formatOverride_data();
  void formatOverride();
  void formatNames_data();
  void formatNames();
  void unknownFormatName();
  void renderConversation_data();
  void renderConversation();
  void fileErrors_data();
  void fileErrors();
  void everyLineInvalidThrows();
  void summaryOfNothing();
  void whatIsNotAFileIsRefused();
  void duplicateKeysAreErrors();
  void damagedGzipNamesTheFile();

private:
  QTemporaryDir m_dir;
};

void TestTextPreferenceReader::goldenRecords() {
  QFETCH(QString, caseName);
  const std::string name = caseName.toStdString();
  const json expected = readExpected(name);
  const std::string input = casePath(name, expected.value("input", std::string("input.jsonl")).c_str());
  QVERIFY2(QFileInfo::exists(QString::fromStdString(input)), "no input");
  TextPreferenceData data;
  std::string error;
  QVERIFY2(readInto(input, {}, data, error), error.c_str());
  QCOMPARE(QString::fromStdString(textFormatName(data.format)),
           QString::fromStdString(expected.at("format").get<std::string>()));
  QCOMPARE(qint64(data.pairs.size() + data.unpaired.size()), expected.at("record_count").get<qint64>());
  QVERIFY(data.skipped.empty());
  const std::string records = jsonMismatch(expected.at("records"), recordsOf(data), "records");
  QVERIFY2(records.empty(), records.c_str());
  const std::string summary = jsonMismatch(expected.at("summary"), summarizeTextPreferences(data), "summary");
  QVERIFY2(summary.empty(), summary.c_str());
}

void TestTextPreferenceReader::goldenErrors() {
  QFETCH(QString, caseName);
  const std::string name = caseName.toStdString();
  const json expected = readExpected(name);
  const std::optional<InputError> error = readError(casePath(name, "input.jsonl"), {});
  QVERIFY2(error.has_value(), "a strict read of a broken file must throw InputError");
  const std::string problems = errorMismatch(*error, expected.at("error"));
  QVERIFY2(problems.empty(), problems.c_str());
}

void TestTextPreferenceReader::goldenSkipped() {
  QFETCH(QString, caseName);
  const std::string name = caseName.toStdString();
  const json expected = readExpected(name).at("skip_mode");
  const std::string path = casePath(name, "input.jsonl");
  if (expected.contains("error")) {
    const std::optional<InputError> error = readError(path, skipping());
    QVERIFY2(error.has_value(), "skip mode must still throw for this file");
    const std::string problems = errorMismatch(*error, expected.at("error"));
    QVERIFY2(problems.empty(), problems.c_str());
    return;
  }
  TextPreferenceData data;
  std::string error;
  QVERIFY2(readInto(path, skipping(), data, error), error.c_str());
  QCOMPARE(qint64(data.pairs.size() + data.unpaired.size()), expected.at("record_count").get<qint64>());
  const json &skipped = expected.at("skipped");
  QCOMPARE(data.skipped.size(), skipped.size());
  QCOMPARE(summarizeTextPreferences(data).at("skipped").get<std::size_t>(), skipped.size());
  for (std::size_t i = 0; i < skipped.size(); ++i) {
    QCOMPARE(data.skipped[i].line, skipped[i].at("line").get<std::int64_t>());
    const std::string missing = missingSubstrings(data.skipped[i].reason, skipped[i].at("contains"));
    QVERIFY2(missing.empty(), missing.c_str());
  }
}

// CRLF line endings and a UTF-8 byte-order mark must not change what is read.
void TestTextPreferenceReader::lineEndingsAndBom_data() {
  QTest::addColumn<QString>("caseName");
  QTest::addColumn<bool>("crlf");
  QTest::addColumn<bool>("bom");
  for (const char *name : kGoodCases) {
    QTest::addRow("%s, CRLF", name) << QString::fromLatin1(name) << true << false;
    QTest::addRow("%s, BOM", name) << QString::fromLatin1(name) << false << true;
  }
}

void TestTextPreferenceReader::lineEndingsAndBom() {
  QFETCH(QString, caseName);
  QFETCH(bool, crlf);
  QFETCH(bool, bom);
  QVERIFY(m_dir.isValid());
  const std::string input = readExpected(caseName.toStdString()).value("input", std::string("input.jsonl"));
  if (input.size() > 3 && input.compare(input.size() - 3, 3, ".gz") == 0)
    QSKIP("compressed: its bytes have no line endings to change");
  const std::string original = casePath(caseName.toStdString(), input.c_str());
  std::string bytes = readBytes(original);
  QVERIFY(!bytes.empty());
  if (crlf) {
    std::string converted;
    for (char c : bytes)
      converted += c == '\n' ? std::string("\r\n") : std::string(1, c);
    bytes = converted;
  }
  if (bom)
    bytes = "\xEF\xBB\xBF" + bytes;
  const std::string path = m_dir.filePath("converted.jsonl").toStdString();
  writeBytes(path, bytes);
  TextPreferenceData expected, actual;
  std::string error;
  QVERIFY2(readInto(original, {}, expected, error), error.c_str());
  QVERIFY2(readInto(path, {}, actual, error), error.c_str());
  const std::string records = jsonMismatch(recordsOf(expected), recordsOf(actual), "records");
  QVERIFY2(records.empty(), records.c_str());
  QCOMPARE(actual.blankLines, expected.blankLines);
}

// A 10 MiB prompt (two-byte characters, so UTF-8 validation runs over all of it) between two small
// records: over a small limit it is an error naming line 2, skipping resumes at line 3, and under
// the default limit it parses intact.
void TestTextPreferenceReader::longLines_data() {
  QTest::addColumn<qulonglong>("limit");
  QTest::addColumn<bool>("skip");
  QTest::addColumn<QString>("errorText");
  QTest::addColumn<int>("records");
  QTest::addRow("10 MiB line over a 1 MiB limit")
      << qulonglong(1) << false << "input:2: the line has 10485" << 0;
  QTest::addRow("10 MiB line over a 1 MiB limit, skipped") << qulonglong(1) << true << "" << 2;
  QTest::addRow("10 MiB prompt within the default limit") << qulonglong(64) << false << "" << 3;
}

void TestTextPreferenceReader::longLines() {
  QFETCH(qulonglong, limit);
  QFETCH(bool, skip);
  QFETCH(QString, errorText);
  QFETCH(int, records);
  QVERIFY(m_dir.isValid());
  std::string prompt;
  prompt.reserve(kTenMiB);
  while (prompt.size() < kTenMiB)
    prompt += "\xC3\xA9"; // é
  const std::string path = m_dir.filePath("input").toStdString();
  writeBytes(path, recordLine("first") + "\n" + recordLine(prompt) + "\n" + recordLine("third") + "\n");
  TextReadOptions options;
  options.maxLineBytes = std::size_t(limit) << 20;
  options.skipInvalid = skip;
  if (!errorText.isEmpty()) {
    const std::optional<InputError> error = readError(path, options);
    QVERIFY2(error.has_value(), "an over-long line must throw");
    QVERIFY2(std::string(error->what()).find(errorText.toStdString()) != std::string::npos, error->what());
    QCOMPARE(error->line(), std::int64_t(2));
    return;
  }
  TextPreferenceData data;
  std::string error;
  QVERIFY2(readInto(path, options, data, error), error.c_str());
  QCOMPARE(int(data.pairs.size()), records);
  QCOMPARE(data.pairs.back().prompt, std::string("third"));
  if (skip) {
    QCOMPARE(data.skipped.size(), std::size_t(1));
    QCOMPARE(data.skipped.front().line, std::int64_t(2));
    QVERIFY2(data.skipped.front().reason.find("over the limit of 1048576") != std::string::npos,
             data.skipped.front().reason.c_str());
  } else {
    QCOMPARE(data.pairs[1].prompt.size(), kTenMiB);
    QVERIFY(data.pairs[1].prompt == prompt);
  }
}

// The limit counts the bytes of a line without its newline (a CR of a CRLF is not counted).
void TestTextPreferenceReader::lineLimitBoundary_data() {
  QTest::addColumn<int>("slack");
  QTest::addColumn<bool>("crlf");
  QTest::addColumn<bool>("accepted");
  QTest::addRow("limit equals the line length") << 0 << false << true;
  QTest::addRow("limit one byte short") << -1 << false << false;
  QTest::addRow("CRLF line, limit equals the length without CR") << 0 << true << true;
  QTest::addRow("CRLF line, limit one byte short") << -1 << true << false;
}

void TestTextPreferenceReader::lineLimitBoundary() {
  QFETCH(int, slack);
  QFETCH(bool, crlf);
  QFETCH(bool, accepted);
  QVERIFY(m_dir.isValid());
  const std::string line = recordLine("boundary");
  const std::string path = m_dir.filePath("boundary.jsonl").toStdString();
  writeBytes(path, line + (crlf ? "\r\n" : "\n"));
  TextReadOptions options;
  options.maxLineBytes = std::size_t(std::int64_t(line.size()) + slack);
  const std::optional<InputError> error = readError(path, options);
  QCOMPARE(!error.has_value(), accepted);
  if (error)
    QVERIFY2(std::string(error->what()).find("over the limit") != std::string::npos, error->what());
}

// Single-line files whose one record is wrong in a way the golden cases do not cover.
void TestTextPreferenceReader::recordErrors_data() {
  QTest::addColumn<QByteArray>("line");
  QTest::addColumn<QString>("key");
  QTest::addColumn<QString>("message");
  const json user = {{"role", "user"}, {"content", "q"}};
  const json other = {{"role", "user"}, {"content", "other"}};
  const json reply = {{"role", "assistant"}, {"content", "a"}};
  const auto row = [](const char *name, const json &record, const char *key, const char *message) {
    QTest::newRow(name) << QByteArray::fromStdString(record.dump()) << QString::fromLatin1(key)
                        << QString::fromLatin1(message);
  };
  const auto list = [](json::initializer_list_t messages) { return json::array(messages); };
  row("conversational prompt not repeated exactly",
      {{"prompt", list({user})}, {"chosen", list({other, reply})}, {"rejected", list({reply})}},
      "chosen[0].role", "does not repeat the prompt");
  row("conversational response missing",
      {{"prompt", list({user})}, {"chosen", list({user})}, {"rejected", list({reply})}}, "chosen",
      "no response message");
  row("message without content",
      {{"prompt", list({{{"role", "user"}}})}, {"chosen", list({reply})}, {"rejected", list({reply})}},
      "prompt[0].content", "missing");
  row("message is not an object",
      {{"prompt", list({"q"})}, {"chosen", list({reply})}, {"rejected", list({reply})}}, "prompt[0]",
      "expected a message object");
  row("message with an empty role",
      {{"prompt", list({{{"role", ""}, {"content", "q"}}})},
       {"chosen", list({reply})},
       {"rejected", list({reply})}},
      "prompt[0].role", "empty role");
  row("empty prompt message list",
      {{"prompt", json::array()}, {"chosen", list({reply})}, {"rejected", list({reply})}}, "prompt",
      "empty message list");
  row("hh-rlhf without an assistant turn", {{"chosen", "\n\nHuman: hi"}, {"rejected", "\n\nHuman: hi"}},
      "chosen", "no \"\\n\\nAssistant:\" turn");
  row("hh-rlhf rejected with another prompt",
      {{"chosen", "\n\nHuman: hi\n\nAssistant: yo"}, {"rejected", "\n\nHuman: ho\n\nAssistant: yo"}},
      "rejected", "shares no \"\\n\\nAssistant:\" turn");
  row("ultrafeedback without score_rejected",
      {{"prompt", "q"},
       {"chosen", list({user, reply})},
       {"rejected", list({user, reply})},
       {"score_chosen", 1}},
      "score_rejected", "missing");
  row("ultrafeedback list repeating another prompt",
      {{"prompt", "q"},
       {"chosen", list({other, reply})},
       {"rejected", list({user, reply})},
       {"score_chosen", 1},
       {"score_rejected", 0}},
      "chosen[0].role", "must start with an assistant message");
  row("kto label as a number", {{"prompt", "p"}, {"completion", "c"}, {"label", 1}}, "label",
      "expected true or false, got number 1");
  row("kto prompt as a number", {{"prompt", 3}, {"completion", "c"}, {"label", true}}, "prompt",
      "a string or a list of messages");
  row("kto ref_logps as a string",
      {{"prompt", "p"}, {"completion", "c"}, {"label", true}, {"ref_logps", "x"}}, "ref_logps",
      "expected a number");
  row("kto without prompt", {{"completion", "c"}, {"label", true}}, "prompt", "missing");
  row("no known format", {{"text", "hello"}}, "", "matches no known format");
  row("message lists without a prompt", {{"chosen", list({reply})}, {"rejected", list({reply})}}, "chosen",
      "shares no prompt messages");
  QTest::newRow("invalid JSON literal")
      << QByteArray(R"({"prompt": nope})") << QString() << QString("invalid JSON at byte");
  QTest::newRow("number out of range")
      << QByteArray(R"({"prompt": "p", "chosen": "c", "rejected": "r", "ref_chosen_logps": 1e400})")
      << QString() << QString("invalid JSON");
}

void TestTextPreferenceReader::recordErrors() {
  QFETCH(QByteArray, line);
  QFETCH(QString, key);
  QFETCH(QString, message);
  QVERIFY(m_dir.isValid());
  const std::string path = m_dir.filePath("one.jsonl").toStdString();
  writeBytes(path, line.toStdString() + "\n");
  const std::optional<InputError> error = readError(path, {});
  QVERIFY2(error.has_value(), "the record must be rejected");
  QCOMPARE(QString::fromStdString(error->key()), key);
  QCOMPARE(error->line(), std::int64_t(1));
  QCOMPARE(error->file(), path);
  QVERIFY2(error->message().find(message.toStdString()) != std::string::npos, error->what());
}

void TestTextPreferenceReader::detectFormat_data() {
  QTest::addColumn<QByteArray>("record");
  QTest::addColumn<QString>("format");
  QTest::addRow("strings") << QByteArray(R"({"prompt": "p", "chosen": "c", "rejected": "r"})") << "trl";
  QTest::addRow("message lists") << QByteArray(R"({"prompt": [], "chosen": [], "rejected": []})")
                                 << "trl-conversational";
  QTest::addRow("transcripts") << QByteArray(R"({"chosen": "c", "rejected": "r"})") << "hh-rlhf";
  QTest::addRow("string prompt, message lists")
      << QByteArray(R"({"prompt": "p", "chosen": [], "rejected": []})") << "ultrafeedback";
  QTest::addRow("unpaired") << QByteArray(R"({"prompt": "p", "completion": "c", "label": false})") << "kto";
  QTest::addRow("prompt only") << QByteArray(R"({"prompt": "p"})") << "";
  QTest::addRow("not an object") << QByteArray("[1, 2]") << "";
}

void TestTextPreferenceReader::detectFormat() {
  QFETCH(QByteArray, record);
  QFETCH(QString, format);
  const json parsed = json::parse(record.toStdString());
  if (format.isEmpty()) {
    QVERIFY_THROWS_EXCEPTION(InputError, detectTextFormat(parsed));
    return;
  }
  QCOMPARE(QString::fromStdString(textFormatName(detectTextFormat(parsed))), format);
}

// A forced format parses every line with that format's parser: no per-line detection.
void TestTextPreferenceReader::formatOverride_data() {
  QTest::addColumn<QString>("caseName");
  QTest::addColumn<QString>("format");
  QTest::addColumn<int>("records");
  QTest::addColumn<QString>("key");
  QTest::addRow("hh-rlhf forced on hh-rlhf") << "hh_rlhf"
                                             << "hh-rlhf" << 3 << "";
  QTest::addRow("trl forced on hh-rlhf") << "hh_rlhf"
                                         << "trl" << 0 << "prompt";
  QTest::addRow("kto forced on trl") << "trl_standard"
                                     << "kto" << 0 << "completion";
  QTest::addRow("ultrafeedback forced on trl") << "trl_standard"
                                               << "ultrafeedback" << 0 << "chosen";
  QTest::addRow("trl forced on a mixed file") << "mixed_formats"
                                              << "trl" << 0 << "prompt";
}

void TestTextPreferenceReader::formatOverride() {
  QFETCH(QString, caseName);
  QFETCH(QString, format);
  QFETCH(int, records);
  QFETCH(QString, key);
  const std::string path = casePath(caseName.toStdString(), "input.jsonl");
  const TextReadOptions options = forced(parseTextFormat(format.toStdString()));
  if (key.isEmpty()) {
    TextPreferenceData data;
    std::string error;
    QVERIFY2(readInto(path, options, data, error), error.c_str());
    QCOMPARE(int(data.pairs.size() + data.unpaired.size()), records);
    QCOMPARE(QString::fromStdString(textFormatName(data.format)), format);
    return;
  }
  const std::optional<InputError> error = readError(path, options);
  QVERIFY2(error.has_value(), "a forced format that does not fit must throw");
  QCOMPARE(QString::fromStdString(error->key()), key);
  QVERIFY(error->line() > 0);
}

void TestTextPreferenceReader::formatNames_data() {
  QTest::addColumn<QString>("name");
  for (const char *name : {"auto", "trl", "trl-conversational", "hh-rlhf", "ultrafeedback", "kto"})
    QTest::newRow(name) << QString::fromLatin1(name);
}

void TestTextPreferenceReader::formatNames() {
  QFETCH(QString, name);
  QCOMPARE(QString::fromStdString(textFormatName(parseTextFormat(name.toStdString()))), name);
}

void TestTextPreferenceReader::unknownFormatName() {
  try {
    parseTextFormat("jsonl");
    QFAIL("an unknown format name must throw");
  } catch (const InputError &error) {
    QCOMPARE(error.key(), std::string("format"));
    QVERIFY2(std::string(error.what()).find("trl-conversational") != std::string::npos, error.what());
  }
}

void TestTextPreferenceReader::renderConversation_data() {
  QTest::addColumn<QStringList>("roles");
  QTest::addColumn<QStringList>("contents");
  QTest::addColumn<QString>("transcript");
  QTest::addRow("no messages") << QStringList{} << QStringList{} << "";
  QTest::addRow("user") << QStringList{"user"} << QStringList{"hi"} << "\n\nUser: hi";
  QTest::addRow("system, user, assistant")
      << QStringList{"system", "user", "assistant"} << QStringList{"s", "u", "a"}
      << "\n\nSystem: s\n\nUser: u\n\nAssistant: a";
  QTest::addRow("other role, empty content") << QStringList{"tool"} << QStringList{""} << "\n\nTool: ";
}

void TestTextPreferenceReader::renderConversation() {
  QFETCH(QStringList, roles);
  QFETCH(QStringList, contents);
  QFETCH(QString, transcript);
  std::vector<ChatMessage> messages;
  for (int i = 0; i < roles.size(); ++i)
    messages.push_back({roles[i].toStdString(), contents[i].toStdString()});
  QCOMPARE(QString::fromStdString(preflab::core::renderConversation(messages)), transcript);
}

void TestTextPreferenceReader::fileErrors_data() {
  QTest::addColumn<QString>("what");
  QTest::addColumn<QString>("message");
  QTest::addRow("missing file") << "missing"
                                << "no such file";
  QTest::addRow("directory") << "directory"
                             << "is a directory";
  QTest::addRow("zero-byte file") << "empty"
                                  << "no records";
  QTest::addRow("byte-order mark and blank lines only") << "bom"
                                                        << "no records";
}

void TestTextPreferenceReader::fileErrors() {
  QFETCH(QString, what);
  QFETCH(QString, message);
  QVERIFY(m_dir.isValid());
  std::string path = m_dir.filePath("does-not-exist.jsonl").toStdString();
  if (what == "directory")
    path = m_dir.path().toStdString();
  if (what == "empty" || what == "bom") {
    path = m_dir.filePath("empty.jsonl").toStdString();
    writeBytes(path, what == "bom" ? "\xEF\xBB\xBF\r\n\n" : "");
  }
  const std::optional<InputError> error = readError(path, skipping());
  QVERIFY2(error.has_value(), "a file-level problem must throw, even when skipping");
  QCOMPARE(error->file(), path);
  QCOMPARE(error->line(), std::int64_t(0));
  QVERIFY2(error->message().find(message.toStdString()) != std::string::npos, error->what());
}

void TestTextPreferenceReader::everyLineInvalidThrows() {
  QVERIFY(m_dir.isValid());
  const std::string path = m_dir.filePath("all-bad.jsonl").toStdString();
  writeBytes(path, "{\"prompt\": 1, \"chosen\": \"c\", \"rejected\": \"r\"}\n\nnot json\n");
  const std::optional<InputError> error = readError(path, skipping());
  QVERIFY2(error.has_value(), "a file whose every record is invalid must throw");
  QVERIFY2(std::string(error->what()).find("all 2 non-blank lines were invalid") != std::string::npos,
           error->what());
  QVERIFY2(std::string(error->what()).find("line 1: key 'prompt'") != std::string::npos, error->what());
}

void TestTextPreferenceReader::summaryOfNothing() {
  const json summary = summarizeTextPreferences(TextPreferenceData{});
  const json expected = {
      {"format", "auto"}, {"pairs", 0},
      {"unpaired", 0},    {"skipped", 0},
      {"blank_lines", 0}, {"length", {{"prompt", nullptr}, {"chosen", nullptr}, {"rejected", nullptr}}},
      {"ref_logps", 0},   {"chosen_longer_fraction", nullptr},
      {"identical_pairs", {{"count", 0}, {"lines", json::array()}}},
      {"empty_chosen", {{"count", 0}, {"lines", json::array()}}},
      {"empty_rejected", {{"count", 0}, {"lines", json::array()}}}};
  const std::string problems = jsonMismatch(expected, summary, "summary");
  QVERIFY2(problems.empty(), problems.c_str());
}

// A device or FIFO would never end or block forever: only regular files are read.
void TestTextPreferenceReader::whatIsNotAFileIsRefused() {
  for (const std::string path : {"/dev/zero", "/dev/null"}) {
    const auto error = readError(path, {});
    QVERIFY2(error && error->message().find("is not a regular file") != std::string::npos,
             error ? error->what() : "accepted");
  }
  const std::string fifo = m_dir.filePath("pipe.jsonl").toStdString();
  QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
  const auto error = readError(fifo, {});
  QVERIFY2(error && error->message().find("is not a regular file") != std::string::npos,
           error ? error->what() : "accepted");
}

void TestTextPreferenceReader::duplicateKeysAreErrors() {
  const std::string path = m_dir.filePath("dup.jsonl").toStdString();
  writeBytes(path, "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\"}\n"
                   "{\"prompt\": \"p\", \"chosen\": \"a\", \"rejected\": \"b\", \"chosen\": \"c\"}\n");
  const auto error = readError(path, {});
  QVERIFY2(error.has_value(), "a record with a key given twice was accepted");
  QCOMPARE(error->line(), std::int64_t(2));
  QCOMPARE(error->key(), std::string("chosen"));
  QVERIFY2(error->message().find("appears twice") != std::string::npos, error->what());
  // Nested objects have keys of their own: the same key at two levels is fine.
  writeBytes(path, R"({"prompt": [{"role": "user", "content": "x"}], "chosen": [{"role": "assistant", "content": "a"}], )"
                   R"("rejected": [{"role": "assistant", "content": "b"}]})" "\n");
  QVERIFY(!readError(path, {}).has_value());
}

void TestTextPreferenceReader::damagedGzipNamesTheFile() {
  std::string bytes = readBytes(casePath("hh_rlhf_gzip", "input.jsonl.gz"));
  bytes.resize(bytes.size() / 2); // cut mid-stream
  bytes[bytes.size() - 100] ^= 0x5A;
  const std::string path = m_dir.filePath("cut.jsonl.gz").toStdString();
  writeBytes(path, bytes);
  const auto error = readError(path, {});
  QVERIFY2(error.has_value(), "a damaged gzip stream was accepted");
  QCOMPARE(error->file(), path);
}

PREFLAB_TEST_MAIN(TestTextPreferenceReader)

} // namespace preflab_tests
#include "tst_text_preference_reader.moc"
