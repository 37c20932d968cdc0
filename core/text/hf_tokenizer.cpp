// tokenizer.json end to end: added tokens split out first (those marked "normalized" after the
// normalizer), then normalizer, pre-tokenizer and BPE per piece, then the post-processor.
#include "core/text/hf_tokenizer.h"

#include "core/io/input_error.h"
#include "core/text/bpe_model.h"
#include "core/text/hf_tokenizer_stages.h"
#include "core/text/unicode_text.h"

#include <algorithm>
#include <array>
#include <unordered_map>

namespace preflab::core {

namespace {

[[noreturn]] void fail(const std::string &key, const std::string &message) {
  throw InputError({}, 0, key, message);
}

struct AddedToken {
  std::int64_t id = 0;
  std::string content;
  bool special = false, normalized = false, lstrip = false, rstrip = false, singleWord = false;
};

// Leftmost-longest matching of a set of added tokens, as tokenizers' Aho-Corasick matcher with
// MatchKind::LeftmostLongest: at the first position where any token starts, the longest one.
class TokenMatcher {
public:
  void add(std::string pattern, std::size_t token) {
    if (pattern.empty())
      return;
    auto &list = m_byFirst[static_cast<unsigned char>(pattern[0])];
    list.push_back({std::move(pattern), token});
    std::stable_sort(list.begin(), list.end(),
                     [](const auto &a, const auto &b) { return a.first.size() > b.first.size(); });
  }
  bool empty() const {
    return std::all_of(m_byFirst.begin(), m_byFirst.end(), [](const auto &l) { return l.empty(); });
  }
  // The next match at or after `from`: {start, length, token}; start == npos when none.
  struct Match {
    std::size_t start, length, token;
  };
  Match next(std::string_view text, std::size_t from) const {
    for (std::size_t p = from; p < text.size(); ++p) {
      const auto &list = m_byFirst[static_cast<unsigned char>(text[p])];
      for (const auto &[pattern, token] : list)
        if (text.compare(p, pattern.size(), pattern) == 0)
          return {p, pattern.size(), token};
    }
    return {std::string_view::npos, 0, 0};
  }

private:
  std::array<std::vector<std::pair<std::string, std::size_t>>, 256> m_byFirst;
};

bool isWordCharacter(char32_t c) {
  return c == '_' || unicode::isAlphanumeric(c);
}

char32_t lastCodePoint(std::string_view text) {
  const auto starts = unicode::codePointStarts(text);
  return starts.empty() ? 0 : unicode::codePointAt(text, starts.back()).value;
}

// A stretch of input: an added token's id, or text still to be tokenised.
struct Span {
  std::string text;
  std::int64_t token = -1;
  bool atStart = false;
};

} // namespace

struct HfTokenizer::Impl {
  nlohmann::json description;
  std::vector<AddedToken> added;
  std::unordered_map<std::int64_t, std::size_t> addedById;
  TokenMatcher rawMatcher, normalizedMatcher;
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<hf::Normalizer> normalizer;
  std::unique_ptr<hf::PreTokenizer> preTokenizer;
  std::unique_ptr<hf::Decoder> decoder;
  std::vector<std::int64_t> prefix, suffix; // the post-processor's special tokens around a sequence
  std::int64_t eos = -1;
  std::optional<std::int64_t> bos;
  std::string chatTemplate;
  std::int64_t vocabSize = 0;

  // Splits every text span of `spans` on the tokens of `matcher`, with their lstrip, rstrip and
  // single_word rules.
  void splitOnAdded(std::vector<Span> &spans, const TokenMatcher &matcher) const {
    if (matcher.empty())
      return;
    std::vector<Span> out;
    for (auto &span : spans) {
      if (span.token >= 0) {
        out.push_back(std::move(span));
        continue;
      }
      const std::string_view s = span.text;
      std::size_t offset = 0;
      for (auto m = matcher.next(s, 0); m.start != std::string_view::npos;
           m = matcher.next(s, m.start + m.length)) {
        const auto &token = added[m.token];
        std::size_t start = m.start, stop = m.start + m.length;
        if (token.singleWord) {
          const bool startSpace = start == 0 || !isWordCharacter(lastCodePoint(s.substr(0, start)));
          const bool stopSpace = stop == s.size() || !isWordCharacter(unicode::codePointAt(s, stop).value);
          if (!startSpace || !stopSpace)
            continue;
        }
        if (token.lstrip) {
          std::size_t newStart = start;
          const auto starts = unicode::codePointStarts(s.substr(0, start));
          for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
            if (!unicode::isWhitespace(unicode::codePointAt(s, *it).value))
              break;
            newStart = *it;
          }
          start = std::max(newStart, offset);
        }
        if (token.rstrip)
          while (stop < s.size()) {
            const auto cp = unicode::codePointAt(s, stop);
            if (!unicode::isWhitespace(cp.value))
              break;
            stop += cp.length;
          }
        if (start > offset)
          out.push_back({std::string(s.substr(offset, start - offset)), -1, span.atStart && offset == 0});
        out.push_back({{}, token.id, false});
        offset = stop;
      }
      if (offset < s.size())
        out.push_back({std::string(s.substr(offset)), -1, span.atStart && offset == 0});
    }
    spans = std::move(out);
  }

  std::vector<std::int64_t> encode(const std::string &text, bool special) const {
    std::vector<Span> spans{{text, -1, true}};
    splitOnAdded(spans, rawMatcher);
    if (normalizer)
      for (auto &span : spans)
        if (span.token < 0)
          span.text = normalizer->normalize(std::move(span.text), span.atStart);
    splitOnAdded(spans, normalizedMatcher);
    std::vector<std::int64_t> ids;
    if (special)
      ids = prefix;
    std::vector<hf::Piece> pieces;
    for (auto &span : spans) {
      if (span.token >= 0) {
        ids.push_back(span.token);
        continue;
      }
      if (span.text.empty())
        continue;
      pieces.assign(1, {std::move(span.text), span.atStart});
      if (preTokenizer)
        preTokenizer->split(pieces);
      for (const auto &p : pieces)
        model->encodeWord(p.text, ids);
    }
    if (special)
      ids.insert(ids.end(), suffix.begin(), suffix.end());
    return ids;
  }

  std::optional<std::string> token(std::int64_t id) const {
    if (const auto it = addedById.find(id); it != addedById.end())
      return added[it->second].content;
    if (const auto *t = model->idToToken(id))
      return *t;
    return std::nullopt;
  }

  std::string decode(const std::vector<std::int64_t> &ids, bool skipSpecial) const {
    std::vector<std::string> tokens;
    for (const auto id : ids) {
      if (skipSpecial)
        if (const auto it = addedById.find(id); it != addedById.end() && added[it->second].special)
          continue;
      if (auto t = token(id))
        tokens.push_back(std::move(*t));
    }
    std::string out;
    if (!decoder) {
      for (std::size_t i = 0; i < tokens.size(); ++i)
        out += (i ? " " : "") + tokens[i];
      return out;
    }
    for (const auto &t : decoder->decodeChain(std::move(tokens)))
      out += t;
    return out;
  }

  void readModel(const nlohmann::json &m) {
    const auto type = hf::typeOf(m, "model");
    if (type != "BPE")
      fail("model.type", "model '" + type + "' is not supported (supported: BPE)");
    if (m.contains("dropout") && !m["dropout"].is_null() &&
        !(m["dropout"].is_number() && m["dropout"].get<double>() == 0.0))
      fail("model.dropout",
           "BPE dropout is a training-time augmentation; a tokenizer for scoring needs null");
    const auto &vocab = hf::field(m, "vocab", "model");
    if (!vocab.is_object())
      fail("model.vocab", "must be an object of token: id");
    std::unordered_map<std::string, std::int64_t> v;
    v.reserve(vocab.size());
    for (const auto &[token, id] : vocab.items()) {
      if (!id.is_number_integer())
        fail("model.vocab." + token, "id must be an integer");
      v.emplace(token, id.get<std::int64_t>());
    }
    const auto &list = hf::field(m, "merges", "model");
    if (!list.is_array())
      fail("model.merges", "must be a list");
    std::vector<std::pair<std::string, std::string>> merges;
    merges.reserve(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto &e = list[i];
      const auto key = "model.merges[" + std::to_string(i) + "]";
      if (e.is_string()) { // "a b"
        const auto s = e.get<std::string>();
        const auto space = s.find(' ');
        if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
          fail(key, "must be two tokens separated by one space");
        merges.emplace_back(s.substr(0, space), s.substr(space + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        fail(key, "must be \"a b\" or [\"a\", \"b\"]");
      }
    }
    BpeOptions o;
    auto optionalString = [&](const char *name) -> std::string {
      if (!m.contains(name) || m[name].is_null())
        return {};
      if (!m[name].is_string())
        fail(std::string("model.") + name, "must be a string or null");
      return m[name].get<std::string>();
    };
    if (const auto unk = optionalString("unk_token"); !unk.empty())
      o.unkToken = unk;
    o.continuingSubwordPrefix = optionalString("continuing_subword_prefix");
    o.endOfWordSuffix = optionalString("end_of_word_suffix");
    o.fuseUnk = hf::boolField(m, "fuse_unk", "model", false);
    o.byteFallback = hf::boolField(m, "byte_fallback", "model", false);
    o.ignoreMerges = hf::boolField(m, "ignore_merges", "model", false);
    try {
      model = std::make_unique<BpeModel>(std::move(v), merges, std::move(o));
    } catch (const std::invalid_argument &e) {
      fail("model", e.what());
    }
  }

  void readAddedTokens(const nlohmann::json &list) {
    if (list.is_null())
      return;
    if (!list.is_array())
      fail("added_tokens", "must be a list");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const auto key = "added_tokens[" + std::to_string(i) + "]";
      const auto &e = list[i];
      AddedToken t;
      const auto &id = hf::field(e, "id", key);
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0)
        fail(key + ".id", "must be a non-negative integer");
      t.content = hf::stringField(e, "content", key);
      if (std::any_of(added.begin(), added.end(),
                      [&](const AddedToken &o) { return o.content == t.content; }))
        continue; // tokenizers keeps the first of two equal added tokens
      // The id tokenizers gives it, whatever the file says (it only warns): the model's id for a
      // token in its vocabulary, else the next id after the vocabulary and the tokens before.
      if (const auto inModel = model->tokenToId(t.content)) {
        t.id = *inModel;
      } else {
        std::int64_t next = model->vocabEntries();
        for (const auto &o : added)
          if (o.id >= model->vocabEntries())
            next = std::max(next, o.id + 1);
        t.id = next;
      }
      t.special = hf::boolField(e, "special", key, false);
      t.normalized = hf::boolField(e, "normalized", key, !t.special);
      t.lstrip = hf::boolField(e, "lstrip", key, false);
      t.rstrip = hf::boolField(e, "rstrip", key, false);
      t.singleWord = hf::boolField(e, "single_word", key, false);
      addedById[t.id] = added.size();
      added.push_back(std::move(t));
    }
    for (std::size_t i = 0; i < added.size(); ++i) {
      const auto &t = added[i];
      if (t.normalized)
        normalizedMatcher.add(normalizer ? normalizer->normalize(t.content) : t.content, i);
      else
        rawMatcher.add(t.content, i);
    }
  }

  std::vector<std::int64_t> specialIds(const nlohmann::json &specials, const std::string &name,
                                       const std::string &key) {
    if (!specials.is_object() || !specials.contains(name))
      fail(key, "special token '" + name + "' is not in post_processor.special_tokens");
    const auto &ids = hf::field(specials[name], "ids", "post_processor.special_tokens." + name);
    std::vector<std::int64_t> out;
    for (const auto &id : ids) {
      if (!id.is_number_integer())
        fail("post_processor.special_tokens." + name + ".ids", "must be integers");
      out.push_back(id.get<std::int64_t>());
    }
    return out;
  }

  void readPostProcessor(const nlohmann::json &p, const std::string &key) {
    if (p.is_null())
      return;
    const auto type = hf::typeOf(p, key);
    if (type == "ByteLevel")
      return; // offsets only
    if (type == "Sequence") {
      const auto &list = hf::field(p, "processors", key);
      for (std::size_t i = 0; list.is_array() && i < list.size(); ++i)
        readPostProcessor(list[i], key + ".processors[" + std::to_string(i) + "]");
      return;
    }
    std::vector<std::int64_t> before, after;
    if (type == "TemplateProcessing") {
      const auto &single = hf::field(p, "single", key);
      if (!single.is_array())
        fail(key + ".single", "must be a list");
      bool seenSequence = false;
      for (const auto &piece : single) {
        if (piece.is_object() && piece.contains("SpecialToken")) {
          auto ids =
              specialIds(hf::field(p, "special_tokens", key),
                         hf::stringField(piece["SpecialToken"], "id", key + ".single"), key + ".single");
          (seenSequence ? after : before)
              .insert((seenSequence ? after : before).end(), ids.begin(), ids.end());
        } else if (piece.is_object() && piece.contains("Sequence")) {
          seenSequence = true;
        } else {
          fail(key + ".single", "each entry must be {\"SpecialToken\": ...} or {\"Sequence\": ...}");
        }
      }
    } else if (type == "RobertaProcessing" || type == "BertProcessing") {
      auto idOf = [&](const char *name) {
        const auto &e = hf::field(p, name, key);
        if (!e.is_array() || e.size() != 2 || !e[1].is_number_integer())
          fail(key + "." + name, "must be [token, id]");
        return e[1].get<std::int64_t>();
      };
      before.push_back(idOf("cls"));
      after.push_back(idOf("sep"));
    } else {
      fail(key + ".type",
           "post-processor '" + type +
               "' is not supported (supported: TemplateProcessing, ByteLevel, RobertaProcessing, "
               "BertProcessing, Sequence)");
    }
    prefix.insert(prefix.begin(), before.begin(), before.end());
    suffix.insert(suffix.end(), after.begin(), after.end());
  }

  std::optional<std::int64_t> findToken(const std::string &content) const {
    for (const auto &t : added)
      if (t.content == content)
        return t.id;
    return model->tokenToId(content);
  }
};

HfTokenizer::HfTokenizer(nlohmann::json description, SpecialTokenNames names)
    : m_impl(std::make_unique<Impl>()) {
  auto &d = *m_impl;
  if (!description.is_object())
    fail({}, std::string("a tokenizer.json must be a JSON object, got ") + description.type_name());
  d.readModel(hf::field(description, "model", {}));
  auto stage = [&](const char *name) -> const nlohmann::json & {
    static const nlohmann::json none;
    return description.contains(name) ? description[name] : none;
  };
  d.normalizer = hf::makeNormalizer(stage("normalizer"), "normalizer");
  d.preTokenizer = hf::makePreTokenizer(stage("pre_tokenizer"), "pre_tokenizer");
  d.decoder = hf::makeDecoder(stage("decoder"), "decoder");
  d.readAddedTokens(stage("added_tokens"));
  d.readPostProcessor(stage("post_processor"), "post_processor");
  d.vocabSize = d.model->vocabSize();
  for (const auto &t : d.added)
    d.vocabSize = std::max(d.vocabSize, t.id + 1);
  // The end of a sequence: the name the configuration gives, else the usual names.
  std::vector<std::string> eosNames;
  if (!names.eos.empty())
    eosNames.push_back(names.eos);
  for (const char *n : {"<|endoftext|>", "</s>", "<|end_of_text|>", "<|im_end|>", "<|eot_id|>", "<eos>"})
    eosNames.push_back(n);
  for (const auto &n : eosNames)
    if (const auto id = d.findToken(n)) {
      d.eos = *id;
      break;
    }
  if (!names.bos.empty())
    d.bos = d.findToken(names.bos);
  d.chatTemplate = names.chatTemplate;
  d.description = std::move(description);
}

HfTokenizer::~HfTokenizer() = default;

std::vector<std::int64_t> HfTokenizer::encode(const std::string &text) const {
  return m_impl->encode(text, false);
}

std::vector<std::int64_t> HfTokenizer::encodeWithSpecialTokens(const std::string &text) const {
  return m_impl->encode(text, true);
}

std::string HfTokenizer::decode(const std::vector<std::int64_t> &ids) const {
  return m_impl->decode(ids, true);
}

std::string HfTokenizer::decodeTokens(const std::vector<std::int64_t> &ids, bool skipSpecialTokens) const {
  return m_impl->decode(ids, skipSpecialTokens);
}

std::int64_t HfTokenizer::vocabSize() const {
  return m_impl->vocabSize;
}

std::int64_t HfTokenizer::eosId() const {
  return m_impl->eos;
}

std::optional<std::int64_t> HfTokenizer::bosId() const {
  return m_impl->bos;
}

std::optional<std::string> HfTokenizer::idToToken(std::int64_t id) const {
  return m_impl->token(id);
}

std::string HfTokenizer::chatTemplate() const {
  return m_impl->chatTemplate;
}

nlohmann::json HfTokenizer::describe() const {
  return m_impl->description;
}

} // namespace preflab::core
