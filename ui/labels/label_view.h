// LabelView: A/B preference labeling of a label store's items, keyboard first. Each decision is
// committed to the store before the view says it is saved.
#pragma once

#include "core/api/labels.h"
#include "ui/labels/label_worker.h"

#include <QElapsedTimer>
#include <QString>
#include <QVector>
#include <QWidget>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QStackedWidget;
class QTextBrowser;
class QThread;
class QTreeWidget;

namespace preflab::ui {

// Keys: 1 / Left = A better, 2 / Right = B better, T = tie, B = both bad, S = skip, Ctrl+Z = undo
// (as deep as the session's decisions), N / P = next / previous, ? = the keys. Every key has a
// button. The candidates' shown order is the store's fixed coin per item and annotator, and is
// stored with each decision. Filters: all items, those the annotator has not labelled, those
// annotators disagree on, the annotator's own. The queue is listed beside the candidates (with
// the votes and, once ranked, each pair's informativeness) and can be ordered by it. Generating
// candidates and ranking run in a worker thread with progress and Cancel; labeling goes on
// meanwhile.
class LabelView : public QWidget {
  Q_OBJECT

public:
  explicit LabelView(QWidget *parent = nullptr);
  ~LabelView() override;

  // Opens (or creates) a store. Returns false with `error` when it cannot be opened.
  bool openStore(const QString &path, QString *error = nullptr);
  // Adds a candidate file's items to the open store; returns false with `error` naming the line.
  bool importCandidates(const QString &path, QString *error = nullptr);
  void setAnnotator(const QString &name);
  enum class Filter { All, Unlabelled, Disagreed, Mine };
  void setFilter(Filter filter);

  QString storePath() const;
  QString annotator() const;
  int queueSize() const { return m_queue.size(); }
  int position() const { return m_pos; }
  std::int64_t currentItem() const; // the store's key, 0 when none
  bool shownSwapped() const { return m_swapped; }
  QString progressText() const;
  QString agreementText() const;
  QString statusText() const;
  QString shownText(int side) const; // side 0 = A, 1 = B (text items)
  QVector<std::int64_t> queue() const { return m_queue; }
  // The queue's order: as stored, by |implicit reward margin| (closest to 0 first), or by the
  // difficulty softplus(−βc) (lowest, i.e. hardest, first). Unscored items come last.
  enum class Order { Stored, Margin, Difficulty };
  void setOrder(Order order);
  std::optional<core::PairInformativeness> score(std::int64_t item) const;
  QString queueCell(int row, int column) const; // the queue list's text, for tests

  // Generates candidates into <store stem>-gen<N>.jsonl beside the store (request.out is set
  // here) in a worker thread and imports them when done. Returns false (with the reason in the
  // status line) without a store or while another job runs.
  bool generateCandidates(core::CandidateGenerationRequest request);
  // Scores the store's text items for `request`'s policy and reference in a worker thread; the
  // queue then shows the scores and is ordered by them (margin, unless ordered already).
  bool rankItems(const core::InformativenessRequest &request);
  bool busy() const { return m_thread != nullptr; }
  QString nextGeneratedPath() const;
  // Re-reads the store (items another process or a run added meanwhile).
  void refresh();
  // A line above the candidates for who is waiting on these labels (a D2PO run); "" hides it.
  void setRequestText(const QString &text);

public Q_SLOTS:
  void chooseA();
  void chooseB();
  void chooseTie();
  void chooseBothBad();
  void skip();
  void undo();
  void next();
  void previous();
  void showKeys();
  void openGenerateDialog();
  void openRankDialog();
  void openImportDialog();
  void openStoreDialog();
  void trainOnLabels(); // exportForTraining, as a slot
  void cancelJob();

  // Exports the current decisions next to the store (<stem>-pairs.jsonl as TRL pairs with rater
  // fractions, or <stem>-manifest.jsonl for image items) and emits trainRequested. Returns the
  // file, or "" with the reason in the status line when there is nothing to train on.
  QString exportForTraining();

Q_SIGNALS:
  void storeChanged(const QString &path);
  // "Train on these labels": a training file of the labels, text pairs or an image manifest.
  // `model`: the folder the candidates were generated from, when they all name one ("" else).
  void trainRequested(const QString &trainFile, bool images, const QString &model);
  // A generation or ranking job ended; `error` is empty on success (also when cancelled).
  void jobFinished(const QString &error);

private:
  void buildUi();
  void record(core::LabelChoice choice); // in the stored candidates' terms
  void rebuildQueue(std::int64_t keep = 0);
  void showCurrent();
  void refreshProgress();
  bool ready(); // a store, an item and an annotator; says what is missing otherwise
  using JobDone = std::function<void(const QString &error, bool cancelled)>;
  bool startJob(const QString &what, LabelWorker::Job job, JobDone done);
  // The queue's rows, from the store's items and current decisions rebuildQueue has read.
  void fillQueueTable(const std::vector<core::StoredItem> &items,
                      const std::vector<core::LabelEvent> &current);
  void moveToOpenItem(); // from an item the annotator decided to the first they have not

  std::unique_ptr<core::LabelStore> m_store;
  QVector<std::int64_t> m_queue; // item keys in the filtered queue
  int m_pos = 0;
  bool m_swapped = false;
  Filter m_filter = Filter::All;
  QElapsedTimer m_shownFor;
  QLabel *m_storeLabel = nullptr;
  QLineEdit *m_annotator = nullptr;
  QComboBox *m_filterBox = nullptr;
  QLabel *m_progress = nullptr;
  QTextBrowser *m_prompt = nullptr;
  QStackedWidget *m_sides[2] = {nullptr, nullptr};
  QTextBrowser *m_texts[2] = {nullptr, nullptr};
  QLabel *m_images[2] = {nullptr, nullptr};
  QLineEdit *m_note = nullptr;
  QLabel *m_status = nullptr;
  QLabel *m_itemLabel = nullptr;
  QLabel *m_agreement = nullptr;
  QLabel *m_request = nullptr;
  QTreeWidget *m_queueTable = nullptr;
  QComboBox *m_orderBox = nullptr;
  QProgressBar *m_jobProgress = nullptr;
  QPushButton *m_cancelJob = nullptr;
  QThread *m_thread = nullptr;
  LabelWorker *m_worker = nullptr;
  JobDone m_jobDone;
  Order m_order = Order::Stored;
  std::map<std::int64_t, core::PairInformativeness> m_scores;
  std::int64_t m_seenVersion = 0; // the store's changesByOthers() when last read
  std::int64_t m_shownItem = 0;   // the item m_shownFor times
};

} // namespace preflab::ui
