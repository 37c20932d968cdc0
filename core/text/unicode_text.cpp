// UTF-8 walking by hand (it is the hot loop of every tokenizer); normalization and character
// properties from ICU, Debian's Unicode library, rather than tables of our own.
#include "core/text/unicode_text.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>

#include <stdexcept>

namespace preflab::core::unicode {

CodePoint codePointAt(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char c = byte(pos);
  if (c < 0x80)
    return {c, 1};
  std::size_t length = 0;
  char32_t value = 0;
  char32_t minimum = 0;
  if ((c & 0xE0) == 0xC0) {
    length = 2, value = c & 0x1F, minimum = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    length = 3, value = c & 0x0F, minimum = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    length = 4, value = c & 0x07, minimum = 0x10000;
  } else {
    return {0xFFFD, 1};
  }
  if (pos + length > text.size())
    return {0xFFFD, 1};
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char next = byte(pos + i);
    if ((next & 0xC0) != 0x80)
      return {0xFFFD, 1};
    value = (value << 6) | (next & 0x3F);
  }
  if (value < minimum || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return {0xFFFD, 1};
  return {value, length};
}

std::vector<std::size_t> codePointStarts(std::string_view text) {
  std::vector<std::size_t> starts;
  starts.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size(); pos += codePointAt(text, pos).length)
    starts.push_back(pos);
  return starts;
}

void appendUtf8(std::string &out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

bool isValidUtf8(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const auto cp = codePointAt(text, pos);
    if (cp.value == 0xFFFD && cp.length == 1 && static_cast<unsigned char>(text[pos]) >= 0x80)
      return false;
    pos += cp.length;
  }
  return true;
}

namespace {

std::string validUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const auto cp = codePointAt(text, pos);
    appendUtf8(out, cp.value);
    pos += cp.length;
  }
  return out;
}

} // namespace

std::string normalize(std::string_view text, Form form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2 *normalizer = nullptr;
  switch (form) {
  case Form::Nfc:
    normalizer = icu::Normalizer2::getNFCInstance(status);
    break;
  case Form::Nfd:
    normalizer = icu::Normalizer2::getNFDInstance(status);
    break;
  case Form::Nfkc:
    normalizer = icu::Normalizer2::getNFKCInstance(status);
    break;
  case Form::Nfkd:
    normalizer = icu::Normalizer2::getNFKDInstance(status);
    break;
  }
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("Unicode normalization unavailable: ") + u_errorName(status));
  const std::string valid = isValidUtf8(text) ? std::string(text) : validUtf8(text);
  if (normalizer->isNormalizedUTF8(valid, status) && U_SUCCESS(status))
    return valid; // the common case: nothing to do, no copy through ICU's buffers
  status = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out, int32_t(valid.size()));
  normalizer->normalizeUTF8(0, valid, sink, nullptr, status);
  if (U_FAILURE(status))
    throw std::runtime_error(std::string("Unicode normalization failed: ") + u_errorName(status));
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t pos = 0; pos < text.size();) {
    const auto cp = codePointAt(text, pos);
    pos += cp.length;
    if (cp.value < 0x80) {
      out.push_back(char(cp.value >= 'A' && cp.value <= 'Z' ? cp.value + 32 : cp.value));
      continue;
    }
    UChar in[2];
    int32_t inLength = 0;
    U16_APPEND_UNSAFE(in, inLength, cp.value);
    UChar lower[8];
    UErrorCode status = U_ZERO_ERROR;
    const int32_t n = u_strToLower(lower, 8, in, inLength, "", &status);
    if (U_FAILURE(status) || n > 8) {
      appendUtf8(out, cp.value);
      continue;
    }
    for (int32_t i = 0; i < n;) {
      UChar32 c;
      U16_NEXT_UNSAFE(lower, i, c);
      appendUtf8(out, char32_t(c));
    }
  }
  return out;
}

bool isWhitespace(char32_t cp) {
  return u_hasBinaryProperty(UChar32(cp), UCHAR_WHITE_SPACE);
}

bool isNumeric(char32_t cp) {
  const auto category = u_charType(UChar32(cp));
  return category == U_DECIMAL_DIGIT_NUMBER || category == U_LETTER_NUMBER || category == U_OTHER_NUMBER;
}

bool isAlphanumeric(char32_t cp) {
  return u_hasBinaryProperty(UChar32(cp), UCHAR_ALPHABETIC) || isNumeric(cp);
}

} // namespace preflab::core::unicode
