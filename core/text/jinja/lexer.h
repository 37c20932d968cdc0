// JinjaLexer: jinja2's tokenizer with trim_blocks and lstrip_blocks, for the chat template interpreter.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace preflab::core::jinja {

enum class JinjaTok {
  Data,
  VarBegin,
  VarEnd,
  BlockBegin,
  BlockEnd,
  Name,
  String,
  Integer,
  Float,
  Operator,
  End
};

struct JinjaToken {
  JinjaTok type;
  std::string text; // Data, Name, String (unescaped), Operator
  std::int64_t line;
  std::int64_t integer = 0;
  double real = 0;
};

// The byte length of the Python whitespace character at s[i], 0 if there is none.
std::size_t jinjaSpaceAt(const std::string &s, std::size_t i);

// Turns a template source (valid UTF-8, newlines normalized) into tokens; throws InputError with
// the template line on a tag or comment that is not closed, a malformed literal or an unexpected
// character.
class JinjaLexer {
public:
  explicit JinjaLexer(const std::string &src) : m_src(src) {}
  std::vector<JinjaToken> run();

private:
  const std::string &m_src;
  std::size_t m_pos = 0;
  std::int64_t m_line = 1;
  bool m_lineStarting = true; // the text before the next tag starts a line (for lstrip_blocks)
  std::vector<JinjaToken> m_tokens;

  bool at(std::size_t i, const char *s) const { return m_src.compare(i, std::strlen(s), s) == 0; }
  std::size_t skipSpaces(std::size_t i) const {
    while (const auto n = jinjaSpaceAt(m_src, i))
      i += n;
    return i;
  }
  void moveTo(std::size_t end) {
    m_line += std::count(m_src.begin() + std::ptrdiff_t(m_pos), m_src.begin() + std::ptrdiff_t(end), '\n');
    m_pos = end;
    m_lineStarting = end > 0 && m_src[end - 1] == '\n';
  }
  void push(JinjaTok type, std::string text, std::int64_t line) {
    m_tokens.push_back({type, std::move(text), line});
  }
  std::string stripBefore(std::string text, char sign, bool variable) const;
  bool rawBeginAt(std::size_t tag, std::size_t &end) const;
  void lexRaw(std::int64_t line);
  void lexComment(std::size_t contentStart, std::int64_t line);
  void lexTag(bool block, std::int64_t line);
  void lexNumber();
  void lexString();
  void lexOperator(std::vector<char> &brackets);
};

} // namespace preflab::core::jinja
