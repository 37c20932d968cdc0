// TensorBoard event files of other tools: TFRecord framing and Event / Summary messages.
#include "tests/fuzz/fuzz_common.h"

#include "core/io/tensorboard_events.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  using namespace preflab::core;
  const std::string bytes(reinterpret_cast<const char *>(data), size);
  PREFLAB_FUZZ_BODY({
    std::size_t offset = 0;
    (void)readEventScalars(bytes, offset, "events.out.tfevents.fuzz");
    if (offset > bytes.size())
      __builtin_trap(); // the offset never passes the end
  });
}
