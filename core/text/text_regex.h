// TextRegex: a compiled Unicode regular expression over UTF-8 (PCRE2, JIT-compiled).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace preflab::core {

// The patterns tokenizer files carry (\p{L}, \p{N}, (?i:...), look-ahead) with Unicode
// semantics for \s, \w and \d, as the Oniguruma engine of Hugging Face's tokenizers reads them.
// std::regex knows no Unicode classes. Immutable after construction; findAll may be called from
// several threads at once (each call has its own match data).
class TextRegex {
public:
  // Throws std::invalid_argument naming the pattern and PCRE2's message when it does not compile.
  explicit TextRegex(const std::string &pattern);
  ~TextRegex();
  TextRegex(TextRegex &&) noexcept;
  TextRegex &operator=(TextRegex &&) noexcept;

  // Byte ranges [begin, end) of the successive non-overlapping matches, left to right. An empty
  // match advances by one code point. Invalid UTF-8 never matches a character class but is
  // walked over.
  std::vector<std::pair<std::size_t, std::size_t>> findAll(std::string_view text) const;

  // A pattern that matches `literal` exactly.
  static std::string escape(std::string_view literal);

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace preflab::core
