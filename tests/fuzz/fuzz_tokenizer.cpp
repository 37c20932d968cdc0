// A Hugging Face tokenizer.json as a user hands one over: every stage it names is built, then a
// few texts (special tokens, whitespace, invalid UTF-8) are encoded and decoded again.
#include "tests/fuzz/fuzz_common.h"

#include "core/text/tokenizer_files.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const auto path = preflab::fuzz::writeInput("tokenizer.json", data, size);
  PREFLAB_FUZZ_BODY({
    const auto tokenizer = preflab::core::loadTokenizer(path);
    for (const char *text : {"Hello world", "  a\tb\r\n<s> </s><|endoftext|> 123 \xC3\xA9\xFF\xFE", ""}) {
      const auto ids = tokenizer->encodeWithSpecialTokens(text);
      (void)tokenizer->decodeTokens(ids, false);
      (void)tokenizer->decode(tokenizer->encode(text));
    }
  });
}
