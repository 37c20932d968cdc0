// Candidate generation for labeling (text and images) and the informativeness of text pairs.
#include "core/jobs/label_generation.h"

#include "core/data/fashion_mnist.h"
#include "core/data/image_output.h"
#include "core/diffusion/diffusion_tools.h"
#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/io/utf8.h"
#include "core/labels/label_agreement.h"
#include "core/metrics/ranking_analysis.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

// Where a candidate file's images go: <out stem>-images/ beside it.
fs::path imagesFolder(const std::string &out) {
  return fs::path(out).parent_path() / (fs::path(out).stem().string() + "-images");
}

void checkGenerationRequest(const CandidateGenerationRequest &r, bool images) {
  if (r.out.empty())
    throw InputError({}, 0, "out", "a candidate file to write is needed");
  if (!fs::is_directory(r.model))
    throw InputError(r.model, 0, "model", "is not a model folder");
  if (r.prompts.empty())
    throw InputError({}, 0, "prompts", "no prompts to generate candidates for");
  for (std::size_t i = 0; i < r.prompts.size(); ++i)
    if (r.prompts[i].empty())
      throw InputError({}, 0, "prompts", "prompt " + std::to_string(i + 1) + " is empty");
  // Items of a store point at these files: never write over a file or images of an earlier run.
  const auto imagesDir = imagesFolder(r.out);
  if (fs::exists(r.out))
    throw InputError(r.out, 0, "out", "exists: candidates are never written over (a store may hold them)");
  if (images && fs::exists(imagesDir))
    throw InputError(imagesDir.string(), 0, "out",
                     "exists: images are never written over (a store may show them)");
  if (!images && !(r.sampling.temperature > 0.0))
    throw InputError({}, 0, "temperature", "must be > 0: two greedy samples of one prompt are the same text");
}

std::string itemId(const std::string &stem, std::size_t i) {
  return stem + "-" + std::to_string(i + 1);
}

std::string leftOut(std::size_t i, const std::string &why) {
  return "prompt " + std::to_string(i + 1) + ": " + why;
}

void generateTextLines(const CandidateGenerationRequest &r, const CompareProgressFn &progress,
                       const std::atomic<bool> *cancel, const std::string &stem, std::string &lines,
                       CandidateGenerationResult &result) {
  CompareRequest c;
  c.modelA = c.modelB = r.model;
  c.prompts = r.prompts;
  for (std::size_t i = 0; i < r.prompts.size(); ++i) {
    c.seeds.push_back(r.seed + 2 * i);
    c.seedsB.push_back(r.seed + 2 * i + 1);
  }
  c.sampling = r.sampling;
  c.scorer = "none";
  c.device = r.device;
  c.batchSize = r.batchSize;
  const auto done = compareGenerations(c, progress, cancel);
  for (std::size_t i = 0; i < done.size(); ++i) {
    const auto &p = done[i];
    // Byte-level models can end a sample inside a character: stored as U+FFFD, as displayed.
    const auto a = sanitizedUtf8(p.a.text), b = sanitizedUtf8(p.b.text);
    if (a == b || a.empty() || b.empty()) {
      ++result.identical;
      result.left.push_back(leftOut(i, a == b ? "the two samples are the same text" : "a sample is empty"));
      continue;
    }
    nlohmann::json line = {{"id", itemId(stem, i)}, {"prompt", p.prompt},   {"completion_a", a},
                           {"completion_b", b},     {"seed_a", c.seeds[i]}, {"seed_b", c.seedsB[i]},
                           {"model", r.model}};
    lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    ++result.items;
  }
  result.cancelled = done.size() < r.prompts.size();
}

void generateImageLines(const CandidateGenerationRequest &r, const CompareProgressFn &progress,
                        const std::atomic<bool> *cancel, const std::string &stem, std::string &lines,
                        CandidateGenerationResult &result) {
  if (progress)
    progress("loading model", 0.0);
  DiffusionGenerator generator(r.model, r.device);
  const auto folder = imagesFolder(r.out);
  fs::create_directories(folder);
  const auto n = r.prompts.size();
  const auto step = std::size_t(std::max<std::int64_t>(1, r.batchSize));
  std::size_t finished = 0;
  for (std::size_t begin = 0; begin < n; begin += step) {
    if (cancel && cancel->load())
      break;
    const auto end = std::min(n, begin + step);
    std::vector<std::string> prompts;
    std::vector<std::uint64_t> seeds;
    for (auto i = begin; i < end; ++i)
      for (std::uint64_t side = 0; side < 2; ++side) {
        prompts.push_back(r.prompts[i]);
        seeds.push_back(r.seed + 2 * i + side);
      }
    const auto images = generator.generate(prompts, seeds, r.imageSampling);
    for (auto i = begin; i < end; ++i) {
      const auto &a = images[2 * (i - begin)];
      const auto &b = images[2 * (i - begin) + 1];
      if (a.pixels == b.pixels) {
        ++result.identical;
        result.left.push_back(leftOut(i, "the two images are the same"));
        continue;
      }
      const auto id = itemId(stem, i);
      // Paths in the file are relative to its folder, as readLabelCandidates resolves them.
      const auto relative = folder.filename().string() + "/" + id;
      const std::string nameA = relative + "_a.png", nameB = relative + "_b.png";
      writePngFile((folder / (id + "_a.png")).string(), toImageBuffer(a));
      writePngFile((folder / (id + "_b.png")).string(), toImageBuffer(b));
      nlohmann::json line = {
          {"id", id},         {"caption", r.prompts[i]},          {"image_a", nameA},
          {"image_b", nameB}, {"seed_a", seeds[2 * (i - begin)]}, {"seed_b", seeds[2 * (i - begin) + 1]},
          {"model", r.model}};
      lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      ++result.items;
    }
    finished = end;
    if (progress)
      progress("generating", double(end) / double(n));
  }
  result.cancelled = finished < n;
}

} // namespace

bool isDiffusionModelFolder(const std::string &dir) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(dir) / "diffusion_config.json", ec);
}

CandidateGenerationResult generateLabelCandidates(const CandidateGenerationRequest &r,
                                                  const CompareProgressFn &progress,
                                                  const std::atomic<bool> *cancel) {
  CandidateGenerationResult result;
  result.images = isDiffusionModelFolder(r.model);
  checkGenerationRequest(r, result.images);
  const auto stem = fs::path(r.out).stem().string();
  std::string lines;
  if (result.images)
    generateImageLines(r, progress, cancel, stem, lines, result);
  else
    generateTextLines(r, progress, cancel, stem, lines, result);
  writeFileAtomic(r.out, lines);
  result.path = r.out;
  return result;
}

std::vector<std::string> builtInLabelPrompts(bool images, std::int64_t count, std::uint64_t seed) {
  if (!images)
    return sentimentPrompts(count, seed);
  std::vector<std::string> out;
  for (std::int64_t k = 0; k < count; ++k)
    out.push_back(fashionMnistPrompt(int(k % kFashionMnistClasses),
                                     int((k / kFashionMnistClasses) % kFashionPairTemplates)));
  return out;
}

std::vector<PairInformativeness> scoreInformativeness(const InformativenessRequest &r,
                                                      const std::vector<LabelItem> &items,
                                                      const std::vector<bool> &firstWins,
                                                      const CompareProgressFn &progress,
                                                      const std::atomic<bool> *cancel) {
  if (firstWins.size() != items.size())
    throw InputError({}, 0, "first_wins", "one presumed winner per item is needed");
  for (const auto *dir : {&r.policy, &r.reference})
    if (!dir->empty() && !fs::is_directory(*dir))
      throw InputError(*dir, 0, "model", "is not a model folder");
  CompareRequest c;
  c.modelA = c.modelB = r.policy;
  c.referenceDir = r.reference;
  c.scorer = "none";
  c.device = r.device;
  c.batchSize = r.batchSize;
  std::vector<std::string> winners, losers;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto &item = items[i];
    if (item.kind != "text")
      throw InputError(item.source, item.line, "kind",
                       "item " + item.id + " is an image pair: informativeness scores text pairs only");
    c.prompts.push_back(item.prompt);
    c.seeds.push_back(0);
    winners.push_back(item.candidates[firstWins[i] ? 0 : 1]);
    losers.push_back(item.candidates[firstWins[i] ? 1 : 0]);
  }
  auto fromScores = [&r](const ComparedPrompt &p) {
    PairInformativeness s;
    s.margin = r.beta * ((p.a.logpModel - p.a.logpReference) - (p.b.logpModel - p.b.logpReference));
    s.c = p.b.logpReference - p.a.logpReference;
    s.difficulty = difficultyThreshold(s.c, r.beta);
    return s;
  };
  // An item whose prompt cannot be scored (empty, or longer than the models take) is set aside
  // with its reason and the rest scored again: the reason names the first such prompt.
  std::vector<PairInformativeness> out(items.size());
  std::vector<std::size_t> left;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (items[i].prompt.empty())
      out[i].error = "item " + items[i].id + ": empty prompt";
    else
      left.push_back(i);
  }
  while (!left.empty()) {
    auto some = c;
    some.prompts.clear();
    some.seeds.assign(left.size(), 0);
    std::vector<std::string> w, l;
    for (auto i : left) {
      some.prompts.push_back(c.prompts[i]);
      w.push_back(winners[i]);
      l.push_back(losers[i]);
    }
    try {
      const auto scored = scoreExistingTexts(some, w, l, progress, cancel);
      for (std::size_t k = 0; k < scored.size(); ++k)
        out[left[k]] = fromScores(scored[k]);
      out.resize(scored.size() == left.size() ? out.size() : left[scored.size()]); // cancelled: what was done
      return out;
    } catch (const InputError &e) {
      // "prompt K has N tokens; ...": K counts the prompts of this call from 1.
      std::size_t k = 0;
      if (e.key() != "prompt" || std::sscanf(e.message().c_str(), "prompt %zu", &k) != 1 || k < 1 ||
          k > left.size())
        throw; // the models, not an item
      out[left[k - 1]].error = "item " + items[left[k - 1]].id + ": " + e.message();
      left.erase(left.begin() + std::ptrdiff_t(k - 1));
    }
  }
  return out;
}

std::vector<bool> presumedFirstWins(const std::vector<StoredItem> &items,
                                    const std::vector<LabelEvent> &current) {
  std::map<std::int64_t, bool> secondWins;
  for (const auto &a : computeAgreement(current).items)
    if (a.majority && *a.majority == LabelChoice::Second)
      secondWins[a.item] = true;
  std::vector<bool> out;
  for (const auto &s : items)
    out.push_back(secondWins.count(s.key) == 0);
  return out;
}

RankableItems rankableItems(const std::vector<StoredItem> &stored, const std::vector<LabelEvent> &current) {
  std::vector<StoredItem> text;
  for (const auto &s : stored)
    if (s.item.kind == "text")
      text.push_back(s);
  RankableItems out;
  out.firstWins = presumedFirstWins(text, current);
  for (const auto &s : text) {
    out.keys.push_back(s.key);
    out.items.push_back(s.item);
  }
  return out;
}

} // namespace preflab::core
