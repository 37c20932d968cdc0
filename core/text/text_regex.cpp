// PCRE2 behind TextRegex: UTF + UCP (Unicode classes), invalid UTF-8 tolerated, JIT where the
// platform has it.
#include "core/text/text_regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/text/unicode_text.h"

#include <stdexcept>

namespace preflab::core {

struct TextRegex::Impl {
  pcre2_code *code = nullptr;
  ~Impl() {
    if (code)
      pcre2_code_free(code);
  }
};

namespace {

// Oniguruma's Unicode meaning of the shorthand classes, which PCRE2 10.42 reads more narrowly
// (its \w lacks marks, so Devanagari vowel signs and emoji variation selectors would split
// words): \w = Letter | Mark | Decimal_Number | Connector_Punctuation, \d = Decimal_Number,
// \s = White_Space. Spelled out as classes; inside a class the negated forms are left to PCRE2.
std::string onigurumaClasses(const std::string &pattern) {
  static const char *word = R"(\p{L}\p{M}\p{Nd}\p{Pc})";
  static const char *digit = R"(\p{Nd})";
  static const char *space =
      R"(\t\n\x{0B}\f\r\x{20}\x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})";
  std::string out;
  bool inClass = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[i + 1];
      const char *set = e == 'w' || e == 'W'   ? word
                        : e == 'd' || e == 'D' ? digit
                        : e == 's' || e == 'S' ? space
                                               : nullptr;
      const bool negated = e == 'W' || e == 'D' || e == 'S';
      if (set && !inClass) {
        out += negated ? "[^" : "[";
        out += set;
        out += "]";
      } else if (set && !negated) {
        out += set;
      } else {
        out += pattern.substr(i, 2);
      }
      ++i;
      continue;
    }
    if (c == '[' && !inClass) {
      inClass = true;
      out += c;
      if (i + 1 < pattern.size() && pattern[i + 1] == '^')
        out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') // a leading ] is literal
        out += pattern[++i];
      continue;
    }
    if (c == '[' && inClass && i + 1 < pattern.size() && pattern[i + 1] == ':') { // [:alpha:]
      const auto end = pattern.find(":]", i + 2);
      if (end != std::string::npos) {
        out += pattern.substr(i, end + 2 - i);
        i = end + 1;
        continue;
      }
    }
    if (c == ']' && inClass)
      inClass = false;
    out += c;
  }
  return out;
}

} // namespace

TextRegex::TextRegex(const std::string &pattern) : m_impl(std::make_unique<Impl>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  const auto translated = onigurumaClasses(pattern);
  m_impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                               PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
  if (!m_impl->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw std::invalid_argument("regular expression '" + pattern + "' does not compile at offset " +
                                std::to_string(offset) + ": " + reinterpret_cast<const char *>(message));
  }
  (void)pcre2_jit_compile(m_impl->code, PCRE2_JIT_COMPLETE); // falls back to the interpreter
}

TextRegex::~TextRegex() = default;
TextRegex::TextRegex(TextRegex &&) noexcept = default;
TextRegex &TextRegex::operator=(TextRegex &&) noexcept = default;

std::vector<std::pair<std::size_t, std::size_t>> TextRegex::findAll(std::string_view text) const {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  pcre2_match_data *match = pcre2_match_data_create_from_pattern(m_impl->code, nullptr);
  if (!match)
    throw std::bad_alloc();
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t start = 0;
  while (start <= text.size()) {
    const int rc = pcre2_match(m_impl->code, subject, text.size(), start, 0, match, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH)
      break;
    if (rc < 0) {
      pcre2_match_data_free(match);
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw std::runtime_error(std::string("regular expression match failed: ") +
                               reinterpret_cast<const char *>(message));
    }
    const PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(match);
    const std::size_t begin = ovector[0], end = ovector[1];
    if (end > begin) {
      out.emplace_back(begin, end);
      start = end;
    } else { // an empty match: step over one code point
      if (begin >= text.size())
        break;
      start = begin + unicode::codePointAt(text, begin).length;
    }
  }
  pcre2_match_data_free(match);
  return out;
}

std::string TextRegex::escape(std::string_view literal) {
  // \Q...\E quotes everything but a literal "\E", which is split out and escaped.
  std::string out = "\\Q";
  for (std::size_t i = 0; i < literal.size(); ++i) {
    if (literal[i] == '\\' && i + 1 < literal.size() && literal[i + 1] == 'E') {
      out += "\\E\\\\E\\Q";
      ++i;
      continue;
    }
    out.push_back(literal[i]);
  }
  return out + "\\E";
}

} // namespace preflab::core
