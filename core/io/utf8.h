// UTF-8 decoding step shared by the text readers and the token display: one character at a time.
#pragma once

#include <cstddef>
#include <string>

namespace preflab::core {

// End (one past) of the well-formed UTF-8 character starting at s[i] (i < s.size()):
// > i for a complete character; i when s[i] cannot start one or a continuation byte is wrong
// (overlong forms, surrogates and code points above U+10FFFF included); std::string::npos when s
// ends inside an otherwise valid character.
std::size_t utf8CharEnd(const std::string &s, std::size_t i);

// Offset of the first byte of the first ill-formed (or truncated) character, or npos when the
// whole string is well-formed UTF-8.
std::size_t invalidUtf8Offset(const std::string &text);

// `text` with each byte that does not belong to a well-formed character replaced by U+FFFD.
std::string sanitizedUtf8(const std::string &text);

} // namespace preflab::core
