// preflab-cli helpers: progress line and the error boundary.
#include "cli/cli_common.h"

#include <cstdio>
#include <exception>
#include <iostream>
#include <unistd.h>

namespace preflab::cli {

void ProgressLine::update(const std::string &stage, double fraction, const std::string &detail) {
  if (!m_checked) {
    m_tty = ::isatty(STDERR_FILENO);
    m_checked = true;
  }
  const int decile = int(fraction * 10.0);
  if (stage != m_stage) {
    finish();
    m_stage = stage;
    m_lastDecile = -1;
  }
  char pct[16];
  std::snprintf(pct, sizeof pct, "%5.1f%%", 100.0 * fraction);
  if (m_tty) {
    std::cerr << "\r\033[K[" << stage << "] " << pct << " " << detail << std::flush;
    m_open = true;
  } else if (decile != m_lastDecile) {
    std::cerr << "[" << stage << "] " << pct << " " << detail << std::endl;
  }
  m_lastDecile = decile;
}

void ProgressLine::finish() {
  if (m_open)
    std::cerr << std::endl;
  m_open = false;
}

int guarded(const std::function<int()> &body) {
  try {
    return body();
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << std::endl;
    return kFailure;
  }
}

} // namespace preflab::cli
