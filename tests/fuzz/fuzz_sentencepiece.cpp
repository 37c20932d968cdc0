// A SentencePiece tokenizer.model as a user hands one over, through libsentencepiece's loader; then
// a few texts are encoded and decoded again and every piece is read.
//
// Fuzzing builds use AddressSanitizer, which aborts on the dlopen(RTLD_DEEPBIND) that core uses
// beside LibTorch. This target therefore links libpreflab_sentencepiece.so directly and no
// LibTorch (so no second protobuf): SentencePieceTokenizer finds the shim's functions already in
// the process and uses them. libsentencepiece itself is Debian's uninstrumented build: ASan sees
// its heap calls, crashes and aborts, not its reads and writes.
#include "tests/fuzz/fuzz_common.h"

#include "core/text/sentencepiece_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  const auto path = preflab::fuzz::writeInput("tokenizer.model", data, size);
  PREFLAB_FUZZ_BODY({
    const auto tokenizer = preflab::core::SentencePieceTokenizer::fromFile(path);
    for (const char *text :
         {"Hello world", "  a\tb\r\n<s> </s><unk> 123 \xC3\xA9\xFF\xFE \xE2\x96\x81", ""}) {
      const auto ids = tokenizer->encodeWithSpecialTokens(text);
      (void)tokenizer->decodeTokens(ids, false);
      (void)tokenizer->decode(tokenizer->encode(text));
    }
    const auto count = tokenizer->vocabSize();
    std::vector<std::int64_t> all;
    for (std::int64_t id = -1; id <= count && id < 4096; ++id) {
      (void)tokenizer->idToToken(id);
      all.push_back(id);
    }
    (void)tokenizer->decodeTokens(all, false);
    (void)tokenizer->decode(all);
  });
}
