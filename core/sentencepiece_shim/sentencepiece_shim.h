// The C interface of libpreflab_sentencepiece.so, the one library that links libsentencepiece.
#pragma once

// Why a separate library: Debian's libsentencepiece.so.0 carries its own copy of protobuf-lite and
// exports it (about 1,600 google::protobuf symbols). Linked into a process beside LibTorch's
// libprotobuf.so.32, libprotobuf's static initialisers bind to sentencepiece's copy and crash before
// main(). core loads this library at first use with dlopen(RTLD_LOCAL | RTLD_DEEPBIND)
// (core/text/sentencepiece_tokenizer.cpp), so that libsentencepiece binds to its own protobuf and
// stays out of the global scope. Rejected: linking libsentencepiece into core (the crash), and a
// helper process (a round trip per encode, and a second executable to install).
//
// Only C types cross the boundary, and no memory changes owner: results are handed to the caller's
// sink callbacks, which copy what they need before returning. No C++ exception leaves a function.
// A model is immutable after preflab_sp_load: every function that takes a const model may be called
// from several threads at once (SentencePieceProcessor's encode and decode are const and keep no
// state between calls).

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// The library is built with hidden visibility: these functions are all it exports.
#define PREFLAB_SP_API __attribute__((visibility("default")))

// Bumped whenever a function below changes; the loader refuses a library of another version.
#define PREFLAB_SP_ABI_VERSION 1

typedef struct PreflabSpModel PreflabSpModel;
// Receives a string (an error message, a piece, decoded text): `size` bytes, not 0-terminated.
typedef void (*PreflabSpBytesSink)(void *context, const char *data, size_t size);
// Receives the ids of an encoded text.
typedef void (*PreflabSpIdsSink)(void *context, const int32_t *ids, size_t count);

PREFLAB_SP_API int preflab_sp_abi_version(void);

// Parses a serialized ModelProto (the bytes of a tokenizer.model), after checking it for the inputs
// that crash libsentencepiece 0.1.97 (model_proto_check.h). Returns the model, owned by the caller
// (preflab_sp_free), or NULL after passing the reason to `error`.
PREFLAB_SP_API PreflabSpModel *preflab_sp_load(const char *data, size_t size, PreflabSpBytesSink error,
                                               void *errorContext);
PREFLAB_SP_API void preflab_sp_free(PreflabSpModel *model);

// SentencePiece's own encoding of `text` (no BOS / EOS). Returns 0 and passes the ids to `out`, or
// returns -1 and passes the reason to `error`.
PREFLAB_SP_API int preflab_sp_encode(const PreflabSpModel *model, const char *text, size_t size,
                                     PreflabSpIdsSink out, void *outContext, PreflabSpBytesSink error,
                                     void *errorContext);
// Decodes ids, every one in [0, piece count): control pieces give nothing, byte pieces their byte.
// Returns 0 and passes the text to `out`, or -1 and passes the reason to `error`.
PREFLAB_SP_API int preflab_sp_decode(const PreflabSpModel *model, const int32_t *ids, size_t count,
                                     PreflabSpBytesSink out, void *outContext, PreflabSpBytesSink error,
                                     void *errorContext);

PREFLAB_SP_API int32_t preflab_sp_piece_count(const PreflabSpModel *model);
// Passes the piece of `id` to `out` and returns 0; returns -1 when `id` is out of range.
PREFLAB_SP_API int preflab_sp_id_to_piece(const PreflabSpModel *model, int32_t id, PreflabSpBytesSink out,
                                          void *outContext);
// The id of exactly this piece, or -1 when the vocabulary has no such piece.
PREFLAB_SP_API int32_t preflab_sp_piece_to_id(const PreflabSpModel *model, const char *piece, size_t size);

// -1 when the model defines none.
PREFLAB_SP_API int32_t preflab_sp_bos_id(const PreflabSpModel *model);
PREFLAB_SP_API int32_t preflab_sp_eos_id(const PreflabSpModel *model);
PREFLAB_SP_API int32_t preflab_sp_unk_id(const PreflabSpModel *model);
PREFLAB_SP_API int32_t preflab_sp_pad_id(const PreflabSpModel *model);

// 1 or 0; 0 for an id out of range.
PREFLAB_SP_API int preflab_sp_is_control(const PreflabSpModel *model, int32_t id);
PREFLAB_SP_API int preflab_sp_is_unknown(const PreflabSpModel *model, int32_t id);
PREFLAB_SP_API int preflab_sp_is_byte(const PreflabSpModel *model, int32_t id);

#ifdef __cplusplus
} // extern "C"
#endif
