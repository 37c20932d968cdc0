// libpreflab_sentencepiece.so: the C interface of sentencepiece_shim.h over SentencePieceProcessor.
#include "core/sentencepiece_shim/sentencepiece_shim.h"

#include "core/sentencepiece_shim/model_proto_check.h"

#include <sentencepiece_processor.h>

#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

struct PreflabSpModel {
  sentencepiece::SentencePieceProcessor processor;
  int pieceCount = 0;
};

namespace {

void reportSpError(PreflabSpBytesSink sink, void *context, const std::string &message) {
  if (sink)
    sink(context, message.data(), message.size());
}

bool spIdInRange(const PreflabSpModel *model, int32_t id) {
  return id >= 0 && id < model->pieceCount;
}

// The ids SentencePiece hands back for special roles, or -1 where a model's own id is out of range
// (a hand-edited ModelProto can name a piece it does not have).
int32_t spRoleId(const PreflabSpModel *model, int id) {
  return spIdInRange(model, id) ? id : -1;
}

} // namespace

extern "C" {

int preflab_sp_abi_version(void) {
  return PREFLAB_SP_ABI_VERSION;
}

PreflabSpModel *preflab_sp_load(const char *data, size_t size, PreflabSpBytesSink error, void *errorContext) {
  try {
    // Inputs that would crash the library instead of failing (see model_proto_check.h).
    if (const auto why = preflab::sentencepiece_shim::checkModelProto(data, size); !why.empty()) {
      reportSpError(error, errorContext, why);
      return nullptr;
    }
    // The library throws as well as returning a status (darts-clone: "zero-length key").
    auto model = std::make_unique<PreflabSpModel>();
    const auto status = model->processor.LoadFromSerializedProto(absl::string_view(data, size));
    if (!status.ok()) {
      reportSpError(error, errorContext, status.ToString());
      return nullptr;
    }
    model->pieceCount = model->processor.GetPieceSize();
    if (model->pieceCount <= 0) {
      reportSpError(error, errorContext, "the model has no pieces");
      return nullptr;
    }
    return model.release();
  } catch (const std::bad_alloc &) {
    reportSpError(error, errorContext, "out of memory while loading the model");
  } catch (const std::exception &e) {
    reportSpError(error, errorContext, e.what());
  } catch (...) {
    reportSpError(error, errorContext, "unknown error while loading the model");
  }
  return nullptr;
}

void preflab_sp_free(PreflabSpModel *model) {
  delete model;
}

int preflab_sp_encode(const PreflabSpModel *model, const char *text, size_t size, PreflabSpIdsSink out,
                      void *outContext, PreflabSpBytesSink error, void *errorContext) {
  try {
    std::vector<int> ids;
    const auto status = model->processor.Encode(absl::string_view(text, size), &ids);
    if (!status.ok()) {
      reportSpError(error, errorContext, status.ToString());
      return -1;
    }
    static_assert(sizeof(int) == sizeof(int32_t), "ids are passed as int32_t");
    out(outContext, reinterpret_cast<const int32_t *>(ids.data()), ids.size());
    return 0;
  } catch (const std::exception &e) {
    reportSpError(error, errorContext, e.what());
  } catch (...) {
    reportSpError(error, errorContext, "unknown error while encoding");
  }
  return -1;
}

int preflab_sp_decode(const PreflabSpModel *model, const int32_t *ids, size_t count, PreflabSpBytesSink out,
                      void *outContext, PreflabSpBytesSink error, void *errorContext) {
  try {
    std::vector<int> in(ids, ids + count);
    for (int id : in)
      if (!spIdInRange(model, id)) {
        reportSpError(error, errorContext, "id " + std::to_string(id) + " is out of range");
        return -1;
      }
    std::string text;
    const auto status = model->processor.Decode(in, &text);
    if (!status.ok()) {
      reportSpError(error, errorContext, status.ToString());
      return -1;
    }
    out(outContext, text.data(), text.size());
    return 0;
  } catch (const std::exception &e) {
    reportSpError(error, errorContext, e.what());
  } catch (...) {
    reportSpError(error, errorContext, "unknown error while decoding");
  }
  return -1;
}

int32_t preflab_sp_piece_count(const PreflabSpModel *model) {
  return model->pieceCount;
}

// SentencePieceProcessor's IdToPiece / IsControl / ... index the ModelProto without a range check:
// every id is checked here first.
int preflab_sp_id_to_piece(const PreflabSpModel *model, int32_t id, PreflabSpBytesSink out,
                           void *outContext) {
  if (!spIdInRange(model, id))
    return -1;
  const std::string &piece = model->processor.IdToPiece(id);
  out(outContext, piece.data(), piece.size());
  return 0;
}

int32_t preflab_sp_piece_to_id(const PreflabSpModel *model, const char *piece, size_t size) {
  const absl::string_view wanted(piece, size);
  const int id = model->processor.PieceToId(wanted); // the unknown id for a piece it lacks
  return spIdInRange(model, id) && model->processor.IdToPiece(id) == wanted ? id : -1;
}

int32_t preflab_sp_bos_id(const PreflabSpModel *model) {
  return spRoleId(model, model->processor.bos_id());
}
int32_t preflab_sp_eos_id(const PreflabSpModel *model) {
  return spRoleId(model, model->processor.eos_id());
}
int32_t preflab_sp_unk_id(const PreflabSpModel *model) {
  return spRoleId(model, model->processor.unk_id());
}
int32_t preflab_sp_pad_id(const PreflabSpModel *model) {
  return spRoleId(model, model->processor.pad_id());
}

int preflab_sp_is_control(const PreflabSpModel *model, int32_t id) {
  return spIdInRange(model, id) && model->processor.IsControl(id) ? 1 : 0;
}
int preflab_sp_is_unknown(const PreflabSpModel *model, int32_t id) {
  return spIdInRange(model, id) && model->processor.IsUnknown(id) ? 1 : 0;
}
int preflab_sp_is_byte(const PreflabSpModel *model, int32_t id) {
  return spIdInRange(model, id) && model->processor.IsByte(id) ? 1 : 0;
}

} // extern "C"
