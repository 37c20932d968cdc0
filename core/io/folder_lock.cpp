// FolderLock: flock(2) on <folder>/.lock.
#include "core/io/folder_lock.h"

#include "core/io/input_error.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace preflab::core {

FolderLock::FolderLock(const std::string &folder) {
  std::filesystem::create_directories(folder);
  const auto file = folder + "/" + kFileName;
  m_fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_fd < 0)
    throw InputError(file, 0, "output_dir", std::string("cannot open the run's lock file: ") + std::strerror(errno));
  if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(m_fd);
    m_fd = -1;
    throw InputError({}, 0, "output_dir",
                     folder + " is in use by another run (a second writer would log every step twice); "
                              "wait for it to end, or choose another output_dir");
  }
  const auto pid = std::to_string(::getpid()) + "\n"; // for a person looking at the folder
  if (::ftruncate(m_fd, 0) == 0)
    (void)!::write(m_fd, pid.data(), pid.size());
}

FolderLock::~FolderLock() {
  if (m_fd >= 0)
    ::close(m_fd); // releases the lock
}

} // namespace preflab::core
