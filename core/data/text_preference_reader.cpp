// Reads text preference JSONL line by line: format detection, validation, skipping, summaries.
#include "core/data/text_preference_reader.h"

#include "core/io/gzip_input.h"

#include "core/data/text_formats.h"
#include "core/io/input_error.h"
#include "core/io/utf8.h"

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <utility>

namespace preflab::core {

using nlohmann::json;

namespace {

struct FormatName {
  TextFormat format;
  const char *name;
};

constexpr std::array<FormatName, 12> kFormatNames{
    {{TextFormat::Auto, "auto"},
     {TextFormat::TrlStandard, "trl"},
     {TextFormat::TrlConversational, "trl-conversational"},
     {TextFormat::HhRlhf, "hh-rlhf"},
     {TextFormat::UltraFeedback, "ultrafeedback"},
     {TextFormat::KtoUnpaired, "kto"},
     {TextFormat::TrlImplicitPrompt, "trl-implicit-prompt"},
     {TextFormat::ShareGpt, "sharegpt"},
     {TextFormat::LlamaFactoryV1, "llamafactory-v1"},
     {TextFormat::Alpaca, "alpaca"},
     {TextFormat::OpenAiDpo, "openai-dpo"},
     {TextFormat::KtoMessages, "kto-messages"}}};

// The keys whose presence and JSON type decide the format; a mismatch error names the first
// one that differs from the record the format was detected on.
constexpr std::array<const char *, 5> kFormatKeys{"prompt", "chosen", "rejected", "completion",
                                                  "label"};

constexpr const char *kUtf8Bom = "\xEF\xBB\xBF";

// One line of the file without its newline; `bytes` is its full length even when only the first
// maxLineBytes + 1 bytes were kept.
struct RawLine {
  std::string text;
  std::size_t bytes = 0;
  bool endsWithNewline = false;
};

// Reads the next line; false at the end of the file. A bounded read instead of std::getline:
// getline buffers a whole line before its length can be checked, so a multi-gigabyte JSON array
// saved without newlines would exhaust memory instead of producing an error.
bool readLine(std::streambuf &input, std::size_t maxBytes, RawLine &line) {
  line.text.clear();
  line.bytes = 0;
  line.endsWithNewline = false;
  for (int c = input.sbumpc(); c != EOF; c = input.sbumpc()) {
    if (c == '\n') {
      line.endsWithNewline = true;
      break;
    }
    if (line.bytes <= maxBytes)
      line.text.push_back(static_cast<char>(c));
    ++line.bytes;
  }
  if (line.bytes == line.text.size() && !line.text.empty() && line.text.back() == '\r') {
    line.text.pop_back(); // CRLF
    --line.bytes;
  }
  return line.endsWithNewline || line.bytes > 0;
}

bool isBlank(const std::string &text) {
  return text.find_first_not_of(" \t\r") == std::string::npos;
}

[[noreturn]] void fail(const std::string &key, const std::string &message) {
  throw InputError({}, 0, key, message);
}

std::string hexByte(unsigned char byte) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02X", byte);
  return buffer;
}

// nlohmann's messages read "[json.exception.parse_error.101] parse error at line 1, column 7:
// ..."; within one JSONL line that position only confuses, so keep the part after it.
std::string jsonProblem(const std::string &what) {
  const std::size_t column = what.find("column ");
  const std::size_t colon = what.find(": ", column == std::string::npos ? 0 : column);
  if (colon != std::string::npos)
    return what.substr(colon + 2);
  const std::size_t bracket = what.find("] ");
  return bracket == std::string::npos ? what : what.substr(bracket + 2);
}

// A key given twice in one object: JSON leaves it to the reader, and taking the last one silently
// loses the first.
struct DuplicateKey {
  std::string key;
};

json parseStrict(const std::string &text) {
  std::vector<std::set<std::string>> open; // the keys seen in each enclosing object
  return json::parse(text, [&](int, json::parse_event_t event, json &parsed) {
    if (event == json::parse_event_t::object_start)
      open.emplace_back();
    else if (event == json::parse_event_t::object_end && !open.empty())
      open.pop_back();
    else if (event == json::parse_event_t::key && !open.empty() &&
             !open.back().insert(parsed.get<std::string>()).second)
      throw DuplicateKey{parsed.get<std::string>()};
    return true;
  });
}

json parseJson(const RawLine &line) {
  const std::string truncated =
      line.endsWithNewline ? "" : " (the file's last line has no newline: truncated?)";
  try {
    return parseStrict(line.text);
  } catch (const DuplicateKey &duplicate) {
    fail(duplicate.key, "appears twice in one object (which value is meant?)");
  } catch (const json::parse_error &error) {
    fail({}, "invalid JSON at byte " + std::to_string(error.byte) + ": " +
                 jsonProblem(error.what()) + truncated);
  } catch (const json::exception &error) {
    fail({}, "invalid JSON: " + jsonProblem(error.what()) + truncated);
  }
}

std::string keyShape(const json &record, const char *key) {
  const auto it = record.find(key);
  return it == record.end() ? "absent" : it->type_name();
}

std::string reasonOf(const InputError &error) {
  return error.key().empty() ? error.message() : "key '" + error.key() + "': " + error.message();
}

// Only regular files: a FIFO would block and a device (/dev/zero) never ends.
void requireRegularFile(const std::string &path) {
  std::error_code code;
  if (std::filesystem::is_directory(path, code))
    throw InputError(path, 0, {}, "is a directory, not a JSONL file");
  if (!std::filesystem::exists(path, code))
    throw InputError(path, 0, {}, "no such file");
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode))
    throw InputError(path, 0, {}, "is not a regular file (a device, FIFO or socket cannot be read as data)");
}

// The first line of each top-level element of a JSON array held in `text` (1-based), found by a
// scan that skips strings; the parse itself is nlohmann's.
std::vector<std::int64_t> arrayElementLines(const std::string &text) {
  std::vector<std::int64_t> lines;
  std::int64_t line = 1;
  int depth = 0;
  bool inString = false, escaped = false, expectElement = false;
  for (char c : text) {
    if (c == '\n')
      ++line;
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      continue;
    if (expectElement && depth == 1 && c != ']') {
      lines.push_back(line);
      expectElement = false;
    }
    if (c == '"')
      inString = true;
    else if (c == '[' || c == '{')
      expectElement = (++depth == 1);
    else if (c == ']' || c == '}')
      --depth;
    else if (c == ',' && depth == 1)
      expectElement = true;
  }
  return lines;
}

// One read of one file: the state the per-line steps share.
class Reader {
public:
  Reader(std::string path, const TextReadOptions &options) : m_options(options) {
    m_data.path = std::move(path);
    m_data.format = options.format;
  }

  TextPreferenceData run();

private:
  void readRecord(const RawLine &line, std::int64_t number);
  void readArray(std::streambuf &input, const RawLine &first, std::int64_t firstLine);
  void addRecord(const json &record, std::int64_t number);
  TextFormat formatOf(const json &record, std::int64_t number);
  void reject(const InputError &error, std::int64_t number);
  void finish(std::int64_t recordLines) const;

  TextReadOptions m_options;
  TextPreferenceData m_data;
  std::array<std::string, kFormatKeys.size()> m_formatShape; // key shapes of the detecting record
  std::int64_t m_formatLine = 0;                             // where the format was detected
};

TextPreferenceData Reader::run() {
  requireRegularFile(m_data.path);
  GzipInput input(m_data.path);
  if (!input.isOpen())
    throw InputError(m_data.path, 0, {}, "cannot be opened for reading");
  m_data.gzip = input.compressed();
  RawLine line;
  std::int64_t number = 0;
  std::int64_t recordLines = 0;
  try {
    while (readLine(input, m_options.maxLineBytes, line)) {
      ++number;
      if (number == 1 && line.text.rfind(kUtf8Bom, 0) == 0) {
        line.text.erase(0, 3);
        line.bytes -= 3;
      }
      if (line.bytes <= m_options.maxLineBytes && isBlank(line.text)) {
        ++m_data.blankLines;
        continue;
      }
      if (recordLines == 0 && line.text.find_first_not_of(" \t") != std::string::npos &&
          line.text[line.text.find_first_not_of(" \t")] == '[') {
        readArray(input, line, number);
        recordLines = std::int64_t(m_data.pairs.size() + m_data.unpaired.size() + m_data.skipped.size());
        break;
      }
      ++recordLines;
      try {
        readRecord(line, number);
      } catch (const InputError &error) {
        reject(error, number);
      }
    }
  } catch (const InputError &error) {
    if (!error.file().empty())
      throw;
    throw InputError(m_data.path, number, error.key(), error.message()); // a damaged gzip stream
  }
  finish(recordLines);
  return std::move(m_data);
}

// A file that is one JSON array of records (LLaMA-Factory's layout): read whole (bounded), each
// element a record, errors naming the line its element starts on.
void Reader::readArray(std::streambuf &input, const RawLine &first, std::int64_t firstLine) {
  m_data.isJsonArray = true;
  const std::size_t limit = std::size_t(1) << 30;
  std::string text(std::size_t(firstLine - 1), '\n'); // keep line numbers
  text += first.text + "\n";
  RawLine line;
  while (readLine(input, m_options.maxLineBytes, line)) {
    if (text.size() + line.text.size() > limit)
      throw InputError(m_data.path, 0, {}, "is a JSON array over 1 GiB; convert it to JSONL (one record per line)");
    text += line.text + "\n";
  }
  const std::size_t bad = invalidUtf8Offset(text);
  if (bad != std::string::npos)
    throw InputError(m_data.path, std::int64_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(bad), '\n')) + 1,
                     {}, "invalid UTF-8 (" + hexByte(static_cast<unsigned char>(text[bad])) + ")");
  json records;
  try {
    records = parseStrict(text);
  } catch (const DuplicateKey &duplicate) {
    throw InputError(m_data.path, 0, duplicate.key, "appears twice in one object of the JSON array");
  } catch (const json::parse_error &error) {
    const auto at = std::min<std::size_t>(error.byte, text.size());
    throw InputError(m_data.path, std::int64_t(std::count(text.begin(), text.begin() + std::ptrdiff_t(at), '\n')) + 1,
                     {}, "the file is a JSON array, and it is not valid JSON: " + jsonProblem(error.what()));
  }
  if (!records.is_array())
    throw InputError(m_data.path, firstLine, {}, "starts with '[' but is not one JSON array");
  const auto lines = arrayElementLines(text);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::int64_t number = i < lines.size() ? lines[i] : firstLine;
    try {
      addRecord(records[i], number);
    } catch (const InputError &error) {
      reject(error, number);
    }
  }
}

void Reader::readRecord(const RawLine &line, std::int64_t number) {
  if (line.bytes > m_options.maxLineBytes)
    fail({}, "the line has " + std::to_string(line.bytes) + " bytes, over the limit of " +
                 std::to_string(m_options.maxLineBytes) + " (maxLineBytes)");
  const std::size_t bad = invalidUtf8Offset(line.text);
  if (bad != std::string::npos)
    fail({}, "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the line (" +
                 hexByte(static_cast<unsigned char>(line.text[bad])) + ")");
  addRecord(parseJson(line), number);
}

void Reader::addRecord(const json &record, std::int64_t number) {
  const TextFormat format = formatOf(record, number);
  if (format == TextFormat::KtoUnpaired || format == TextFormat::KtoMessages) {
    m_data.unpaired.push_back(parseUnpairedRecord(record, number));
    return;
  }
  m_data.pairs.push_back(parsePairRecord(record, format, number));
  if (m_data.pairs.back().promptFromCommonPrefix)
    m_data.commonPrefixPromptLines.push_back(number);
}

// A forced format is trusted (its parser reports missing keys); an auto-detected one is fixed by
// the first record and every later record must agree with it.
TextFormat Reader::formatOf(const json &record, std::int64_t number) {
  if (m_options.format != TextFormat::Auto)
    return m_options.format;
  const TextFormat detected = detectTextFormat(record);
  if (m_data.format == TextFormat::Auto) {
    m_data.format = detected;
    m_formatLine = number;
    for (std::size_t i = 0; i < kFormatKeys.size(); ++i)
      m_formatShape[i] = keyShape(record, kFormatKeys[i]);
    return detected;
  }
  if (detected == m_data.format)
    return detected;
  std::size_t i = 0;
  while (i + 1 < kFormatKeys.size() && keyShape(record, kFormatKeys[i]) == m_formatShape[i])
    ++i;
  const std::string key = kFormatKeys[i];
  fail(key, "the record is in the " + textFormatName(detected) + " format, but the file is " +
                textFormatName(m_data.format) + " (detected on line " +
                std::to_string(m_formatLine) + "); here '" + key + "' is " +
                keyShape(record, key.c_str()) + ", there it is " + m_formatShape[i]);
}

void Reader::reject(const InputError &error, std::int64_t number) {
  if (!m_options.skipInvalid)
    throw InputError(m_data.path, number, error.key(), error.message());
  m_data.skipped.push_back({number, reasonOf(error)});
}

void Reader::finish(std::int64_t recordLines) const {
  if (recordLines == 0)
    throw InputError(m_data.path, 0, {}, "no records: the file is empty or holds only blank lines");
  if (!m_data.pairs.empty() || !m_data.unpaired.empty())
    return;
  const SkippedLine &first = m_data.skipped.front();
  throw InputError(m_data.path, 0, {},
                   "no valid records: all " + std::to_string(recordLines) +
                       " non-blank lines were invalid; the first, line " +
                       std::to_string(first.line) + ": " + first.reason);
}

json lengthStats(std::vector<std::size_t> lengths) {
  if (lengths.empty())
    return nullptr;
  std::sort(lengths.begin(), lengths.end());
  const std::size_t n = lengths.size();
  const double total = std::accumulate(lengths.begin(), lengths.end(), 0.0);
  const double median =
      n % 2 ? double(lengths[n / 2]) : (double(lengths[n / 2 - 1]) + double(lengths[n / 2])) / 2.0;
  return {{"min", lengths.front()},
          {"mean", total / double(n)},
          {"median", median},
          {"max", lengths.back()}};
}

template <typename Record, typename Field>
json lengthsOf(const std::vector<Record> &records, Field field) {
  std::vector<std::size_t> lengths;
  lengths.reserve(records.size());
  for (const Record &record : records)
    lengths.push_back((record.*field).size());
  return lengthStats(std::move(lengths));
}

// {"present", "mean", "min", "max"} over the records that carry the value; null when none do.
template <typename Value> json presentStats(const std::vector<std::optional<Value>> &values) {
  std::vector<double> present;
  for (const std::optional<Value> &value : values)
    if (value)
      present.push_back(double(*value));
  if (present.empty())
    return nullptr;
  const auto [low, high] = std::minmax_element(present.begin(), present.end());
  const double total = std::accumulate(present.begin(), present.end(), 0.0);
  return {{"present", present.size()},
          {"mean", total / double(present.size())},
          {"min", *low},
          {"max", *high}};
}

void summarizePairs(const std::vector<TextPair> &pairs, json &summary) {
  summary["length"] = {{"prompt", lengthsOf(pairs, &TextPair::prompt)},
                       {"chosen", lengthsOf(pairs, &TextPair::chosen)},
                       {"rejected", lengthsOf(pairs, &TextPair::rejected)}};
  std::vector<std::optional<double>> fractions;
  std::vector<std::optional<int>> counts;
  std::size_t refLogps = 0, chosenLonger = 0;
  for (const TextPair &pair : pairs) {
    fractions.push_back(pair.raterFraction);
    counts.push_back(pair.raterCount);
    refLogps += pair.refChosenLogp && pair.refRejectedLogp ? 1 : 0;
    chosenLonger += pair.chosen.size() > pair.rejected.size() ? 1 : 0;
  }
  if (json stats = presentStats(fractions); !stats.is_null())
    summary["rater_fraction"] = stats;
  if (json stats = presentStats(counts); !stats.is_null())
    summary["rater_count"] = stats;
  summary["ref_logps"] = refLogps;
  summary["chosen_longer_fraction"] =
      pairs.empty() ? json(nullptr) : json(double(chosenLonger) / double(pairs.size()));
}

json linesJson(const std::vector<std::int64_t> &lines) {
  return {{"count", lines.size()}, {"lines", lines}};
}

void summarizeUnpaired(const std::vector<UnpairedExample> &examples, json &summary) {
  summary["length"] = {{"prompt", lengthsOf(examples, &UnpairedExample::prompt)},
                       {"completion", lengthsOf(examples, &UnpairedExample::completion)}};
  std::size_t desirable = 0, refLogps = 0;
  for (const UnpairedExample &example : examples) {
    desirable += example.desirable ? 1 : 0;
    refLogps += example.refLogp ? 1 : 0;
  }
  summary["ref_logps"] = refLogps;
  summary["labels"] = {{"desirable", desirable}, {"undesirable", examples.size() - desirable}};
}

} // namespace

std::string textFormatName(TextFormat format) {
  for (const FormatName &entry : kFormatNames)
    if (entry.format == format)
      return entry.name;
  return "unknown";
}

TextFormat parseTextFormat(const std::string &name) {
  std::string accepted;
  for (const FormatName &entry : kFormatNames) {
    if (name == entry.name)
      return entry.format;
    accepted += std::string(accepted.empty() ? "" : ", ") + entry.name;
  }
  throw InputError({}, 0, "format", "unknown format '" + name + "'; expected one of: " + accepted);
}

TextPreferenceData readTextPreferences(const std::string &path, const TextReadOptions &options) {
  return Reader(path, options).run();
}

json summarizeTextPreferences(const TextPreferenceData &data) {
  json summary = {{"format", textFormatName(data.format)},
                  {"pairs", data.pairs.size()},
                  {"unpaired", data.unpaired.size()},
                  {"skipped", data.skipped.size()},
                  {"blank_lines", data.blankLines}};
  if (data.isUnpaired()) {
    summarizeUnpaired(data.unpaired, summary);
  } else {
    summarizePairs(data.pairs, summary);
    const PairSignal signal = pairSignal(data);
    summary["identical_pairs"] = linesJson(signal.identical);
    summary["empty_chosen"] = linesJson(signal.emptyChosen);
    summary["empty_rejected"] = linesJson(signal.emptyRejected);
    if (!data.commonPrefixPromptLines.empty())
      summary["prompt_from_common_prefix"] = linesJson(data.commonPrefixPromptLines);
  }
  if (data.isJsonArray)
    summary["json_array"] = true;
  if (data.gzip)
    summary["gzip"] = true;
  return summary;
}

PairSignal pairSignal(const TextPreferenceData &data) {
  PairSignal s;
  for (const TextPair &p : data.pairs) {
    if (p.chosen == p.rejected)
      s.identical.push_back(p.line);
    if (p.chosen.empty())
      s.emptyChosen.push_back(p.line);
    if (p.rejected.empty())
      s.emptyRejected.push_back(p.line);
  }
  return s;
}

std::vector<std::int64_t> dropIdenticalPairs(TextPreferenceData &data) {
  std::vector<std::int64_t> lines;
  auto &pairs = data.pairs;
  pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                             [&](const TextPair &p) {
                               if (p.chosen != p.rejected)
                                 return false;
                               lines.push_back(p.line);
                               return true;
                             }),
              pairs.end());
  return lines;
}

} // namespace preflab::core
