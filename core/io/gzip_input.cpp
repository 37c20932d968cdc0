// zlib's gzread in transparent mode: one reader for plain and gzip-compressed files.
#include "core/io/gzip_input.h"

#include "core/io/input_error.h"

namespace preflab::core {

GzipInput::int_type GzipInput::underflow() {
  const int n = gzread(m_file, m_buffer.data(), unsigned(m_buffer.size()));
  if (n < 0) {
    int code = 0;
    const char *message = gzerror(m_file, &code);
    throw InputError({}, 0, {},
                     std::string("the gzip stream is damaged: ") + (message ? message : "read error"));
  }
  if (n == 0)
    return traits_type::eof();
  setg(m_buffer.data(), m_buffer.data(), m_buffer.data() + n);
  return traits_type::to_int_type(m_buffer[0]);
}

std::string readPossiblyCompressedFile(const std::string &path) {
  GzipInput input(path);
  if (!input.isOpen())
    throw InputError(path, 0, {}, "cannot open");
  std::string out;
  std::array<char, 1 << 16> chunk{};
  try {
    for (std::streamsize n; (n = input.sgetn(chunk.data(), std::streamsize(chunk.size()))) > 0;)
      out.append(chunk.data(), std::size_t(n));
  } catch (const InputError &e) {
    throw InputError(path, 0, {}, e.message());
  }
  return out;
}

} // namespace preflab::core
