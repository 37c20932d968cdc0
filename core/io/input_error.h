// InputError: the one exception type for bad user input (files, configs, command lines).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace preflab::core {

// Thrown by loaders and parsers when a user-supplied file or value is wrong. what() reads
// "FILE:LINE: key 'KEY': MESSAGE" with the parts that are known, so a CLI can print it as it is
// and a dialog can show it; the parts stay available for tools that want them separately.
class InputError : public std::runtime_error {
public:
  InputError(std::string file, std::int64_t line, std::string key, std::string message);
  explicit InputError(std::string message) : InputError({}, 0, {}, std::move(message)) {}

  const std::string &file() const { return m_file; }
  std::int64_t line() const { return m_line; } // 1-based; 0 when not applicable
  const std::string &key() const { return m_key; }
  const std::string &message() const { return m_message; }

private:
  std::string m_file;
  std::int64_t m_line;
  std::string m_key;
  std::string m_message;
};

// Throws InputError naming `key` with `what` when a check on a value fails (config checks).
inline void requireInput(bool ok, const std::string &key, const std::string &what) {
  if (!ok)
    throw InputError({}, 0, key, what);
}

} // namespace preflab::core
