// Label store files: any bytes opened as a store, then everything read back from it. SQLite parses
// the file; what PrefLab reads from its tables (versions, choices, candidate slots) must give
// InputError for anything it does not expect.
#include "tests/fuzz/fuzz_common.h"

#include "core/labels/label_agreement.h"
#include "core/labels/label_store.h"

#include <filesystem>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  const auto path = preflab::fuzz::writeInput("store.preflab-labels", data, size);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  PREFLAB_FUZZ_BODY({
    LabelStore store(path);
    (void)store.items();
    (void)computeAgreement(store.currentDecisions());
    (void)store.annotators();
  });
}
