// Text helpers with Python's rules: str.strip/split/rsplit/splitlines, float(str) and int(str).
#include "core/text/jinja/text_helpers.h"

#include "core/text/jinja/utf8.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <system_error>
#include <utility>

namespace preflab::core::jinja {

std::string jinjaStrip(const std::string &s, const std::string *chars, bool left, bool right) {
  const auto cps = jinjaToU32(s);
  const auto set = chars ? jinjaToU32(*chars) : std::u32string();
  const auto strip = [&](char32_t c) {
    return chars ? set.find(c) != std::u32string::npos : jinjaIsSpace(c);
  };
  std::size_t b = 0, e = cps.size();
  while (left && b < e && strip(cps[b]))
    ++b;
  while (right && e > b && strip(cps[e - 1]))
    --e;
  return jinjaFromU32(cps, b, e);
}

// str.split / str.rsplit; sep null splits on runs of whitespace (CPython's split_whitespace).
std::vector<std::string> jinjaSplit(const std::string &s, const std::string *sep, std::int64_t maxsplit,
                                    bool right) {
  std::int64_t left = maxsplit < 0 ? std::numeric_limits<std::int64_t>::max() : maxsplit;
  std::vector<std::string> out;
  if (sep) {
    if (!right) {
      std::size_t i = 0;
      for (; left > 0; --left) {
        const auto pos = s.find(*sep, i);
        if (pos == std::string::npos)
          break;
        out.push_back(s.substr(i, pos - i));
        i = pos + sep->size();
      }
      out.push_back(s.substr(i));
      return out;
    }
    std::size_t j = s.size();
    for (; left > 0 && j >= sep->size(); --left) {
      const auto pos = s.rfind(*sep, j - sep->size());
      if (pos == std::string::npos)
        break;
      out.push_back(s.substr(pos + sep->size(), j - pos - sep->size()));
      j = pos;
    }
    out.push_back(s.substr(0, j));
    std::reverse(out.begin(), out.end());
    return out;
  }
  const auto cps = jinjaToU32(s);
  const auto n = std::int64_t(cps.size());
  const auto space = [&](std::int64_t k) { return jinjaIsSpace(cps[std::size_t(k)]); };
  if (!right) {
    std::int64_t i = 0;
    for (; left > 0; --left) {
      while (i < n && space(i))
        ++i;
      if (i == n)
        break;
      const std::int64_t j = i;
      while (i < n && !space(i))
        ++i;
      out.push_back(jinjaFromU32(cps, std::size_t(j), std::size_t(i)));
    }
    while (i < n && space(i))
      ++i;
    if (i < n)
      out.push_back(jinjaFromU32(cps, std::size_t(i)));
    return out;
  }
  std::int64_t i = n - 1;
  for (; left > 0; --left) {
    while (i >= 0 && space(i))
      --i;
    if (i < 0)
      break;
    const std::int64_t j = i;
    while (i >= 0 && !space(i))
      --i;
    out.push_back(jinjaFromU32(cps, std::size_t(i + 1), std::size_t(j + 1)));
  }
  while (i >= 0 && space(i))
    --i;
  if (i >= 0)
    out.push_back(jinjaFromU32(cps, 0, std::size_t(i + 1)));
  std::reverse(out.begin(), out.end());
  return out;
}

// str.splitlines() without keepends.
std::vector<std::string> jinjaSplitLines(const std::string &s) {
  std::vector<std::string> out;
  std::string line;
  const auto cps = jinjaToU32(s);
  for (std::size_t i = 0; i < cps.size(); ++i) {
    if (!jinjaIsLineBreak(cps[i])) {
      jinjaEncode(line, cps[i]);
      continue;
    }
    if (cps[i] == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n')
      ++i;
    out.push_back(std::move(line));
    line.clear();
  }
  if (!line.empty())
    out.push_back(std::move(line));
  return out;
}

namespace {

// The double of an ASCII decimal literal without underscores; Python's inf and 0.0 on overflow
// and underflow.
double jinjaToDouble(const std::string &s) {
  double d = 0;
  const bool negative = !s.empty() && s[0] == '-';
  const std::size_t begin = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  const auto res = std::from_chars(s.data() + begin, s.data() + s.size(), d);
  if (res.ec == std::errc::result_out_of_range) {
    const auto e = s.find_first_of("eE");
    const std::string mantissa = s.substr(begin, e == std::string::npos ? std::string::npos : e - begin);
    const long exponent = e == std::string::npos ? 0 : std::strtol(s.c_str() + e + 1, nullptr, 10);
    const auto point = mantissa.find('.');
    const auto firstDigit = mantissa.find_first_of("123456789");
    const long intDigits = long(point == std::string::npos ? mantissa.size() : point);
    const long magnitude =
        intDigits - long(firstDigit) + (point != std::string::npos && firstDigit > point ? 1 : 0) + exponent;
    d = magnitude > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return negative ? -d : d;
}

} // namespace

// Python's float(str) for ASCII text: digits with single underscores, inf, infinity, nan.
std::optional<double> jinjaParseFloat(const std::string &raw) {
  const std::string s = jinjaStrip(raw, nullptr, true, true);
  std::size_t i = 0;
  std::string clean;
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    clean += s[i++];
  std::string rest;
  for (std::size_t k = i; k < s.size(); ++k)
    rest += char(std::tolower(static_cast<unsigned char>(s[k])));
  if (rest == "inf" || rest == "infinity" || rest == "nan") {
    const double d =
        rest == "nan" ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    return clean == "-" ? -d : d;
  }
  const auto digits = [&](bool required) {
    std::size_t n = 0;
    while (i < s.size() && jinjaIsDigit(s[i])) {
      clean += s[i++];
      ++n;
      if (i + 1 < s.size() && s[i] == '_' && jinjaIsDigit(s[i + 1]))
        ++i;
    }
    return n > 0 || !required;
  };
  const std::size_t before = clean.size();
  digits(false);
  bool any = clean.size() > before;
  if (i < s.size() && s[i] == '.') {
    clean += s[i++];
    const std::size_t mark = clean.size();
    digits(false);
    any = any || clean.size() > mark;
  }
  if (!any)
    return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    clean += s[i++];
    if (i < s.size() && (s[i] == '+' || s[i] == '-'))
      clean += s[i++];
    if (!digits(true))
      return std::nullopt;
  }
  if (i != s.size())
    return std::nullopt;
  return jinjaToDouble(clean);
}

// Python's int(str) in base 10 for ASCII text; nullopt when invalid, and past 64 bits.
std::optional<std::int64_t> jinjaParseInt(const std::string &raw, bool &tooBig) {
  const std::string s = jinjaStrip(raw, nullptr, true, true);
  std::size_t i = 0;
  const bool negative = i < s.size() && s[i] == '-';
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    ++i;
  if (i >= s.size() || !jinjaIsDigit(s[i]))
    return std::nullopt;
  std::int64_t value = 0;
  tooBig = false;
  for (; i < s.size(); ++i) {
    if (s[i] == '_' && i + 1 < s.size() && jinjaIsDigit(s[i + 1]) && jinjaIsDigit(s[i - 1]))
      continue;
    if (!jinjaIsDigit(s[i]))
      return tooBig = false, std::nullopt;
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_sub_overflow(value, s[i] - '0', &value))
      tooBig = true;
  }
  if (tooBig || (!negative && value == std::numeric_limits<std::int64_t>::min()))
    return tooBig = true, std::nullopt;
  return negative ? value : -value;
}

bool jinjaIsAscii(const std::string &s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

} // namespace preflab::core::jinja
