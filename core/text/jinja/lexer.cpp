// JinjaLexer: jinja2's tokenizer with trim_blocks and lstrip_blocks (whitespace control, raw
// blocks, comments, and the literals of jinja2's lexer).
#include "core/text/jinja/lexer.h"

#include "core/text/jinja/utf8.h"
#include "core/text/jinja/value.h"

#include <cctype>
#include <charconv>
#include <limits>

namespace preflab::core::jinja {

std::size_t jinjaSpaceAt(const std::string &s, std::size_t i) {
  if (i >= s.size())
    return 0;
  std::size_t j = i;
  return jinjaIsSpace(jinjaDecode(s, j)) ? j - i : 0;
}

namespace {

// str.rstrip() without arguments.
std::string jinjaRstripSpace(const std::string &s) {
  std::size_t end = 0;
  for (std::size_t i = 0; i < s.size();)
    if (!jinjaIsSpace(jinjaDecode(s, i)))
      end = i;
  return s.substr(0, end);
}

} // namespace

// Whitespace control of the text before a tag: "{%-" strips all whitespace, "{%+" none, and
// lstrip_blocks strips spaces and tabs between a line start and a block or comment tag.
std::string JinjaLexer::stripBefore(std::string text, char sign, bool variable) const {
  if (sign == '-')
    return jinjaRstripSpace(text);
  if (sign == '+' || variable)
    return text;
  const auto newline = text.rfind('\n');
  const std::size_t lineStart = newline == std::string::npos ? 0 : newline + 1;
  if ((lineStart > 0 || m_lineStarting) && lineStart < text.size()) {
    std::size_t i = lineStart;
    while (const auto n = jinjaSpaceAt(text, i))
      i += n;
    if (i == text.size())
      text.resize(lineStart);
  }
  return text;
}

std::vector<JinjaToken> JinjaLexer::run() {
  while (m_pos < m_src.size()) {
    std::size_t tag = m_pos;
    for (;;) {
      tag = m_src.find('{', tag);
      if (tag == std::string::npos ||
          (tag + 1 < m_src.size() && std::strchr("{%#", m_src[tag + 1]) && m_src[tag + 1]))
        break;
      ++tag;
    }
    if (tag == std::string::npos) {
      if (m_pos < m_src.size())
        push(JinjaTok::Data, m_src.substr(m_pos), m_line);
      moveTo(m_src.size());
      break;
    }
    const char kind = m_src[tag + 1];
    std::size_t after = tag + 2;
    char sign = 0;
    if (after < m_src.size() && (m_src[after] == '-' || m_src[after] == '+'))
      sign = m_src[after++];
    std::size_t rawEnd = 0;
    const bool raw = kind == '%' && rawBeginAt(tag, rawEnd);
    const auto text = stripBefore(m_src.substr(m_pos, tag - m_pos), sign, kind == '{');
    if (!text.empty())
      push(JinjaTok::Data, text, m_line);
    moveTo(tag);
    const std::int64_t line = m_line;
    if (raw) {
      moveTo(rawEnd);
      lexRaw(line);
    } else if (kind == '#') {
      lexComment(after, line);
    } else {
      push(kind == '%' ? JinjaTok::BlockBegin : JinjaTok::VarBegin, {}, line);
      moveTo(after);
      m_lineStarting = false;
      lexTag(kind == '%', line);
    }
  }
  push(JinjaTok::End, {}, m_line);
  return std::move(m_tokens);
}

// {%(-|+|)\s*raw\s*(-%}\s*|%}): no trim_blocks after it, as in jinja2.
bool JinjaLexer::rawBeginAt(std::size_t tag, std::size_t &end) const {
  std::size_t i = tag + 2;
  if (i < m_src.size() && (m_src[i] == '-' || m_src[i] == '+'))
    ++i;
  i = skipSpaces(i);
  if (!at(i, "raw"))
    return false;
  i = skipSpaces(i + 3);
  if (at(i, "-%}")) {
    end = skipSpaces(i + 3);
    return true;
  }
  if (at(i, "%}")) {
    end = i + 2;
    return true;
  }
  return false;
}

void JinjaLexer::lexRaw(std::int64_t line) {
  for (std::size_t p = m_pos;; p += 2) {
    p = m_src.find("{%", p);
    if (p == std::string::npos)
      jinjaThrow(line, "{% raw %} without {% endraw %}");
    std::size_t i = p + 2;
    char sign = 0;
    if (i < m_src.size() && (m_src[i] == '-' || m_src[i] == '+'))
      sign = m_src[i++];
    i = skipSpaces(i);
    if (!at(i, "endraw"))
      continue;
    i = skipSpaces(i + 6);
    std::size_t end = std::string::npos;
    if (at(i, "+%}"))
      end = i + 3;
    else if (at(i, "-%}"))
      end = skipSpaces(i + 3);
    else if (at(i, "%}"))
      end = i + 2 + (at(i + 2, "\n") ? 1 : 0);
    if (end == std::string::npos)
      continue;
    const auto text = stripBefore(m_src.substr(m_pos, p - m_pos), sign, false);
    if (!text.empty())
      push(JinjaTok::Data, text, m_line);
    moveTo(end);
    return;
  }
}

void JinjaLexer::lexComment(std::size_t contentStart, std::int64_t line) {
  for (std::size_t p = contentStart; p < m_src.size(); ++p) {
    std::size_t end = std::string::npos;
    if (at(p, "+#}"))
      end = p + 3;
    else if (at(p, "-#}"))
      end = skipSpaces(p + 3);
    else if (at(p, "#}"))
      end = p + 2 + (at(p + 2, "\n") ? 1 : 0);
    if (end != std::string::npos) {
      moveTo(end);
      return;
    }
  }
  jinjaThrow(line, "comment {# without its end #}");
}

// The tokens of one {{ ... }} or {% ... %}. Inside brackets the end of the tag is not looked for,
// so that {{ {'a': {'b': 1}} }} works, as jinja2's balancing stack does.
void JinjaLexer::lexTag(bool block, std::int64_t line) {
  std::vector<char> brackets;
  for (;;) {
    if (m_pos >= m_src.size())
      jinjaThrow(line, block ? "the {% tag opened on this line is not closed with %}"
                             : "the {{ opened on this line is not closed with }}");
    if (brackets.empty()) {
      std::size_t end = std::string::npos;
      if (block && at(m_pos, "+%}"))
        end = m_pos + 3;
      else if (at(m_pos, block ? "-%}" : "-}}"))
        end = skipSpaces(m_pos + 3);
      else if (at(m_pos, block ? "%}" : "}}"))
        end = m_pos + 2 + (block && at(m_pos + 2, "\n") ? 1 : 0);
      if (end != std::string::npos) {
        push(block ? JinjaTok::BlockEnd : JinjaTok::VarEnd, {}, m_line);
        moveTo(end);
        return;
      }
    }
    if (const auto n = jinjaSpaceAt(m_src, m_pos)) {
      moveTo(m_pos + n);
      continue;
    }
    const char c = m_src[m_pos];
    if (jinjaIsDigit(c)) {
      lexNumber();
    } else if (jinjaIsNameStart(c)) {
      std::size_t end = m_pos;
      while (end < m_src.size() && jinjaIsNameChar(m_src[end]))
        ++end;
      push(JinjaTok::Name, m_src.substr(m_pos, end - m_pos), m_line);
      moveTo(end);
    } else if (c == '\'' || c == '"') {
      lexString();
    } else {
      lexOperator(brackets);
    }
    m_lineStarting = false;
  }
}

// jinja2's float and integer patterns: 1_000, 1.5, 1e-3, 2.5E+3, 0x1F, 0o17, 0b101.
void JinjaLexer::lexNumber() {
  const auto digitsEnd = [this](std::size_t i) -> std::size_t { // (\d+_)*\d+ at i, or npos
    if (i >= m_src.size() || !jinjaIsDigit(m_src[i]))
      return std::string::npos;
    for (;;) {
      while (i < m_src.size() && jinjaIsDigit(m_src[i]))
        ++i;
      if (i + 1 < m_src.size() && m_src[i] == '_' && jinjaIsDigit(m_src[i + 1]))
        ++i;
      else
        return i;
    }
  };
  const auto exponentEnd = [&](std::size_t i) -> std::size_t {
    if (i >= m_src.size() || (m_src[i] != 'e' && m_src[i] != 'E'))
      return std::string::npos;
    ++i;
    if (i < m_src.size() && (m_src[i] == '+' || m_src[i] == '-'))
      ++i;
    return digitsEnd(i);
  };
  const auto withoutUnderscores = [&](std::size_t begin, std::size_t end) {
    std::string s;
    for (std::size_t i = begin; i < end; ++i)
      if (m_src[i] != '_')
        s += m_src[i];
    return s;
  };
  const std::int64_t line = m_line;
  if (m_pos == 0 || m_src[m_pos - 1] != '.') { // jinja2: (?<!\.) before a float
    const std::size_t whole = digitsEnd(m_pos);
    std::size_t end = std::string::npos;
    const std::size_t fraction = at(whole, ".") ? digitsEnd(whole + 1) : std::string::npos;
    if (fraction != std::string::npos) {
      const std::size_t e = exponentEnd(fraction);
      end = e != std::string::npos ? e : fraction;
    } else {
      end = exponentEnd(whole);
    }
    if (end != std::string::npos) {
      const auto text = withoutUnderscores(m_pos, end);
      JinjaToken token{JinjaTok::Float, text, line};
      std::from_chars(text.data(), text.data() + text.size(), token.real);
      m_tokens.push_back(token);
      moveTo(end);
      return;
    }
  }
  int base = 10;
  std::size_t begin = m_pos, end = m_pos + 1;
  const char prefix =
      m_pos + 1 < m_src.size() ? char(std::tolower(static_cast<unsigned char>(m_src[m_pos + 1]))) : 0;
  const auto isBaseDigit = [](char ch, int b) {
    ch = char(std::tolower(static_cast<unsigned char>(ch)));
    return b == 16 ? (jinjaIsDigit(ch) || (ch >= 'a' && ch <= 'f')) : (ch >= '0' && ch < char('0' + b));
  };
  if (m_src[m_pos] == '0' && (prefix == 'b' || prefix == 'o' || prefix == 'x')) {
    const int b = prefix == 'b' ? 2 : prefix == 'o' ? 8 : 16;
    std::size_t i = m_pos + 2, groups = 0;
    for (;;) {
      std::size_t t = i + (at(i, "_") ? 1 : 0);
      if (t < m_src.size() && isBaseDigit(m_src[t], b)) {
        i = t + 1;
        ++groups;
      } else {
        break;
      }
    }
    if (groups > 0) {
      base = b;
      begin = m_pos + 2;
      end = i;
    }
  }
  if (base == 10) {
    const char digit = m_src[m_pos] == '0' ? '0' : 0; // 0(_?0)* or [1-9](_?\d)*
    for (;;) {
      std::size_t t = end + (at(end, "_") ? 1 : 0);
      if (t < m_src.size() && (digit ? m_src[t] == '0' : jinjaIsDigit(m_src[t])))
        end = t + 1;
      else
        break;
    }
  }
  std::int64_t value = 0;
  for (std::size_t i = begin; i < end; ++i) {
    if (m_src[i] == '_')
      continue;
    const char ch = char(std::tolower(static_cast<unsigned char>(m_src[i])));
    const int d = jinjaIsDigit(ch) ? ch - '0' : ch - 'a' + 10;
    if (value > (std::numeric_limits<std::int64_t>::max() - d) / base)
      jinjaThrow(line, "integer literal " + m_src.substr(m_pos, end - m_pos) + " does not fit in 64 bits");
    value = value * base + d;
  }
  JinjaToken token{JinjaTok::Integer, m_src.substr(m_pos, end - m_pos), line};
  token.integer = value;
  m_tokens.push_back(token);
  moveTo(end);
}

// A quoted string, unescaped as jinja2 does it (Python's unicode-escape codec).
void JinjaLexer::lexString() {
  const std::int64_t line = m_line;
  const char quote = m_src[m_pos];
  std::size_t i = m_pos + 1;
  while (i < m_src.size() && m_src[i] != quote)
    i += m_src[i] == '\\' ? 2 : 1;
  if (i >= m_src.size())
    jinjaThrow(line, "unterminated string literal");
  std::string out;
  const auto fail = [line](const std::string &what) { jinjaThrow(line, "string literal: " + what); };
  for (std::size_t k = m_pos + 1; k < i; ++k) {
    if (m_src[k] != '\\') {
      out += m_src[k];
      continue;
    }
    const char e = m_src[++k];
    int hexDigits = 0;
    switch (e) {
    case '\n':
      break;
    case '\\':
      out += '\\';
      break;
    case '\'':
      out += '\'';
      break;
    case '"':
      out += '"';
      break;
    case 'a':
      out += '\a';
      break;
    case 'b':
      out += '\b';
      break;
    case 'f':
      out += '\f';
      break;
    case 'n':
      out += '\n';
      break;
    case 'r':
      out += '\r';
      break;
    case 't':
      out += '\t';
      break;
    case 'v':
      out += '\v';
      break;
    case 'x':
      hexDigits = 2;
      break;
    case 'u':
      hexDigits = 4;
      break;
    case 'U':
      hexDigits = 8;
      break;
    case 'N':
      fail("the \\N{...} escape is not supported");
      break;
    default:
      if (e >= '0' && e <= '7') {
        char32_t cp = char32_t(e - '0');
        for (int n = 0; n < 2 && k + 1 < i && m_src[k + 1] >= '0' && m_src[k + 1] <= '7'; ++n)
          cp = cp * 8 + char32_t(m_src[++k] - '0');
        jinjaEncode(out, cp);
      } else if (static_cast<unsigned char>(e) >= 0x80) {
        fail("a backslash before a non-ASCII character is not supported");
      } else {
        out += '\\';
        out += e;
      }
    }
    if (hexDigits > 0) {
      std::uint32_t cp = 0;
      for (int n = 0; n < hexDigits; ++n) {
        const char h = k + 1 < i ? char(std::tolower(static_cast<unsigned char>(m_src[k + 1]))) : 0;
        if (!(jinjaIsDigit(h) || (h >= 'a' && h <= 'f')))
          fail(std::string("truncated \\") + e + " escape");
        cp = cp * 16 + std::uint32_t(jinjaIsDigit(h) ? h - '0' : h - 'a' + 10);
        ++k;
      }
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        fail("escape of an invalid code point");
      jinjaEncode(out, char32_t(cp));
    }
  }
  push(JinjaTok::String, out, line);
  moveTo(i + 1);
}

void JinjaLexer::lexOperator(std::vector<char> &brackets) {
  static const char *const kOperators[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/",
                                           "*",  "%",  "~",  "[",  "]",  "(",  ")", "{", "}",
                                           ">",  "<",  "=",  ".",  ":",  "|",  ",", ";"};
  for (const char *op : kOperators) {
    if (!at(m_pos, op))
      continue;
    const char c = op[0];
    if (op[1] == 0 && (c == '(' || c == '[' || c == '{')) {
      brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
    } else if (op[1] == 0 && (c == ')' || c == ']' || c == '}')) {
      if (brackets.empty())
        jinjaThrow(m_line, std::string("unexpected '") + c + "'");
      if (brackets.back() != c)
        jinjaThrow(m_line, std::string("unexpected '") + c + "', expected '" + brackets.back() + "'");
      brackets.pop_back();
    }
    push(JinjaTok::Operator, op, m_line);
    moveTo(m_pos + std::strlen(op));
    return;
  }
  std::size_t i = m_pos;
  const char32_t cp = jinjaDecode(m_src, i);
  jinjaThrow(m_line,
             "unexpected character " +
                 (cp >= 0x20 && cp < 0x7F ? "'" + std::string(1, char(cp)) + "'" : jinjaCodePointName(cp)) +
                 " in a tag");
}

} // namespace preflab::core::jinja
