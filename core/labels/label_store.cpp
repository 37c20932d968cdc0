// LabelStore on SQLite: schema, import, decisions and undo as events, current decisions.
#include "core/labels/label_store.h"

#include "core/io/content_hash.h"
#include "core/io/input_error.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

namespace fs = std::filesystem;

namespace preflab::core {

namespace {

// One prepared statement, finalized on scope exit.
class Statement {
public:
  Statement(sqlite3 *db, const char *sql, const std::string &path) : m_db(db), m_path(path) {
    if (sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr) != SQLITE_OK)
      fail("cannot read the label store");
  }
  ~Statement() { sqlite3_finalize(m_stmt); }
  Statement(const Statement &) = delete;
  Statement &operator=(const Statement &) = delete;

  Statement &bind(int i, std::int64_t v) {
    sqlite3_bind_int64(m_stmt, i, v);
    return *this;
  }
  Statement &bind(int i, double v) {
    sqlite3_bind_double(m_stmt, i, v);
    return *this;
  }
  Statement &bind(int i, const std::string &v) {
    sqlite3_bind_text(m_stmt, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // True while there is a row; false when done.
  bool step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
      return true;
    if (rc != SQLITE_DONE)
      fail("cannot write the label store");
    return false;
  }
  void reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(m_stmt, col); }
  double real(int col) const { return sqlite3_column_double(m_stmt, col); }
  std::string text(int col) const {
    const auto *p = sqlite3_column_text(m_stmt, col);
    return p ? std::string(reinterpret_cast<const char *>(p), std::size_t(sqlite3_column_bytes(m_stmt, col)))
             : std::string();
  }

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw InputError(m_path, 0, {}, what + ": " + sqlite3_errmsg(m_db));
  }
  sqlite3 *m_db;
  const std::string &m_path;
  sqlite3_stmt *m_stmt = nullptr;
};

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string fileHash(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::uint64_t h = kFnvOffset;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    h = fnv1a(h, buf, std::size_t(in.gcount()));
  return hexDigest(h);
}

constexpr const char *kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY, ext_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, prompt TEXT NOT NULL,
  source TEXT NOT NULL, source_line INTEGER NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS candidates (
  item_id INTEGER NOT NULL REFERENCES items(id), slot INTEGER NOT NULL, content TEXT NOT NULL,
  content_hash TEXT NOT NULL, PRIMARY KEY (item_id, slot));
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER NOT NULL REFERENCES items(id),
  annotator TEXT NOT NULL, choice TEXT NOT NULL, swapped INTEGER NOT NULL, note TEXT NOT NULL,
  seconds REAL NOT NULL, at REAL NOT NULL, undoes INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS events_by_annotator ON events (annotator, id);
)sql";

} // namespace

const char *labelChoiceName(LabelChoice c) {
  switch (c) {
  case LabelChoice::First:
    return "first";
  case LabelChoice::Second:
    return "second";
  case LabelChoice::Tie:
    return "tie";
  case LabelChoice::BothBad:
    return "both_bad";
  case LabelChoice::Skip:
    return "skip";
  }
  return "skip";
}

LabelChoice labelChoiceNamed(const std::string &name, const std::string &key) {
  for (auto c :
       {LabelChoice::First, LabelChoice::Second, LabelChoice::Tie, LabelChoice::BothBad, LabelChoice::Skip})
    if (name == labelChoiceName(c))
      return c;
  throw InputError({}, 0, key, "is '" + name + "', must be first, second, tie, both_bad or skip");
}

LabelStore::LabelStore(const std::string &path) : m_path(path) {
  const bool existed = fs::exists(path);
  if (existed && !fs::is_regular_file(path))
    throw InputError(path, 0, {}, "not a label store: not a file");
  if (sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    const std::string why = m_db ? sqlite3_errmsg(m_db) : "out of memory";
    sqlite3_close(m_db);
    throw InputError(path, 0, {}, "cannot open the label store: " + why);
  }
  try {
    sqlite3_busy_timeout(m_db, 5000); // another annotator's process may be committing
    // A decision is on disk when decide() returns: WAL with a sync at every commit. A store left
    // by a killed process is recovered from its log when opened.
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
    if (existed) {
      Statement check(m_db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'", m_path);
      check.step();
      if (check.integer(0) == 0)
        throw InputError(path, 0, {}, "not a PrefLab label store (no meta table)");
    }
    exec("BEGIN IMMEDIATE");
    exec(kSchema);
    {
      Statement version(m_db, "SELECT value FROM meta WHERE key='format_version'", m_path);
      if (version.step()) {
        const auto text = version.text(0);
        int v = 0;
        try {
          std::size_t used = 0;
          v = std::stoi(text, &used);
          if (used != text.size() || v < 1)
            throw std::invalid_argument(text);
        } catch (const std::exception &) {
          throw InputError(path, 0, "format_version",
                           "damaged label store: format_version is '" + text + "'");
        }
        if (v > kFormatVersion)
          throw InputError(path, 0, "format_version",
                           "the store was written by a newer PrefLab (format " + std::to_string(v) +
                               "; this one reads up to " + std::to_string(kFormatVersion) + ")");
      } else {
        std::random_device rd;
        const auto salt = hexDigest((std::uint64_t(rd()) << 32) ^ rd());
        Statement put(m_db, "INSERT INTO meta (key, value) VALUES (?1, ?2)", m_path);
        put.bind(1, std::string("format_version")).bind(2, std::to_string(kFormatVersion)).step();
        put.reset();
        put.bind(1, std::string("store_id")).bind(2, salt).step();
        put.reset();
        put.bind(1, std::string("created_at")).bind(2, std::to_string(unixNow())).step();
      }
    }
    exec("COMMIT");
    Statement salt(m_db, "SELECT value FROM meta WHERE key='store_id'", m_path);
    if (salt.step())
      m_salt = salt.text(0);
  } catch (...) {
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(m_db);
    m_db = nullptr;
    throw;
  }
}

LabelStore::~LabelStore() {
  sqlite3_close(m_db);
}

void LabelStore::exec(const char *sql) const {
  char *error = nullptr;
  if (sqlite3_exec(m_db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string why = error ? error : sqlite3_errmsg(m_db);
    sqlite3_free(error);
    throw InputError(m_path, 0, {}, "label store: " + why);
  }
}

ImportCount LabelStore::addItems(const std::vector<LabelItem> &items) {
  ImportCount count;
  const auto base = fs::absolute(fs::path(m_path)).parent_path();
  exec("BEGIN IMMEDIATE");
  try {
    Statement exists(m_db, "SELECT id FROM items WHERE ext_id = ?1", m_path);
    Statement item(m_db,
                   "INSERT INTO items (ext_id, kind, prompt, source, source_line, added_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                   m_path);
    Statement cand(m_db,
                   "INSERT INTO candidates (item_id, slot, content, content_hash) VALUES (?1, ?2, ?3, ?4)",
                   m_path);
    const double now = unixNow();
    for (const auto &it : items) {
      exists.reset();
      exists.bind(1, it.id);
      if (exists.step()) {
        ++count.alreadyThere;
        continue;
      }
      item.reset();
      item.bind(1, it.id)
          .bind(2, it.kind)
          .bind(3, it.prompt)
          .bind(4, it.source)
          .bind(5, it.line)
          .bind(6, now);
      item.step();
      const auto key = sqlite3_last_insert_rowid(m_db);
      for (int s = 0; s < 2; ++s) {
        std::string content = it.candidates[s], hash;
        if (it.kind == "image") { // relative to the store, so the project folder can move
          hash = fileHash(content);
          content = fs::absolute(fs::path(content)).lexically_normal().lexically_relative(base).string();
        }
        cand.reset();
        cand.bind(1, std::int64_t(key)).bind(2, std::int64_t(s)).bind(3, content).bind(4, hash);
        cand.step();
      }
      ++count.added;
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  return count;
}

std::vector<StoredItem> LabelStore::items() const {
  const auto base = fs::absolute(fs::path(m_path)).parent_path();
  std::vector<StoredItem> out;
  std::map<std::int64_t, std::size_t> index;
  Statement q(m_db, "SELECT id, ext_id, kind, prompt, source, source_line FROM items ORDER BY id", m_path);
  while (q.step()) {
    StoredItem s;
    s.key = q.integer(0);
    s.item.id = q.text(1);
    s.item.kind = q.text(2);
    s.item.prompt = q.text(3);
    s.item.source = q.text(4);
    s.item.line = q.integer(5);
    index[s.key] = out.size();
    out.push_back(std::move(s));
  }
  Statement c(m_db, "SELECT item_id, slot, content, content_hash FROM candidates", m_path);
  while (c.step()) {
    const auto it = index.find(c.integer(0));
    const auto slot = c.integer(1);
    if (it == index.end() || slot < 0 || slot > 1)
      throw InputError(m_path, 0, {}, "damaged label store: a candidate of no item");
    auto &s = out[it->second];
    s.item.candidates[slot] = c.text(2);
    s.candidateHash[slot] = c.text(3);
    if (s.item.kind == "image")
      s.item.candidates[slot] = (base / s.item.candidates[slot]).lexically_normal().string();
  }
  return out;
}

bool LabelStore::shownSwapped(std::int64_t item, const std::string &annotator) const {
  std::uint64_t h = fnv1a(kFnvOffset, m_salt.data(), m_salt.size());
  h = fnv1a(h, &item, sizeof item);
  h = fnv1a(h, annotator.data(), annotator.size());
  // FNV's low bits follow the last bytes closely: finish with splitmix64's mixer.
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return ((h ^ (h >> 31)) & 1u) != 0;
}

std::int64_t LabelStore::decide(std::int64_t item, const std::string &annotator, LabelChoice choice,
                                bool swapped, const std::string &note, double seconds) {
  if (annotator.empty())
    throw InputError(m_path, 0, "annotator", "a decision needs an annotator name");
  Statement known(m_db, "SELECT 1 FROM items WHERE id = ?1", m_path);
  known.bind(1, item);
  if (!known.step())
    throw InputError(m_path, 0, "item", "no item " + std::to_string(item) + " in the store");
  Statement ins(m_db,
                "INSERT INTO events (item_id, annotator, choice, swapped, note, seconds, at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                m_path);
  ins.bind(1, item)
      .bind(2, annotator)
      .bind(3, std::string(labelChoiceName(choice)))
      .bind(4, std::int64_t(swapped))
      .bind(5, note)
      .bind(6, seconds)
      .bind(7, unixNow());
  ins.step(); // autocommit: synced to the log before it returns
  return sqlite3_last_insert_rowid(m_db);
}

std::int64_t LabelStore::undo(const std::string &annotator) {
  exec("BEGIN IMMEDIATE");
  try {
    // The newest decision of this annotator that no undo points at.
    Statement q(m_db,
                "SELECT id, item_id FROM events e WHERE annotator = ?1 AND undoes = 0 AND NOT EXISTS "
                "(SELECT 1 FROM events u WHERE u.undoes = e.id) ORDER BY id DESC LIMIT 1",
                m_path);
    q.bind(1, annotator);
    if (!q.step()) {
      exec("COMMIT");
      return 0;
    }
    const auto target = q.integer(0), item = q.integer(1);
    Statement ins(m_db,
                  "INSERT INTO events (item_id, annotator, choice, swapped, note, seconds, at, undoes) "
                  "VALUES (?1, ?2, 'undo', 0, '', 0, ?3, ?4)",
                  m_path);
    ins.bind(1, item).bind(2, annotator).bind(3, unixNow()).bind(4, target);
    ins.step();
    exec("COMMIT");
    return target;
  } catch (...) {
    sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::vector<LabelEvent> LabelStore::events() const {
  std::vector<LabelEvent> out;
  Statement q(
      m_db,
      "SELECT id, item_id, annotator, choice, swapped, note, seconds, at, undoes FROM events ORDER BY id",
      m_path);
  while (q.step()) {
    LabelEvent e;
    e.id = q.integer(0);
    e.item = q.integer(1);
    e.annotator = q.text(2);
    e.undoes = q.integer(8);
    const auto choice = q.text(3);
    if (e.undoes == 0) {
      try {
        e.choice = labelChoiceNamed(choice);
      } catch (const InputError &) {
        throw InputError(m_path, 0, "choice",
                         "damaged label store: event " + std::to_string(e.id) + " has choice '" + choice +
                             "'");
      }
    }
    e.swapped = q.integer(4) != 0;
    e.note = q.text(5);
    e.seconds = q.real(6);
    e.at = q.real(7);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<LabelEvent> LabelStore::currentDecisions() const {
  const auto all = events();
  std::set<std::int64_t> undone;
  for (const auto &e : all)
    if (e.undoes > 0)
      undone.insert(e.undoes);
  std::map<std::pair<std::int64_t, std::string>, LabelEvent> latest;
  for (const auto &e : all)
    if (e.undoes == 0 && !undone.count(e.id))
      latest[{e.item, e.annotator}] = e; // newer events come later
  std::vector<LabelEvent> out;
  for (auto &[key, e] : latest)
    if (e.choice != LabelChoice::Skip)
      out.push_back(std::move(e));
  return out;
}

std::int64_t LabelStore::changesByOthers() const {
  Statement q(m_db, "PRAGMA data_version", m_path);
  return q.step() ? q.integer(0) : 0;
}

std::vector<std::string> LabelStore::annotators() const {
  std::vector<std::string> out;
  Statement q(m_db, "SELECT DISTINCT annotator FROM events ORDER BY annotator", m_path);
  while (q.step())
    out.push_back(q.text(0));
  return out;
}

} // namespace preflab::core
