// UTF-8 code points, Unicode normalization and character classes for the tokenizers (ICU).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace preflab::core::unicode {

// The code point starting at text[pos] and its length in bytes. An invalid or truncated sequence
// is one byte long and reads as U+FFFD, so that every byte string can be walked.
struct CodePoint {
  char32_t value;
  std::size_t length;
};
CodePoint codePointAt(std::string_view text, std::size_t pos);
// The start of each code point of `text`, in order.
std::vector<std::size_t> codePointStarts(std::string_view text);
void appendUtf8(std::string &out, char32_t cp);
bool isValidUtf8(std::string_view text);

enum class Form { Nfc, Nfd, Nfkc, Nfkd };
// Throws std::runtime_error only when ICU itself fails (invalid UTF-8 is replaced first).
std::string normalize(std::string_view text, Form form);
// Each code point mapped on its own by its full lowercase mapping (no context: a final sigma is
// σ, as tokenizers' Lowercase normalizer maps char by char).
std::string lowercase(std::string_view text);

bool isWhitespace(char32_t cp);   // the White_Space property
bool isNumeric(char32_t cp);      // general category Nd, Nl or No
bool isAlphanumeric(char32_t cp); // Alphabetic, or numeric

} // namespace preflab::core::unicode
