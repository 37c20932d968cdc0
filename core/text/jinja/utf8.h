// UTF-8 and the character classes of Python's str for the chat template interpreter, with the hex
// digits and the float repr() that printing uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace preflab::core::jinja {

// Code points of valid UTF-8 (jinjaDecode reads the one at s[i] and advances i).
char32_t jinjaDecode(const std::string &s, std::size_t &i);
void jinjaEncode(std::string &out, char32_t cp);
bool jinjaValidUtf8(const std::string &s);
std::u32string jinjaToU32(const std::string &s);
std::string jinjaFromU32(const std::u32string &s, std::size_t begin = 0,
                         std::size_t end = std::u32string::npos);
std::size_t jinjaLength(const std::string &s); // in code points, as Python's len()

// Character classes of Python's str.
bool jinjaIsSpace(char32_t c);
bool jinjaIsLineBreak(char32_t c);
bool jinjaIsCaseless(char32_t c);
int jinjaReprClass(char32_t c);

// ASCII classes of jinja2's names and numbers.
bool jinjaIsDigit(char c);
bool jinjaIsNameStart(char c);
bool jinjaIsNameChar(char c);

std::string jinjaHex(std::uint32_t value, int digits);
std::string jinjaCodePointName(char32_t c); // U+XXXX
std::string jinjaFloatRepr(double d);

} // namespace preflab::core::jinja
