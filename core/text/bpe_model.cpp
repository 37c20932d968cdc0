// The BPE merge loop: symbols in a linked list, candidate pairs in a min-heap by (rank, position),
// stale candidates skipped; O(n log n) in the word's length, so a 50 MB word still finishes.
#include "core/text/bpe_model.h"

#include "core/text/unicode_text.h"

#include <cstdio>
#include <queue>
#include <stdexcept>

namespace preflab::core {

BpeModel::BpeModel(std::unordered_map<std::string, std::int64_t> vocab,
                   const std::vector<std::pair<std::string, std::string>> &merges, BpeOptions options)
    : m_vocab(std::move(vocab)), m_options(std::move(options)) {
  std::int64_t maxId = -1;
  for (const auto &[token, id] : m_vocab) {
    if (id < 0 || id > std::int64_t(INT32_MAX))
      throw std::invalid_argument("token '" + token + "' has id " + std::to_string(id) + ", outside 0..2^31");
    maxId = std::max(maxId, id);
  }
  m_idToToken.assign(std::size_t(maxId + 1), std::string());
  for (const auto &[token, id] : m_vocab)
    m_idToToken[std::size_t(id)] = token;
  m_merges.reserve(merges.size());
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const auto &[a, b] = merges[rank];
    const auto ia = m_vocab.find(a), ib = m_vocab.find(b), ir = m_vocab.find(a + b);
    if (ia == m_vocab.end() || ib == m_vocab.end() || ir == m_vocab.end())
      throw std::invalid_argument("merge " + std::to_string(rank) + " ('" + a + "' '" + b +
                                  "'): its parts and their concatenation must be in the vocabulary");
    m_merges.insert_or_assign(pairKey(ia->second, ib->second),
                              Merge{std::int32_t(rank), ir->second}); // last wins, as in tokenizers
  }
  if (m_options.unkToken) {
    const auto it = m_vocab.find(*m_options.unkToken);
    if (it == m_vocab.end())
      throw std::invalid_argument("unk_token '" + *m_options.unkToken + "' is not in the vocabulary");
    m_unkId = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    const auto it = m_vocab.find(name);
    m_byteIds[b] = it == m_vocab.end() ? -1 : it->second;
  }
}

std::optional<std::int64_t> BpeModel::tokenToId(std::string_view token) const {
  const auto it = m_vocab.find(std::string(token));
  if (it == m_vocab.end())
    return std::nullopt;
  return it->second;
}

const std::string *BpeModel::idToToken(std::int64_t id) const {
  if (id < 0 || id >= std::int64_t(m_idToToken.size()) || m_idToToken[std::size_t(id)].empty())
    return nullptr;
  return &m_idToToken[std::size_t(id)];
}

void BpeModel::encodeWord(std::string_view word, std::vector<std::int64_t> &out) const {
  if (word.empty())
    return;
  const bool affixes = !m_options.continuingSubwordPrefix.empty() || !m_options.endOfWordSuffix.empty();
  if (m_options.ignoreMerges) {
    if (const auto id = tokenToId(word)) {
      out.push_back(*id);
      return;
    }
  }
  // Initial symbols: one per character (with the affixes), bytes for unknown characters. An
  // unknown is held until the next known character, as tokenizers does (so byte-fallback bytes
  // that follow it come first).
  std::vector<std::int64_t> symbols;
  symbols.reserve(word.size());
  bool unkPending = false;
  std::string scratch;
  for (std::size_t pos = 0; pos < word.size();) {
    const auto cp = unicode::codePointAt(word, pos);
    const bool first = pos == 0, last = pos + cp.length == word.size();
    std::string_view piece = word.substr(pos, cp.length);
    if (affixes) {
      scratch.assign(first ? "" : m_options.continuingSubwordPrefix);
      scratch.append(piece);
      if (last)
        scratch.append(m_options.endOfWordSuffix);
      piece = scratch;
    }
    if (const auto id = tokenToId(piece)) {
      if (unkPending)
        symbols.push_back(*m_unkId);
      unkPending = false;
      symbols.push_back(*id);
    } else {
      bool bytesFound = m_options.byteFallback;
      for (std::size_t i = 0; bytesFound && i < cp.length; ++i)
        bytesFound = m_byteIds[static_cast<unsigned char>(word[pos + i])] >= 0;
      if (bytesFound) {
        for (std::size_t i = 0; i < cp.length; ++i)
          symbols.push_back(m_byteIds[static_cast<unsigned char>(word[pos + i])]);
      } else if (m_unkId) {
        if (unkPending && !m_options.fuseUnk)
          symbols.push_back(*m_unkId);
        unkPending = true;
      }
    }
    pos += cp.length;
  }
  if (unkPending)
    symbols.push_back(*m_unkId);
  if (symbols.size() > 1 && !m_merges.empty()) {
    const std::size_t n = symbols.size();
    std::vector<std::int64_t> prev(n), next(n);
    std::vector<bool> alive(n, true);
    for (std::size_t i = 0; i < n; ++i) {
      prev[i] = std::int64_t(i) - 1;
      next[i] = i + 1 < n ? std::int64_t(i + 1) : -1;
    }
    struct Candidate {
      std::int32_t rank;
      std::int64_t pos;
      std::int64_t left, right, result; // the symbol ids it was made for: stale when they changed
      bool operator>(const Candidate &o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    auto consider = [&](std::int64_t i) {
      if (i < 0 || next[std::size_t(i)] < 0)
        return;
      const auto j = std::size_t(next[std::size_t(i)]);
      const auto it = m_merges.find(pairKey(symbols[std::size_t(i)], symbols[j]));
      if (it != m_merges.end())
        heap.push({it->second.rank, i, symbols[std::size_t(i)], symbols[j], it->second.result});
    };
    for (std::size_t i = 0; i + 1 < n; ++i)
      consider(std::int64_t(i));
    while (!heap.empty()) {
      const auto c = heap.top();
      heap.pop();
      const auto i = std::size_t(c.pos);
      if (!alive[i] || symbols[i] != c.left || next[i] < 0 || symbols[std::size_t(next[i])] != c.right)
        continue;
      const auto j = std::size_t(next[i]);
      symbols[i] = c.result;
      alive[j] = false;
      next[i] = next[j];
      if (next[j] >= 0)
        prev[std::size_t(next[j])] = std::int64_t(i);
      consider(prev[i]);
      consider(std::int64_t(i));
    }
    for (std::int64_t i = 0; i >= 0; i = next[std::size_t(i)])
      out.push_back(symbols[std::size_t(i)]);
    return;
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
}

} // namespace preflab::core
