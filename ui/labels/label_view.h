// LabelView: A/B preference labeling of a label store's items, keyboard first. Each decision is
// committed to the store before the view says it is saved.
#pragma once

#include <QElapsedTimer>
#include <QString>
#include <QVector>
#include <QWidget>

#include <cstdint>
#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QStackedWidget;
class QTextBrowser;

namespace preflab::core {
class LabelStore;
enum class LabelChoice;
} // namespace preflab::core

namespace preflab::ui {

// Keys: 1 / Left = A better, 2 / Right = B better, T = tie, B = both bad, S = skip, Ctrl+Z = undo
// (as deep as the session's decisions), N / P = next / previous, ? = the keys. Every key has a
// button. The candidates' shown order is the store's fixed coin per item and annotator, and is
// stored with each decision. Filters: all items, those the annotator has not labelled, those
// annotators disagree on, the annotator's own.
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

  // Exports the current decisions next to the store (<stem>-pairs.jsonl as TRL pairs with rater
  // fractions, or <stem>-manifest.jsonl for image items) and emits trainRequested. Returns the
  // file, or "" with the reason in the status line when there is nothing to train on.
  QString exportForTraining();

Q_SIGNALS:
  void storeChanged(const QString &path);
  // "Train on these labels": a training file of the labels, text pairs or an image manifest.
  void trainRequested(const QString &trainFile, bool images);

private:
  void buildUi();
  void record(core::LabelChoice choice); // in the stored candidates' terms
  void rebuildQueue(std::int64_t keep = 0);
  void showCurrent();
  void refreshProgress();
  bool ready(); // a store, an item and an annotator; says what is missing otherwise

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
};

} // namespace preflab::ui
