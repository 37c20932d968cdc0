// Tokenization of preference data: responses get EOS, KTO rows get a mismatched completion.
#include "core/train/tokenized_data.h"

namespace preflab::core {

namespace {
TokenIds withEos(TokenIds ids, std::int64_t eos) {
  ids.push_back(eos);
  return ids;
}
} // namespace

bool TokenizedData::hasReference() const {
  for (const auto &p : pairs)
    if (!p.refChosen || !p.refRejected)
      return false;
  for (const auto &u : unpaired)
    if (!u.ref || !u.refKl)
      return false;
  return size() > 0;
}

TokenizedData tokenizeData(const TextPreferenceData &data, const Tokenizer &tokenizer, bool asUnpaired) {
  TokenizedData out;
  const auto eos = tokenizer.eosId();
  if (!data.isUnpaired() && !asUnpaired) {
    for (const auto &p : data.pairs)
      out.pairs.push_back({p.id, encodePrompt(tokenizer, p.prompt), withEos(tokenizer.encode(p.chosen), eos),
                           withEos(tokenizer.encode(p.rejected), eos), p.raterFraction,
                           p.refChosenLogp, p.refRejectedLogp});
    return out;
  }
  if (data.isUnpaired()) {
    for (const auto &u : data.unpaired)
      out.unpaired.push_back({u.id, encodePrompt(tokenizer, u.prompt), withEos(tokenizer.encode(u.completion), eos),
                              {}, u.desirable, u.refLogp, std::nullopt});
  } else {
    for (const auto &p : data.pairs) {
      const auto prompt = encodePrompt(tokenizer, p.prompt);
      out.unpaired.push_back({p.id + "/chosen", prompt, withEos(tokenizer.encode(p.chosen), eos), {}, true,
                              p.refChosenLogp, std::nullopt});
      out.unpaired.push_back({p.id + "/rejected", prompt, withEos(tokenizer.encode(p.rejected), eos), {},
                              false, p.refRejectedLogp, std::nullopt});
    }
  }
  // A fixed rotation (precomputable) that pairs each prompt with another example's completion;
  // pairs split in two sit side by side, so they rotate by two to leave their own prompt.
  const auto n = out.unpaired.size();
  const std::size_t shift = data.isUnpaired() ? 1 : 2;
  for (std::size_t i = 0; i < n; ++i)
    out.unpaired[i].klCompletion = out.unpaired[(i + (n > shift ? shift : 0)) % n].completion;
  return out;
}

} // namespace preflab::core
