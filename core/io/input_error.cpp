// InputError: formats the location of bad input into one readable message.
#include "core/io/input_error.h"

namespace preflab::core {

namespace {
std::string compose(const std::string &file, std::int64_t line, const std::string &key,
                    const std::string &message) {
  std::string out;
  if (!file.empty()) {
    out += file;
    if (line > 0)
      out += ":" + std::to_string(line);
    out += ": ";
  } else if (line > 0) {
    out += "line " + std::to_string(line) + ": ";
  }
  if (!key.empty())
    out += "key '" + key + "': ";
  out += message;
  return out;
}
} // namespace

InputError::InputError(std::string file, std::int64_t line, std::string key, std::string message)
    : std::runtime_error(compose(file, line, key, message)), m_file(std::move(file)), m_line(line),
      m_key(std::move(key)), m_message(std::move(message)) {}

} // namespace preflab::core
