// Reads text preference JSONL line by line: format detection, validation, skipping, summaries.
#include "core/data/text_preference_reader.h"

#include "core/data/text_formats.h"
#include "core/io/input_error.h"
#include "core/io/utf8.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <utility>

namespace preflab::core {

using nlohmann::json;

namespace {

struct FormatName {
  TextFormat format;
  const char *name;
};

constexpr std::array<FormatName, 6> kFormatNames{
    {{TextFormat::Auto, "auto"},
     {TextFormat::TrlStandard, "trl"},
     {TextFormat::TrlConversational, "trl-conversational"},
     {TextFormat::HhRlhf, "hh-rlhf"},
     {TextFormat::UltraFeedback, "ultrafeedback"},
     {TextFormat::KtoUnpaired, "kto"}}};

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

// Offset of the first byte of the first ill-formed UTF-8 sequence, or npos. Rejects overlong
// forms, surrogates and code points above U+10FFFF, as the Unicode standard's table 3-7 does.
std::size_t invalidUtf8Offset(const std::string &text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t end = utf8CharEnd(text, i);
    if (end == std::string::npos || end == i) // truncated or malformed character
      return i;
    i = end;
  }
  return std::string::npos;
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

json parseJson(const RawLine &line) {
  const std::string truncated =
      line.endsWithNewline ? "" : " (the file's last line has no newline: truncated?)";
  try {
    return json::parse(line.text);
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

std::ifstream openInput(const std::string &path) {
  std::error_code code;
  if (std::filesystem::is_directory(path, code))
    throw InputError(path, 0, {}, "is a directory, not a JSONL file");
  std::ifstream input(path, std::ios::binary);
  if (!input)
    throw InputError(path, 0, {},
                     std::filesystem::exists(path, code) ? "cannot be opened for reading"
                                                         : "no such file");
  return input;
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
  TextFormat formatOf(const json &record, std::int64_t number);
  void reject(const InputError &error, std::int64_t number);
  void finish(std::int64_t recordLines) const;

  TextReadOptions m_options;
  TextPreferenceData m_data;
  std::array<std::string, kFormatKeys.size()> m_formatShape; // key shapes of the detecting record
  std::int64_t m_formatLine = 0;                             // where the format was detected
};

TextPreferenceData Reader::run() {
  std::ifstream input = openInput(m_data.path);
  RawLine line;
  std::int64_t number = 0;
  std::int64_t recordLines = 0;
  while (readLine(*input.rdbuf(), m_options.maxLineBytes, line)) {
    ++number;
    if (number == 1 && line.text.rfind(kUtf8Bom, 0) == 0) {
      line.text.erase(0, 3);
      line.bytes -= 3;
    }
    if (line.bytes <= m_options.maxLineBytes && isBlank(line.text)) {
      ++m_data.blankLines;
      continue;
    }
    ++recordLines;
    try {
      readRecord(line, number);
    } catch (const InputError &error) {
      reject(error, number);
    }
  }
  finish(recordLines);
  return std::move(m_data);
}

void Reader::readRecord(const RawLine &line, std::int64_t number) {
  if (line.bytes > m_options.maxLineBytes)
    fail({}, "the line has " + std::to_string(line.bytes) + " bytes, over the limit of " +
                 std::to_string(m_options.maxLineBytes) + " (maxLineBytes)");
  const std::size_t bad = invalidUtf8Offset(line.text);
  if (bad != std::string::npos)
    fail({}, "invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the line (" +
                 hexByte(static_cast<unsigned char>(line.text[bad])) + ")");
  const json record = parseJson(line);
  const TextFormat format = formatOf(record, number);
  if (format == TextFormat::KtoUnpaired)
    m_data.unpaired.push_back(parseUnpairedRecord(record, number));
  else
    m_data.pairs.push_back(parsePairRecord(record, format, number));
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
  if (data.isUnpaired())
    summarizeUnpaired(data.unpaired, summary);
  else
    summarizePairs(data.pairs, summary);
  return summary;
}

} // namespace preflab::core
