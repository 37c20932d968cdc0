// Checks a serialized ModelProto for the inputs that crash Debian's libsentencepiece 0.1.97.
#pragma once

#include <cstddef>
#include <string>

namespace preflab::sentencepiece_shim {

// The longest piece accepted. libsentencepiece builds its tries with darts-clone, which recurses
// once per byte of a key: a unigram model with a 200 KB piece overflows an 8 MB stack at load
// (upstream google/sentencepiece#1263). Real vocabularies' pieces are a few dozen bytes.
constexpr std::size_t kMaxPieceBytes = 4096;

// Walks the protobuf wire format (no protobuf headers: Debian ships none for sentencepiece's
// messages) and returns why the bytes must not reach SentencePieceProcessor, or an empty string:
//   - a field that runs past the end, a bad varint or wire type, a group (protobuf would reject
//     most of these too; they are refused here because the walk below needs the structure);
//   - a piece longer than kMaxPieceBytes;
//   - a normalizer_spec / denormalizer_spec precompiled_charsmap whose double-array trie or
//     replacement strings can send a lookup outside the blob. libsentencepiece 0.1.97 trusts the
//     blob (a fuzzed charsmap segfaults in Normalizer::NormalizePrefix on the first encode; later
//     versions validate it).
// Anything else (unknown fields, wrong wire types of known fields) is left to the library, which
// reports it as an error. Pure function of its input; any thread.
std::string checkModelProto(const char *data, std::size_t size);

} // namespace preflab::sentencepiece_shim
