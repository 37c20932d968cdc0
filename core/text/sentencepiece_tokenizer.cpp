// SentencePieceTokenizer: loads libpreflab_sentencepiece.so once and calls its C interface.
#include "core/text/sentencepiece_tokenizer.h"

#include "core/io/atomic_file.h"
#include "core/io/input_error.h"
#include "core/sentencepiece_shim/sentencepiece_shim.h"

#include <dlfcn.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>

#ifndef PREFLAB_SENTENCEPIECE_SHIM
#define PREFLAB_SENTENCEPIECE_SHIM ""
#endif

// The sanitizers' dlopen interceptors abort the process on RTLD_DEEPBIND ("incompatible with
// sanitizer runtime"): known at compile time for an instrumented core, at run time (their runtime's
// symbols) for an instrumented executable over an uninstrumented core.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PREFLAB_SP_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define PREFLAB_SP_SANITIZED 1
#endif
#endif
#ifndef PREFLAB_SP_SANITIZED
#define PREFLAB_SP_SANITIZED 0
#endif

namespace preflab::core {

namespace fs = std::filesystem;

namespace {

// The shim's functions, resolved once per process.
struct SpShimApi {
  decltype(&preflab_sp_load) load = nullptr;
  decltype(&preflab_sp_free) free = nullptr;
  decltype(&preflab_sp_encode) encode = nullptr;
  decltype(&preflab_sp_decode) decode = nullptr;
  decltype(&preflab_sp_piece_count) pieceCount = nullptr;
  decltype(&preflab_sp_id_to_piece) idToPiece = nullptr;
  decltype(&preflab_sp_piece_to_id) pieceToId = nullptr;
  decltype(&preflab_sp_bos_id) bosId = nullptr;
  decltype(&preflab_sp_eos_id) eosId = nullptr;
  decltype(&preflab_sp_is_control) isControl = nullptr;
};

struct SpShimLoad {
  SpShimApi api;
  std::string error; // empty when api is usable
};

template <typename F> bool spResolve(void *library, const char *name, F &out) {
  out = reinterpret_cast<F>(::dlsym(library, name));
  return out != nullptr;
}

std::string spResolveAll(void *library, SpShimApi &api) {
  using VersionFn = decltype(&preflab_sp_abi_version);
  VersionFn version = nullptr;
  if (!spResolve(library, "preflab_sp_abi_version", version))
    return "it has no preflab_sp_abi_version";
  if (version() != PREFLAB_SP_ABI_VERSION)
    return "it has interface version " + std::to_string(version()) + ", this build needs " +
           std::to_string(PREFLAB_SP_ABI_VERSION);
  const bool ok = spResolve(library, "preflab_sp_load", api.load) &&
                  spResolve(library, "preflab_sp_free", api.free) &&
                  spResolve(library, "preflab_sp_encode", api.encode) &&
                  spResolve(library, "preflab_sp_decode", api.decode) &&
                  spResolve(library, "preflab_sp_piece_count", api.pieceCount) &&
                  spResolve(library, "preflab_sp_id_to_piece", api.idToPiece) &&
                  spResolve(library, "preflab_sp_piece_to_id", api.pieceToId) &&
                  spResolve(library, "preflab_sp_bos_id", api.bosId) &&
                  spResolve(library, "preflab_sp_eos_id", api.eosId) &&
                  spResolve(library, "preflab_sp_is_control", api.isControl);
  return ok ? std::string() : std::string("a function of its interface is missing");
}

bool spSanitizedProcess() {
  if (PREFLAB_SP_SANITIZED)
    return true;
  for (const char *runtime : {"__asan_init", "__tsan_init", "__msan_init"})
    if (::dlsym(RTLD_DEFAULT, runtime))
      return true;
  return false;
}

std::vector<std::string> spShimCandidates() {
  constexpr const char *kName = "libpreflab_sentencepiece.so";
  std::vector<std::string> out;
  if (const char *env = std::getenv("PREFLAB_SENTENCEPIECE_LIBRARY"); env && *env)
    out.emplace_back(env);
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    out.push_back((exe.parent_path() / kName).string());
    out.push_back((exe.parent_path().parent_path() / "lib" / kName).string());
  }
  if (*PREFLAB_SENTENCEPIECE_SHIM)
    out.emplace_back(PREFLAB_SENTENCEPIECE_SHIM);
  std::vector<std::string> unique; // a build tree's executable may sit beside the build path
  for (auto &path : out)
    if (std::find(unique.begin(), unique.end(), path) == unique.end())
      unique.push_back(std::move(path));
  return unique;
}

SpShimLoad spLoadShim() {
  SpShimLoad result;
  // Linked into this process already (a program without LibTorch): its symbols are global.
  if (::dlsym(RTLD_DEFAULT, "preflab_sp_abi_version")) {
    result.error = spResolveAll(RTLD_DEFAULT, result.api);
    return result;
  }
  if (spSanitizedProcess()) {
    result.error = "SentencePiece models cannot be loaded under AddressSanitizer or ThreadSanitizer: "
                   "libsentencepiece needs dlopen(RTLD_DEEPBIND), which the sanitizers refuse";
    return result;
  }
  std::string tried;
  for (const auto &path : spShimCandidates()) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      tried += (tried.empty() ? "" : ", ") + path;
      continue;
    }
    // RTLD_LOCAL keeps libsentencepiece's protobuf symbols out of the global scope (where they
    // would capture LibTorch's libprotobuf references); RTLD_DEEPBIND makes libsentencepiece bind
    // to its own copy instead of libprotobuf's, whose version check rejects it. Never unloaded.
    void *library = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (!library) {
      const char *why = ::dlerror();
      result.error = "cannot load the SentencePiece library " + path + ": " + (why ? why : "dlopen failed");
      return result;
    }
    if (auto why = spResolveAll(library, result.api); !why.empty())
      result.error = "the SentencePiece library " + path + " does not fit this build: " + why;
    return result;
  }
  result.error =
      "SentencePiece support is not installed (libpreflab_sentencepiece.so not found; tried " + tried + ")";
  return result;
}

const SpShimApi &spShim(const std::string &file) {
  static const SpShimLoad loaded = spLoadShim(); // once per process, thread-safe
  if (!loaded.error.empty())
    throw InputError(file, 0, {}, loaded.error);
  return loaded.api;
}

// Sinks for the shim's results: each copies before the shim's buffer goes away.
void spAppendBytes(void *context, const char *data, std::size_t size) {
  static_cast<std::string *>(context)->append(data, size);
}
void spAssignIds(void *context, const std::int32_t *ids, std::size_t count) {
  static_cast<std::vector<std::int64_t> *>(context)->assign(ids, ids + count);
}

// A parse failure reads "Internal: ./src/sentencepiece_processor.cc(232) [model_proto->ParseFromArray
// (...)]": said in the user's terms instead.
std::string spLoadMessage(const std::string &status) {
  if (status.find("ParseFromArray") != std::string::npos)
    return "not a SentencePiece model: the bytes do not parse as a ModelProto (a truncated file, or "
           "another format)";
  return "not a SentencePiece model: " + status;
}

constexpr char kSpBase64Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string spBase64Encode(const std::string &bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 3; ++k)
      v = v << 8 | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    for (std::size_t k = 0; k < 4; ++k)
      out.push_back(k <= n ? kSpBase64Alphabet[(v >> (18 - 6 * k)) & 63] : '=');
  }
  return out;
}

// Strict: the padded alphabet above and nothing else (no line breaks); nullopt otherwise.
std::optional<std::string> spBase64Decode(const std::string &text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  std::array<int, 256> value;
  value.fill(-1);
  for (int i = 0; i < 64; ++i)
    value[static_cast<unsigned char>(kSpBase64Alphabet[i])] = i;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t pad = last ? (text[i + 3] == '=') + (text[i + 2] == '=' && text[i + 3] == '=') : 0;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int d = k >= 4 - pad ? 0 : value[static_cast<unsigned char>(text[i + k])];
      if (d < 0)
        return std::nullopt;
      v = v << 6 | static_cast<std::uint32_t>(d);
    }
    for (std::size_t k = 0; k < 3 - pad; ++k)
      out.push_back(static_cast<char>((v >> (16 - 8 * k)) & 0xFF));
  }
  return out;
}

} // namespace

struct SentencePieceTokenizer::Model {
  const SpShimApi *api = nullptr;
  PreflabSpModel *handle = nullptr;
  std::int32_t pieceCount = 0;
  std::vector<bool> control; // by id
  std::string file;

  Model() = default;
  Model(const Model &) = delete;
  Model &operator=(const Model &) = delete;
  ~Model() {
    if (handle)
      api->free(handle);
  }
  bool inRange(std::int64_t id) const { return id >= 0 && id < pieceCount; }
  std::optional<std::int64_t> named(const std::string &piece) const {
    const auto id = api->pieceToId(handle, piece.data(), piece.size());
    return id >= 0 ? std::optional<std::int64_t>(id) : std::nullopt;
  }
};

SentencePieceTokenizer::SentencePieceTokenizer(std::string modelBytes, const std::string &file,
                                               SentencePieceOptions options)
    : m_modelBytes(std::move(modelBytes)), m_options(std::move(options)) {
  if (m_modelBytes.empty())
    throw InputError(file, 0, {}, "an empty file is not a SentencePiece model");
  auto model = std::make_shared<Model>();
  model->api = &spShim(file);
  model->file = file;
  std::string why;
  model->handle = model->api->load(m_modelBytes.data(), m_modelBytes.size(), spAppendBytes, &why);
  if (!model->handle)
    throw InputError(file, 0, {}, spLoadMessage(why));
  model->pieceCount = model->api->pieceCount(model->handle);
  model->control.resize(std::size_t(model->pieceCount));
  for (std::int32_t id = 0; id < model->pieceCount; ++id)
    model->control[std::size_t(id)] = model->api->isControl(model->handle, id) != 0;

  auto role = [&](const std::string &name, std::int32_t own, const char *key) -> std::optional<std::int64_t> {
    if (name.empty())
      return own >= 0 ? std::optional<std::int64_t>(own) : std::nullopt;
    const auto id = model->named(name);
    if (!id)
      throw InputError(file, 0, key, "the SentencePiece model has no piece '" + name + "'");
    return id;
  };
  const auto eos = role(m_options.eosToken, model->api->eosId(model->handle), "eos_token");
  if (!eos)
    throw InputError(file, 0, "eos_token",
                     "the SentencePiece model defines no EOS piece (eos_id is -1): name one as eos_token in "
                     "tokenizer_config.json");
  m_eosId = *eos;
  m_bosId = role(m_options.bosToken, model->api->bosId(model->handle), "bos_token");
  if (m_options.addBosToken && !m_bosId)
    m_options.addBosToken = false; // LlamaTokenizer adds nothing when there is no BOS either
  m_model = std::move(model);
}

std::shared_ptr<SentencePieceTokenizer> SentencePieceTokenizer::fromFile(const std::string &path,
                                                                         SentencePieceOptions options) {
  return std::make_shared<SentencePieceTokenizer>(readFile(path), path, std::move(options));
}

namespace {

SentencePieceOptions spOptionsOf(const nlohmann::json &d) {
  auto text = [&](const char *key) -> std::string {
    if (!d.contains(key) || d[key].is_null())
      return {};
    if (!d[key].is_string())
      throw InputError({}, 0, key, std::string("must be a string, got ") + d[key].type_name());
    return d[key].get<std::string>();
  };
  auto flag = [&](const char *key, bool otherwise) {
    if (!d.contains(key))
      return otherwise;
    if (!d[key].is_boolean())
      throw InputError({}, 0, key, std::string("must be true or false, got ") + d[key].type_name());
    return d[key].get<bool>();
  };
  SentencePieceOptions o;
  o.eosToken = text("eos_token");
  o.bosToken = text("bos_token");
  o.addBosToken = flag("add_bos_token", true);
  o.addEosToken = flag("add_eos_token", false);
  o.chatTemplate = text("chat_template");
  return o;
}

std::string spModelOf(const nlohmann::json &d) {
  if (!d.contains("model") || !d["model"].is_string())
    throw InputError({}, 0, "model", "must be the base64 of a tokenizer.model");
  auto bytes = spBase64Decode(d["model"].get<std::string>());
  if (!bytes)
    throw InputError({}, 0, "model", "is not valid base64");
  return std::move(*bytes);
}

} // namespace

SentencePieceTokenizer::SentencePieceTokenizer(const nlohmann::json &description)
    : SentencePieceTokenizer(spModelOf(description), std::string(), spOptionsOf(description)) {}

std::vector<std::int64_t> SentencePieceTokenizer::encode(const std::string &text) const {
  std::vector<std::int64_t> ids;
  std::string why;
  if (m_model->api->encode(m_model->handle, text.data(), text.size(), spAssignIds, &ids, spAppendBytes,
                           &why) != 0)
    throw InputError(m_model->file, 0, {}, "SentencePiece could not encode the text: " + why);
  return ids;
}

std::vector<std::int64_t> SentencePieceTokenizer::encodeWithSpecialTokens(const std::string &text) const {
  auto ids = encode(text);
  if (m_options.addBosToken && m_bosId)
    ids.insert(ids.begin(), *m_bosId);
  if (m_options.addEosToken)
    ids.push_back(m_eosId);
  return ids;
}

std::string SentencePieceTokenizer::decodeRun(const std::vector<std::int32_t> &ids) const {
  std::string text, why;
  if (ids.empty())
    return text;
  // Every id is in range (the callers filter), so the library has no reason to fail.
  if (m_model->api->decode(m_model->handle, ids.data(), ids.size(), spAppendBytes, &text, spAppendBytes,
                           &why) != 0)
    throw InputError(m_model->file, 0, {}, "SentencePiece could not decode the ids: " + why);
  return text;
}

std::string SentencePieceTokenizer::decode(const std::vector<std::int64_t> &ids) const {
  return decodeTokens(ids, true);
}

std::string SentencePieceTokenizer::decodeTokens(const std::vector<std::int64_t> &ids,
                                                 bool skipSpecialTokens) const {
  std::string out;
  std::vector<std::int32_t> run;
  run.reserve(ids.size());
  for (const std::int64_t id : ids) {
    if (!m_model->inRange(id))
      continue;
    if (!skipSpecialTokens && m_model->control[std::size_t(id)]) {
      out += decodeRun(run);
      run.clear();
      out += idToToken(id).value_or("");
      continue;
    }
    run.push_back(static_cast<std::int32_t>(id));
  }
  return out + decodeRun(run);
}

std::int64_t SentencePieceTokenizer::vocabSize() const {
  return m_model->pieceCount;
}

std::optional<std::string> SentencePieceTokenizer::idToToken(std::int64_t id) const {
  if (!m_model->inRange(id))
    return std::nullopt;
  std::string piece;
  m_model->api->idToPiece(m_model->handle, static_cast<std::int32_t>(id), spAppendBytes, &piece);
  return piece;
}

nlohmann::json SentencePieceTokenizer::describe() const {
  nlohmann::json d = {
      {"type", "sentencepiece"},
      {"model", spBase64Encode(m_modelBytes)},
      {"vocab_size", vocabSize()},
      {"eos_token", idToToken(m_eosId).value_or("")},
      {"eos_token_id", m_eosId},
      {"bos_token", m_bosId ? nlohmann::json(idToToken(*m_bosId).value_or("")) : nlohmann::json()},
      {"bos_token_id", m_bosId ? nlohmann::json(*m_bosId) : nlohmann::json()},
      {"add_bos_token", m_options.addBosToken},
      {"add_eos_token", m_options.addEosToken}};
  if (!m_options.chatTemplate.empty())
    d["chat_template"] = m_options.chatTemplate;
  return d;
}

} // namespace preflab::core
