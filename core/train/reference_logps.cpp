// Reference log-probs in batches under no-grad, with an on-disk cache keyed by content hashes.
#include "core/train/reference_logps.h"

#include "core/io/atomic_file.h"
#include "core/io/content_hash.h"
#include "core/io/input_error.h"
#include "core/train/pair_scoring.h"

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

namespace preflab::core {

namespace {

std::uint64_t hashIds(std::uint64_t h, const TokenIds &ids) {
  const std::uint64_t n = ids.size();
  h = fnv1a(h, &n, sizeof n);
  return fnv1a(h, ids.data(), ids.size() * sizeof(std::int64_t));
}

// A log-prob sum is finite and at most 0; anything else is not a reference's score.
bool plausibleLogp(double v) { return std::isfinite(v) && v <= 1e-6; }

} // namespace

void computeReferenceLogps(const CausalLm &reference, TokenizedData &data, const ReferenceOptions &options) {
  std::vector<const TokenIds *> ps, rs;
  for (const auto &p : data.pairs) {
    ps.insert(ps.end(), {&p.prompt, &p.prompt});
    rs.insert(rs.end(), {&p.chosen, &p.rejected});
  }
  for (const auto &u : data.unpaired) {
    ps.insert(ps.end(), {&u.prompt, &u.prompt});
    rs.insert(rs.end(), {&u.completion, &u.klCompletion});
  }
  const auto scores = scoreResponses(reference, ps, rs, options).sums;
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (!std::isfinite(scores[i])) {
      const auto row = i / 2;
      const auto id = row < data.pairs.size() ? data.pairs[row].id : data.unpaired[row - data.pairs.size()].id;
      throw InputError({}, 0, "ref_model_name_or_path",
                       "the reference model gives a non-finite log-prob for example '" + id +
                           "' (its weights hold NaN or inf?); nothing was cached");
    }
  for (std::size_t i = 0; i < data.pairs.size(); ++i) {
    data.pairs[i].refChosen = scores[2 * i];
    data.pairs[i].refRejected = scores[2 * i + 1];
  }
  for (std::size_t i = 0; i < data.unpaired.size(); ++i) {
    data.unpaired[i].ref = scores[2 * i];
    data.unpaired[i].refKl = scores[2 * i + 1];
  }
}

std::string referenceCacheKey(const CausalLm &reference, const TokenizedData &data,
                              const ReferenceOptions &o) {
  std::uint64_t h = kFnvOffset;
  // The whole configuration: settings such as n_head change the forward pass, not a shape
  // (dropout aside: the reference is scored in eval mode).
  auto config = reference->shapeJson();
  config.erase("dropout");
  const auto shape = config.dump();
  h = fnv1a(h, shape.data(), shape.size());
  for (const auto &item : reference->named_parameters()) {
    auto t = item.value().detach().to(torch::kCPU, torch::kFloat32).contiguous();
    h = fnv1a(h, item.key().data(), item.key().size());
    h = fnv1a(h, t.data_ptr<float>(), std::size_t(t.numel()) * sizeof(float));
  }
  for (const auto &p : data.pairs)
    h = hashIds(hashIds(hashIds(h, p.prompt), p.chosen), p.rejected);
  for (const auto &u : data.unpaired)
    h = hashIds(hashIds(hashIds(h, u.prompt), u.completion), u.klCompletion);
  const std::int64_t opts[] = {o.maxLength, o.maxPromptLength, std::int64_t(data.pairs.size()),
                               std::int64_t(data.unpaired.size())};
  h = fnv1a(h, opts, sizeof opts);
  return hexDigest(h);
}

bool loadReferenceCache(const std::string &cacheDir, const std::string &key, TokenizedData &data) {
  const auto file = cacheDir + "/reflogps-" + key + ".json";
  std::ifstream in(file);
  if (!in)
    return false;
  auto json = nlohmann::json::parse(in, nullptr, false);
  if (!json.is_object() || !json.contains("a") || !json.contains("b") || !json["a"].is_array() ||
      !json["b"].is_array() || json["a"].size() != data.size() || json["b"].size() != data.size())
    return false; // a damaged cache is recomputed, not trusted
  for (std::size_t i = 0; i < data.size(); ++i) // any value that is not a plausible log-prob: recompute
    if (!json["a"][i].is_number() || !json["b"][i].is_number() || !plausibleLogp(json["a"][i].get<double>()) ||
        !plausibleLogp(json["b"][i].get<double>()))
      return false;
  for (std::size_t i = 0; i < data.pairs.size(); ++i) {
    data.pairs[i].refChosen = json["a"][i].get<double>();
    data.pairs[i].refRejected = json["b"][i].get<double>();
  }
  for (std::size_t i = 0; i < data.unpaired.size(); ++i) {
    data.unpaired[i].ref = json["a"][i].get<double>();
    data.unpaired[i].refKl = json["b"][i].get<double>();
  }
  return true;
}

void saveReferenceCache(const std::string &cacheDir, const std::string &key, const TokenizedData &data) {
  std::filesystem::create_directories(cacheDir);
  nlohmann::json a = nlohmann::json::array(), b = nlohmann::json::array();
  for (const auto &p : data.pairs) {
    a.push_back(*p.refChosen);
    b.push_back(*p.refRejected);
  }
  for (const auto &u : data.unpaired) {
    a.push_back(*u.ref);
    b.push_back(*u.refKl);
  }
  writeFileAtomic(cacheDir + "/reflogps-" + key + ".json", nlohmann::json{{"a", a}, {"b", b}}.dump());
}

} // namespace preflab::core
