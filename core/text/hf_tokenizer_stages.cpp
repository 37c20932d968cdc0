// Normalizers, pre-tokenizers and decoders of tokenizer.json, written from the format's
// documented behaviour (splitting rules, byte-level table, Metaspace and byte-fallback decoding).
#include "core/text/hf_tokenizer_stages.h"

#include "core/io/input_error.h"
#include "core/text/text_regex.h"
#include "core/text/unicode_text.h"

#include <array>
#include <functional>
#include <utility>

namespace preflab::core::hf {

namespace {

[[noreturn]] void fail(const std::string &key, const std::string &message) {
  throw InputError({}, 0, key, message);
}

std::string join(const std::string &key, const std::string &name) {
  return key.empty() ? name : key + "." + name;
}

// A pattern field: {"String": literal} or {"Regex": pattern}.
TextRegex patternField(const nlohmann::json &j, const std::string &key) {
  const auto &p = field(j, "pattern", key);
  const auto where = join(key, "pattern");
  if (!p.is_object() || p.size() != 1)
    fail(where, "must be {\"String\": ...} or {\"Regex\": ...}");
  const std::string kind = p.begin().key();
  const nlohmann::json &value = p.begin().value();
  if (!value.is_string())
    fail(where + "." + kind, "must be a string");
  try {
    if (kind == "String")
      return TextRegex(TextRegex::escape(value.get<std::string>()));
    if (kind == "Regex")
      return TextRegex(value.get<std::string>());
  } catch (const std::invalid_argument &e) {
    fail(where, e.what());
  }
  fail(where, "unknown pattern kind '" + kind + "' (known: String, Regex)");
}

// [begin, end) ranges covering the whole text, each marked as a match or not.
using Segments = std::vector<std::pair<std::pair<std::size_t, std::size_t>, bool>>;

Segments regexSegments(const TextRegex &re, std::string_view text) {
  Segments out;
  std::size_t prev = 0;
  for (const auto &[b, e] : re.findAll(text)) {
    if (prev != b)
      out.push_back({{prev, b}, false});
    out.push_back({{b, e}, true});
    prev = e;
  }
  if (prev != text.size())
    out.push_back({{prev, text.size()}, false});
  return out;
}

Segments charSegments(const std::function<bool(char32_t)> &match, std::string_view text) {
  Segments out;
  std::size_t last = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const auto cp = unicode::codePointAt(text, pos);
    if (match(cp.value)) {
      if (last < pos)
        out.push_back({{last, pos}, false});
      out.push_back({{pos, pos + cp.length}, true});
      last = pos + cp.length;
    }
    pos += cp.length;
  }
  if (last < text.size())
    out.push_back({{last, text.size()}, false});
  return out;
}

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior behaviorField(const nlohmann::json &j, const std::string &key) {
  const auto name = stringField(j, "behavior", key);
  if (name == "Removed")
    return Behavior::Removed;
  if (name == "Isolated")
    return Behavior::Isolated;
  if (name == "MergedWithPrevious")
    return Behavior::MergedWithPrevious;
  if (name == "MergedWithNext")
    return Behavior::MergedWithNext;
  if (name == "Contiguous")
    return Behavior::Contiguous;
  fail(join(key, "behavior"),
       "unknown split behaviour '" + name +
           "' (known: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
}

// tokenizers' split rules: the segments to keep, with the matches merged as `behavior` says.
void splitPieces(std::vector<Piece> &pieces, Behavior behavior, bool invert,
                 const std::function<Segments(std::string_view)> &find) {
  std::vector<Piece> out;
  for (auto &piece : pieces) {
    auto segments = find(piece.text);
    if (invert)
      for (auto &s : segments)
        s.second = !s.second;
    std::vector<std::pair<std::size_t, std::size_t>> kept;
    bool previous = false;
    if (behavior == Behavior::MergedWithNext) {
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        if (it->second && !previous && !kept.empty())
          kept.back().first = it->first.first;
        else
          kept.push_back(it->first);
        previous = it->second;
      }
      std::reverse(kept.begin(), kept.end());
    } else {
      for (const auto &[range, match] : segments) {
        if (behavior == Behavior::Removed) {
          if (!match)
            kept.push_back(range);
        } else if (behavior == Behavior::Isolated) {
          kept.push_back(range);
        } else if (behavior == Behavior::Contiguous && match == previous && !kept.empty()) {
          kept.back().second = range.second;
        } else if (behavior == Behavior::MergedWithPrevious && match && !previous && !kept.empty()) {
          kept.back().second = range.second;
        } else {
          kept.push_back(range);
        }
        previous = match;
      }
    }
    for (const auto &[b, e] : kept)
      if (e > b)
        out.push_back({piece.text.substr(b, e - b), piece.atStart && b == 0});
  }
  pieces = std::move(out);
}

// ---- normalizers ----

class NormalizerSequence : public Normalizer {
public:
  explicit NormalizerSequence(std::vector<std::unique_ptr<Normalizer>> parts) : m_parts(std::move(parts)) {}
  std::string normalize(std::string text, bool &atStart) const override {
    for (const auto &n : m_parts)
      text = n->normalize(std::move(text), atStart);
    return text;
  }

private:
  std::vector<std::unique_ptr<Normalizer>> m_parts;
};

class UnicodeForm : public Normalizer {
public:
  explicit UnicodeForm(unicode::Form form) : m_form(form) {}
  std::string normalize(std::string text, bool &) const override { return unicode::normalize(text, m_form); }

private:
  unicode::Form m_form;
};

class Lowercase : public Normalizer {
public:
  std::string normalize(std::string text, bool &) const override { return unicode::lowercase(text); }
};

class Strip : public Normalizer {
public:
  Strip(bool left, bool right) : m_left(left), m_right(right) {}
  std::string normalize(std::string text, bool &atStart) const override {
    std::size_t begin = 0, end = text.size();
    if (m_left)
      while (begin < end) {
        const auto cp = unicode::codePointAt(text, begin);
        if (!unicode::isWhitespace(cp.value))
          break;
        begin += cp.length;
      }
    if (m_right) {
      const auto starts = unicode::codePointStarts(std::string_view(text).substr(begin, end - begin));
      for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
        if (!unicode::isWhitespace(unicode::codePointAt(text, begin + *it).value))
          break;
        end = begin + *it;
      }
    }
    if (begin > 0)
      atStart = false;
    return text.substr(begin, end - begin);
  }

private:
  bool m_left, m_right;
};

class Prepend : public Normalizer {
public:
  explicit Prepend(std::string prefix) : m_prefix(std::move(prefix)) {}
  std::string normalize(std::string text, bool &) const override {
    return text.empty() ? text : m_prefix + text;
  }

private:
  std::string m_prefix;
};

class Replace : public Normalizer {
public:
  Replace(TextRegex pattern, std::string content)
      : m_pattern(std::move(pattern)), m_content(std::move(content)) {}
  std::string normalize(std::string text, bool &atStart) const override {
    if (m_content.empty() && atStart) { // the first characters replaced by nothing
      const auto matches = m_pattern.findAll(text);
      atStart = matches.empty() || matches.front().first > 0;
    }
    return replaceAll(m_pattern, m_content, text);
  }
  static std::string replaceAll(const TextRegex &pattern, const std::string &content,
                                const std::string &text) {
    std::string out;
    std::size_t prev = 0;
    for (const auto &[b, e] : pattern.findAll(text)) {
      out.append(text, prev, b - prev);
      out += content;
      prev = e;
    }
    out.append(text, prev, std::string::npos);
    return out;
  }

private:
  TextRegex m_pattern;
  std::string m_content;
};

// ---- pre-tokenizers ----

class PreTokenizerSequence : public PreTokenizer {
public:
  explicit PreTokenizerSequence(std::vector<std::unique_ptr<PreTokenizer>> parts)
      : m_parts(std::move(parts)) {}
  void split(std::vector<Piece> &pieces) const override {
    for (const auto &p : m_parts)
      p->split(pieces);
  }

private:
  std::vector<std::unique_ptr<PreTokenizer>> m_parts;
};

// GPT-2's pattern, which ByteLevel splits with when use_regex is set.
const TextRegex &gpt2Pattern() {
  static const TextRegex re(R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  return re;
}

class ByteLevel : public PreTokenizer {
public:
  ByteLevel(bool addPrefixSpace, bool useRegex) : m_addPrefixSpace(addPrefixSpace), m_useRegex(useRegex) {}
  void split(std::vector<Piece> &pieces) const override {
    if (m_addPrefixSpace)
      for (auto &p : pieces)
        if (p.text.empty() || p.text[0] != ' ')
          p.text.insert(0, 1, ' ');
    if (m_useRegex)
      splitPieces(pieces, Behavior::Isolated, false,
                  [](std::string_view t) { return regexSegments(gpt2Pattern(), t); });
    for (auto &p : pieces) {
      std::string mapped;
      mapped.reserve(p.text.size() * 2);
      for (unsigned char c : p.text)
        mapped += byteToCharUtf8(c);
      p.text = std::move(mapped);
    }
  }

private:
  bool m_addPrefixSpace, m_useRegex;
};

class Split : public PreTokenizer {
public:
  Split(TextRegex pattern, Behavior behavior, bool invert)
      : m_pattern(std::move(pattern)), m_behavior(behavior), m_invert(invert) {}
  void split(std::vector<Piece> &pieces) const override {
    splitPieces(pieces, m_behavior, m_invert,
                [this](std::string_view t) { return regexSegments(m_pattern, t); });
  }

private:
  TextRegex m_pattern;
  Behavior m_behavior;
  bool m_invert;
};

class Digits : public PreTokenizer {
public:
  explicit Digits(bool individual) : m_individual(individual) {}
  void split(std::vector<Piece> &pieces) const override {
    splitPieces(pieces, m_individual ? Behavior::Isolated : Behavior::Contiguous, false,
                [](std::string_view t) { return charSegments(unicode::isNumeric, t); });
  }

private:
  bool m_individual;
};

enum class PrependScheme { Always, First, Never };

PrependScheme prependScheme(const nlohmann::json &j, const std::string &key) {
  if (!j.contains("prepend_scheme")) // files of older versions: add_prefix_space
    return boolField(j, "add_prefix_space", key, true) ? PrependScheme::Always : PrependScheme::Never;
  const auto s = stringField(j, "prepend_scheme", key);
  if (s == "always")
    return PrependScheme::Always;
  if (s == "first")
    return PrependScheme::First;
  if (s == "never")
    return PrependScheme::Never;
  fail(join(key, "prepend_scheme"), "unknown prepend_scheme '" + s + "' (known: always, first, never)");
}

class Metaspace : public PreTokenizer {
public:
  Metaspace(std::string replacement, PrependScheme scheme, bool splitPieces)
      : m_replacement(std::move(replacement)), m_spaces(TextRegex::escape(" ")), m_scheme(scheme),
        m_split(splitPieces) {}
  void split(std::vector<Piece> &pieces) const override {
    for (auto &p : pieces) {
      p.text = Replace::replaceAll(m_spaces, m_replacement, p.text);
      const bool starts = p.text.compare(0, m_replacement.size(), m_replacement) == 0;
      if (!starts && (m_scheme == PrependScheme::Always || (m_scheme == PrependScheme::First && p.atStart)))
        p.text.insert(0, m_replacement);
    }
    if (m_split) {
      const char32_t r = unicode::codePointAt(m_replacement, 0).value;
      splitPieces(pieces, Behavior::MergedWithNext, false,
                  [r](std::string_view t) { return charSegments([r](char32_t c) { return c == r; }, t); });
    }
  }

private:
  std::string m_replacement;
  TextRegex m_spaces;
  PrependScheme m_scheme;
  bool m_split;
};

// ---- decoders ----

class DecoderSequence : public Decoder {
public:
  explicit DecoderSequence(std::vector<std::unique_ptr<Decoder>> parts) : m_parts(std::move(parts)) {}
  std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
    for (const auto &d : m_parts)
      tokens = d->decodeChain(std::move(tokens));
    return tokens;
  }

private:
  std::vector<std::unique_ptr<Decoder>> m_parts;
};

// Every token's characters back to bytes (a token with a character outside the table keeps its
// own bytes), all of them joined into one string; invalid UTF-8 becomes U+FFFD.
class ByteLevelDecoder : public Decoder {
public:
  std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (const auto &t : tokens) {
      std::string own;
      bool mapped = true;
      for (std::size_t pos = 0; pos < t.size() && mapped;) {
        const auto cp = unicode::codePointAt(t, pos);
        const int b = charToByte(cp.value);
        mapped = b >= 0;
        own.push_back(char(b));
        pos += cp.length;
      }
      bytes += mapped ? own : t;
    }
    return {lossyUtf8(bytes)};
  }
  static std::string lossyUtf8(const std::string &bytes) {
    if (unicode::isValidUtf8(bytes))
      return bytes;
    std::string out;
    for (std::size_t pos = 0; pos < bytes.size();) {
      const auto cp = unicode::codePointAt(bytes, pos);
      unicode::appendUtf8(out, cp.value);
      pos += cp.length;
    }
    return out;
  }
};

class ByteFallbackDecoder : public Decoder {
public:
  std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    std::size_t pendingCount = 0;
    auto flush = [&] {
      if (pendingCount == 0)
        return;
      if (unicode::isValidUtf8(pending))
        out.push_back(pending);
      else
        for (std::size_t i = 0; i < pendingCount; ++i)
          out.push_back("\xEF\xBF\xBD");
      pending.clear();
      pendingCount = 0;
    };
    for (auto &t : tokens) {
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit((unsigned char)t[3]) &&
          std::isxdigit((unsigned char)t[4])) {
        pending.push_back(char(std::stoi(t.substr(3, 2), nullptr, 16)));
        ++pendingCount;
        continue;
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    return out;
  }
};

class FuseDecoder : public Decoder {
public:
  std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
    std::string all;
    for (const auto &t : tokens)
      all += t;
    return {all};
  }
};

class StripDecoder : public Decoder {
public:
  StripDecoder(std::string content, std::size_t start, std::size_t stop)
      : m_content(std::move(content)), m_start(start), m_stop(stop) {}
  std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
    for (auto &t : tokens) {
      std::size_t begin = 0, end = t.size();
      for (std::size_t i = 0;
           i < m_start && t.compare(begin, m_content.size(), m_content) == 0 && begin < end; ++i)
        begin += m_content.size();
      for (std::size_t i = 0; i < m_stop && end >= begin + m_content.size() &&
                              t.compare(end - m_content.size(), m_content.size(), m_content) == 0;
           ++i)
        end -= m_content.size();
      t = t.substr(begin, end - begin);
    }
    return tokens;
  }

private:
  std::string m_content;
  std::size_t m_start, m_stop;
};

class ReplaceDecoder : public Decoder {
public:
  ReplaceDecoder(TextRegex pattern, std::string content)
      : m_pattern(std::move(pattern)), m_content(std::move(content)) {}
  std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
    for (auto &t : tokens)
      t = Replace::replaceAll(m_pattern, m_content, t);
    return tokens;
  }

private:
  TextRegex m_pattern;
  std::string m_content;
};

// The replacement character becomes a space, except in the first token, where it is dropped
// (unless nothing was prepended), as tokenizers' Metaspace decoder does.
class MetaspaceDecoder : public Decoder {
public:
  MetaspaceDecoder(std::string replacement, PrependScheme scheme)
      : m_replacement(std::move(replacement)), m_scheme(scheme) {}
  std::vector<std::string> decodeChain(std::vector<std::string> tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      const std::string with = i == 0 && m_scheme != PrependScheme::Never ? "" : " ";
      std::string out;
      const auto &t = tokens[i];
      for (std::size_t pos = 0; pos < t.size();) {
        if (t.compare(pos, m_replacement.size(), m_replacement) == 0) {
          out += with;
          pos += m_replacement.size();
        } else {
          out.push_back(t[pos++]);
        }
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }

private:
  std::string m_replacement;
  PrependScheme m_scheme;
};

template <class Stage, class Make>
std::vector<std::unique_ptr<Stage>> parts(const nlohmann::json &j, const char *name, const std::string &key,
                                          Make make) {
  const auto &list = field(j, name, key);
  if (!list.is_array())
    fail(join(key, name), "must be a list");
  std::vector<std::unique_ptr<Stage>> out;
  for (std::size_t i = 0; i < list.size(); ++i)
    if (auto stage = make(list[i], join(key, name) + "[" + std::to_string(i) + "]"))
      out.push_back(std::move(stage));
  return out;
}

} // namespace

const nlohmann::json &field(const nlohmann::json &j, const std::string &name, const std::string &key) {
  if (!j.is_object() || !j.contains(name))
    fail(join(key, name), "missing");
  return j[name];
}

std::string stringField(const nlohmann::json &j, const std::string &name, const std::string &key) {
  const auto &v = field(j, name, key);
  if (!v.is_string())
    fail(join(key, name), std::string("must be a string, got ") + v.type_name());
  return v.get<std::string>();
}

bool boolField(const nlohmann::json &j, const std::string &name, const std::string &key, bool fallback) {
  if (!j.is_object() || !j.contains(name) || j[name].is_null())
    return fallback;
  if (!j[name].is_boolean())
    fail(join(key, name), std::string("must be true or false, got ") + j[name].type_name());
  return j[name].get<bool>();
}

std::string typeOf(const nlohmann::json &j, const std::string &key) {
  if (!j.is_object())
    fail(key, std::string("must be an object, got ") + j.type_name());
  return stringField(j, "type", key);
}

std::unique_ptr<Normalizer> makeNormalizer(const nlohmann::json &j, const std::string &key) {
  if (j.is_null())
    return nullptr;
  const auto type = typeOf(j, key);
  if (type == "Sequence")
    return std::make_unique<NormalizerSequence>(parts<Normalizer>(j, "normalizers", key, makeNormalizer));
  if (type == "NFC")
    return std::make_unique<UnicodeForm>(unicode::Form::Nfc);
  if (type == "NFD")
    return std::make_unique<UnicodeForm>(unicode::Form::Nfd);
  if (type == "NFKC")
    return std::make_unique<UnicodeForm>(unicode::Form::Nfkc);
  if (type == "NFKD")
    return std::make_unique<UnicodeForm>(unicode::Form::Nfkd);
  if (type == "Lowercase")
    return std::make_unique<Lowercase>();
  if (type == "Strip")
    return std::make_unique<Strip>(boolField(j, "strip_left", key, true),
                                   boolField(j, "strip_right", key, true));
  if (type == "Prepend")
    return std::make_unique<Prepend>(stringField(j, "prepend", key));
  if (type == "Replace")
    return std::make_unique<Replace>(patternField(j, key), stringField(j, "content", key));
  fail(join(key, "type"),
       "normalizer '" + type +
           "' is not supported (supported: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip, "
           "Prepend, Replace)");
}

std::unique_ptr<PreTokenizer> makePreTokenizer(const nlohmann::json &j, const std::string &key) {
  if (j.is_null())
    return nullptr;
  const auto type = typeOf(j, key);
  if (type == "Sequence")
    return std::make_unique<PreTokenizerSequence>(
        parts<PreTokenizer>(j, "pretokenizers", key, makePreTokenizer));
  if (type == "ByteLevel")
    return std::make_unique<ByteLevel>(boolField(j, "add_prefix_space", key, true),
                                       boolField(j, "use_regex", key, true));
  if (type == "Split")
    return std::make_unique<Split>(patternField(j, key), behaviorField(j, key),
                                   boolField(j, "invert", key, false));
  if (type == "Digits")
    return std::make_unique<Digits>(boolField(j, "individual_digits", key, false));
  if (type == "Metaspace")
    return std::make_unique<Metaspace>(stringField(j, "replacement", key), prependScheme(j, key),
                                       boolField(j, "split", key, true));
  fail(join(key, "type"),
       "pre-tokenizer '" + type +
           "' is not supported (supported: Sequence, ByteLevel, Split, Digits, Metaspace)");
}

std::unique_ptr<Decoder> makeDecoder(const nlohmann::json &j, const std::string &key) {
  if (j.is_null())
    return nullptr;
  const auto type = typeOf(j, key);
  if (type == "Sequence")
    return std::make_unique<DecoderSequence>(parts<Decoder>(j, "decoders", key, makeDecoder));
  if (type == "ByteLevel")
    return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback")
    return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse")
    return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const auto &start = field(j, "start", key), &stop = field(j, "stop", key);
    if (!start.is_number_unsigned() || !stop.is_number_unsigned())
      fail(join(key, "start"), "start and stop must be non-negative integers");
    return std::make_unique<StripDecoder>(stringField(j, "content", key), start.get<std::size_t>(),
                                          stop.get<std::size_t>());
  }
  if (type == "Replace")
    return std::make_unique<ReplaceDecoder>(patternField(j, key), stringField(j, "content", key));
  if (type == "Metaspace")
    return std::make_unique<MetaspaceDecoder>(stringField(j, "replacement", key), prependScheme(j, key));
  fail(join(key, "type"),
       "decoder '" + type +
           "' is not supported (supported: Sequence, ByteLevel, ByteFallback, Fuse, Strip, "
           "Replace, Metaspace)");
}

namespace {

struct ByteTable {
  std::array<std::string, 256> toChar;
  std::array<int, 324> toByte{}; // the table's characters are below U+0144
};

const ByteTable &byteTable() {
  static const ByteTable table = [] {
    ByteTable t;
    t.toByte.fill(-1);
    auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const char32_t cp = printable(b) ? char32_t(b) : char32_t(256 + extra++);
      unicode::appendUtf8(t.toChar[std::size_t(b)], cp);
      t.toByte[cp] = b;
    }
    return t;
  }();
  return table;
}

} // namespace

const std::string &byteToCharUtf8(unsigned char byte) {
  return byteTable().toChar[byte];
}

int charToByte(char32_t cp) {
  return cp < byteTable().toByte.size() ? byteTable().toByte[cp] : -1;
}

} // namespace preflab::core::hf
