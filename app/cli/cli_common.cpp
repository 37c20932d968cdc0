// preflab-cli helpers: progress line and the error boundary.
#include "cli/cli_common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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

namespace {
CLI::Validator numberCheck(bool strict) {
  return CLI::Validator(
      [strict](std::string &text) -> std::string {
        char *end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0' || !std::isfinite(v))
          return "'" + text + "' is not a number";
        if (strict ? !(v > 0) : !(v >= 0))
          return "is " + text + ", must be " + (strict ? "> 0" : ">= 0");
        return {};
      },
      strict ? "> 0" : ">= 0", strict ? "POSITIVE" : "NONNEGATIVE");
}
} // namespace

const CLI::Validator kPositive = numberCheck(true);
const CLI::Validator kNonNegative = numberCheck(false);

std::string messageWithoutBacktrace(const std::string &what) {
  std::size_t cut = what.size();
  for (const char *marker : {"\nException raised from ", "\nframe #0", "\n(most recent call first)"})
    cut = std::min(cut, what.find(marker));
  return what.substr(0, cut);
}

int guarded(const std::function<int()> &body) {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    std::cerr << "error: out of memory (a size in the input or the options is larger than this machine can hold)"
              << std::endl;
    return kFailure;
  } catch (const std::exception &e) {
    std::cerr << "error: " << messageWithoutBacktrace(e.what()) << std::endl;
    return kFailure;
  }
}

} // namespace preflab::cli
