// readLabelCandidates: text and image candidate pairs from JSONL, with file:line errors.
#include "core/labels/label_candidates.h"

#include "core/data/text_preference_reader.h"
#include "core/io/input_error.h"
#include "core/io/jsonl.h"
#include "core/io/utf8.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

// The string at the first of `keys` the record has; "" when it has none. A non-string value is
// an error naming the key.
std::string stringField(const nlohmann::json &r, std::initializer_list<const char *> keys, std::string *used,
                        const std::string &path, std::int64_t line) {
  for (const char *k : keys) {
    const auto it = r.find(k);
    if (it == r.end() || it->is_null())
      continue;
    if (!it->is_string())
      throw InputError(path, line, k, "must be a string");
    if (used)
      *used = k;
    return it->get<std::string>();
  }
  return {};
}

// Whether the file's first record is a candidate line (completion_a / image pair) rather than a
// preference file of another format.
bool isCandidateFile(const std::string &path) {
  bool candidate = true, seen = false;
  try {
    forEachJsonlObject(
        path,
        [&](nlohmann::json &r, std::int64_t) {
          if (seen)
            return;
          seen = true;
          candidate = r.contains("completion_a") || r.contains("image_a") || r.contains("jpg_0") ||
                      r.contains("caption");
        },
        [&](std::int64_t) {});
  } catch (const InputError &) {
    return true; // let the candidate reader say what is wrong
  }
  return candidate || !seen;
}

// A preference file PrefLab reads (TRL, HH-RLHF, UltraFeedback, ...): its pairs to relabel or
// audit, chosen first (the order is not kept as a label).
std::vector<LabelItem> preferenceFileItems(const std::string &path, std::vector<SkippedCandidate> *skipped) {
  TextReadOptions opts;
  opts.skipInvalid = skipped != nullptr;
  const auto data = readTextPreferences(path, opts);
  if (data.pairs.empty() && !data.unpaired.empty())
    throw InputError(path, 0, {}, "an unpaired (KTO) file has no pairs to compare");
  if (skipped)
    for (const auto &s : data.skipped)
      skipped->push_back({s.line, InputError(path, s.line, {}, s.reason).what()});
  std::vector<LabelItem> out;
  std::set<std::string> ids;
  for (const auto &p : data.pairs) {
    LabelItem item;
    item.kind = "text";
    item.id = p.id.empty() ? std::to_string(p.line) : p.id;
    item.prompt = p.prompt;
    item.candidates[0] = p.chosen;
    item.candidates[1] = p.rejected;
    item.source = path;
    item.line = p.line;
    std::string problem = p.chosen == p.rejected
                              ? "chosen and rejected are the same: nothing to choose between"
                          : !ids.insert(item.id).second ? "id '" + item.id + "' appears twice in the file"
                                                        : std::string();
    if (!problem.empty()) {
      const InputError e(path, p.line, {}, problem);
      if (!skipped)
        throw e;
      skipped->push_back({p.line, e.what()});
      continue;
    }
    out.push_back(std::move(item));
  }
  return out;
}

} // namespace

std::vector<LabelItem> readLabelCandidates(const std::string &path, std::vector<SkippedCandidate> *skipped) {
  if (!isCandidateFile(path))
    return preferenceFileItems(path, skipped);
  std::vector<LabelItem> out;
  std::set<std::string> ids;
  const auto folder = fs::path(path).parent_path();
  const auto stem = fs::path(path).stem().string();
  auto record = [&](nlohmann::json &r, std::int64_t line) {
    LabelItem item;
    item.source = path;
    item.line = line;
    if (const auto it = r.find("id"); it != r.end() && !it->is_null()) {
      if (it->is_string())
        item.id = it->get<std::string>();
      else if (it->is_number_integer())
        item.id = std::to_string(it->get<std::int64_t>());
      else
        throw InputError(path, line, "id", "must be a string or an integer");
    } else {
      item.id = stem + "-" + std::to_string(line);
    }
    if (item.id.empty())
      throw InputError(path, line, "id", "is empty");
    std::string keyA, keyB;
    const bool image = r.contains("image_a") || r.contains("jpg_0") || r.contains("caption");
    if (image) {
      item.kind = "image";
      item.prompt = stringField(r, {"caption", "prompt"}, nullptr, path, line);
      item.candidates[0] = stringField(r, {"image_a", "jpg_0"}, &keyA, path, line);
      item.candidates[1] = stringField(r, {"image_b", "jpg_1"}, &keyB, path, line);
      if (keyA.empty() || keyB.empty())
        throw InputError(path, line, keyA.empty() ? "image_a" : "image_b",
                         "missing: an image pair needs image_a and image_b (or jpg_0 and jpg_1)");
      for (int s = 0; s < 2; ++s) {
        auto p = fs::path(item.candidates[s]);
        if (p.is_relative())
          p = folder / p;
        if (!fs::is_regular_file(p))
          throw InputError(path, line, s == 0 ? keyA : keyB, "no such image: " + p.string());
        item.candidates[s] = p.lexically_normal().string();
      }
    } else {
      item.kind = "text";
      if (const auto it = r.find("prompt"); it != r.end() && !it->is_string())
        throw InputError(path, line, "prompt",
                         "must be a string (conversational prompts: label the rendered text)");
      item.prompt = stringField(r, {"prompt"}, nullptr, path, line);
      item.candidates[0] = stringField(r, {"completion_a", "chosen"}, &keyA, path, line);
      item.candidates[1] = stringField(r, {"completion_b", "rejected"}, &keyB, path, line);
      if (keyA.empty() || keyB.empty())
        throw InputError(path, line, keyA.empty() ? "completion_a" : "completion_b",
                         "missing: a text pair needs completion_a and completion_b (or chosen and "
                         "rejected)");
      for (int s = 0; s < 2; ++s)
        if (item.candidates[s].empty())
          throw InputError(path, line, s == 0 ? keyA : keyB, "is empty: nothing to compare");
    }
    if (item.candidates[0] == item.candidates[1])
      throw InputError(path, line, keyB, "is the same as " + keyA + ": nothing to choose between");
    if (!ids.insert(item.id).second)
      throw InputError(path, line, "id", "'" + item.id + "' appears twice in the file");
    out.push_back(std::move(item));
  };
  if (!skipped) {
    forEachJsonlObject(path, record);
    return out;
  }
  forEachJsonlObject(
      path,
      [&](nlohmann::json &r, std::int64_t line) {
        try {
          record(r, line);
        } catch (const InputError &e) {
          skipped->push_back({line, e.what()});
        }
      },
      [&](std::int64_t line) {
        skipped->push_back({line, InputError(path, line, {}, "not a JSON object").what()});
      });
  return out;
}

std::vector<std::string> readPromptList(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path, 0, {}, "cannot open file");
  std::vector<std::string> prompts;
  std::string text;
  for (std::int64_t line = 1; std::getline(in, text); ++line) {
    if (!text.empty() && text.back() == '\r')
      text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos)
      continue;
    if (invalidUtf8Offset(text) != std::string::npos)
      throw InputError(path, line, {}, "is not valid UTF-8");
    if (text.front() == '{') {
      const auto r = nlohmann::json::parse(text, nullptr, false);
      if (r.is_discarded() || !r.is_object())
        throw InputError(path, line, {}, "starts with '{' but is not a JSON object");
      std::string key;
      auto p = stringField(r, {"prompt", "caption"}, &key, path, line);
      if (p.empty())
        throw InputError(path, line, "prompt",
                         "a JSON line needs a non-empty string \"prompt\" or \"caption\"");
      prompts.push_back(std::move(p));
    } else {
      prompts.push_back(text);
    }
  }
  if (prompts.empty())
    throw InputError(path, 0, {}, "holds no prompt");
  return prompts;
}

} // namespace preflab::core
