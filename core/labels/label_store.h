// LabelStore: one labeling project in an embedded SQLite database (write-ahead log, synchronous
// commits): items, their two candidates, and every decision as an event that is never
// overwritten (undo is one more event). No LibTorch, no Qt.
#pragma once

#include "core/labels/label_candidates.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct sqlite3;

namespace preflab::core {

// What an annotator said of an item, in terms of the stored candidates (not of the shown A/B).
enum class LabelChoice { First, Second, Tie, BothBad, Skip };
const char *labelChoiceName(LabelChoice c); // "first" | "second" | "tie" | "both_bad" | "skip"
// Throws InputError naming `key` for another name.
LabelChoice labelChoiceNamed(const std::string &name, const std::string &key = "choice");

struct StoredItem {
  std::int64_t key = 0;         // the store's row id
  LabelItem item;               // image candidates as absolute paths (stored relative to the store's folder)
  std::string candidateHash[2]; // images: FNV-1a of the file's bytes when imported ("" for text)
};

struct LabelEvent {
  std::int64_t id = 0;
  std::int64_t item = 0; // StoredItem::key
  std::string annotator;
  LabelChoice choice = LabelChoice::Skip;
  bool swapped = false; // the second candidate was shown as A
  std::string note;
  double seconds = 0.0;    // time on the item before deciding
  double at = 0.0;         // Unix time of the decision
  std::int64_t undoes = 0; // > 0: an undo of that event (choice is then meaningless)
};

struct ImportCount {
  std::int64_t added = 0;
  std::int64_t alreadyThere = 0; // same id as a stored item: left as it is
};

class LabelStore {
public:
  static constexpr int kFormatVersion = 1;

  // Opens `path`, creating it (and its schema) when it does not exist. Throws InputError naming
  // the file for a file that is not a label store, is damaged, or is of a newer format.
  explicit LabelStore(const std::string &path);
  ~LabelStore();
  LabelStore(const LabelStore &) = delete;
  LabelStore &operator=(const LabelStore &) = delete;

  const std::string &path() const { return m_path; }

  // Adds the items whose id the store does not have yet, in one transaction.
  ImportCount addItems(const std::vector<LabelItem> &items);
  std::vector<StoredItem> items() const;

  // Whether `annotator` is shown the second candidate as A for `item`: a fixed coin flip per
  // (store, item, annotator), so the order does not depend on when the item comes up.
  bool shownSwapped(std::int64_t item, const std::string &annotator) const;

  // Records a decision; it is committed to disk when this returns. Returns the event's id.
  // Throws InputError for an unknown item or an empty annotator name.
  std::int64_t decide(std::int64_t item, const std::string &annotator, LabelChoice choice, bool swapped,
                      const std::string &note = {}, double seconds = 0.0);
  // Undoes `annotator`'s newest decision that is not undone yet, as a new event. Returns the
  // undone event's id (0 when there is nothing to undo).
  std::int64_t undo(const std::string &annotator);

  // Every event, oldest first.
  std::vector<LabelEvent> events() const;
  // Per (item, annotator), the newest decision that is not undone and not a skip; by item, then
  // annotator.
  std::vector<LabelEvent> currentDecisions() const;
  std::vector<std::string> annotators() const;
  // A number that changes when another connection (a run asking for gold labels, a second
  // annotator's process, preflab-cli labels) has committed to the store since the last call
  // (SQLite's data_version): poll it to show their items and decisions.
  std::int64_t changesByOthers() const;

private:
  void exec(const char *sql) const;
  std::string m_path;
  std::string m_salt; // the store's random id, for shownSwapped
  sqlite3 *m_db = nullptr;
};

} // namespace preflab::core
