// BpeModel: byte-pair-encoding of one pre-tokenized word, as in Hugging Face's tokenizers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace preflab::core {

struct BpeOptions {
  std::optional<std::string> unkToken; // unknown characters: this token (none: dropped)
  std::string continuingSubwordPrefix; // prepended to every symbol but a word's first
  std::string endOfWordSuffix;         // appended to a word's last symbol
  bool fuseUnk = false;                // consecutive unknowns become one unknown token
  bool byteFallback = false;           // unknown characters as their bytes' <0xXX> tokens
  bool ignoreMerges = false;           // a word found whole in the vocabulary is one token
};

// Immutable after construction; thread-safe to call.
class BpeModel {
public:
  // `merges` in rank order (first = applied first); a merge whose parts or result is not in
  // the vocabulary throws std::invalid_argument naming it.
  BpeModel(std::unordered_map<std::string, std::int64_t> vocab,
           const std::vector<std::pair<std::string, std::string>> &merges, BpeOptions options);

  // Appends the ids of `word` (an already normalized and pre-tokenized piece) to `out`.
  void encodeWord(std::string_view word, std::vector<std::int64_t> &out) const;

  std::optional<std::int64_t> tokenToId(std::string_view token) const;
  const std::string *idToToken(std::int64_t id) const;                        // nullptr when unknown
  std::int64_t vocabSize() const { return std::int64_t(m_idToToken.size()); } // largest id + 1
  std::int64_t vocabEntries() const { return std::int64_t(m_vocab.size()); }

private:
  struct PairHash {
    std::size_t operator()(std::uint64_t v) const { return std::hash<std::uint64_t>()(v); }
  };
  struct Merge {
    std::int32_t rank;
    std::int64_t result;
  };
  static std::uint64_t pairKey(std::int64_t a, std::int64_t b) {
    return (std::uint64_t(std::uint32_t(a)) << 32) | std::uint32_t(b);
  }

  std::unordered_map<std::string, std::int64_t> m_vocab;
  std::vector<std::string> m_idToToken; // by id; "" for ids the vocabulary skips
  std::unordered_map<std::uint64_t, Merge, PairHash> m_merges;
  BpeOptions m_options;
  std::optional<std::int64_t> m_unkId;
  std::int64_t m_byteIds[256];
};

} // namespace preflab::core
