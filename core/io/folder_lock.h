// An exclusive, advisory lock on a folder (flock on <folder>/.lock), held while one process or
// thread writes a run there. The kernel drops it when its holder exits, even after kill -9.
#pragma once

#include <string>

namespace preflab::core {

class FolderLock {
public:
  // Creates the folder when missing and takes its lock; throws InputError (key "output_dir")
  // naming the folder when another holder has it.
  explicit FolderLock(const std::string &folder);
  ~FolderLock();
  FolderLock(const FolderLock &) = delete;
  FolderLock &operator=(const FolderLock &) = delete;

  static constexpr const char *kFileName = ".lock";

private:
  int m_fd = -1;
};

} // namespace preflab::core
