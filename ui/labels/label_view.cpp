// LabelView: the queue, the two candidates side by side, keys and buttons, decisions to the store.
#include "ui/labels/label_view.h"

#include "core/api/labels.h"
#include "ui/labels/label_dialogs.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPainter>
#include <QPixmap>
#include <QProgressBar>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QShortcut>
#include <QSplitter>
#include <QStackedWidget>
#include <QTextBrowser>
#include <QThread>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

namespace preflab::ui {

namespace {

QString q(const std::string &s) {
  return QString::fromStdString(s);
}

// The candidate as HTML with the words the other candidate lacks highlighted, so that two long
// answers that differ in a few words show where.
QString highlighted(const QString &text, const QString &other) {
  const QStringList mine = text.split(QLatin1Char(' '));
  const QSet<QString> theirs = [&] {
    const QStringList w = other.split(QLatin1Char(' '));
    return QSet<QString>(w.begin(), w.end());
  }();
  QStringList out;
  for (const QString &w : mine)
    out << (theirs.contains(w) || w.isEmpty()
                ? w.toHtmlEscaped()
                : QStringLiteral("<span style=\"background:#fff3b0\">%1</span>").arg(w.toHtmlEscaped()));
  return QStringLiteral("<div style=\"white-space: pre-wrap\">%1</div>").arg(out.join(QLatin1Char(' ')));
}

// The side a stored choice took in the order the annotator was shown (`swapped`: the second
// candidate as A): 'A' or 'B' for first / second, none for tie, both bad and skip.
std::optional<QChar> shownSide(core::LabelChoice choice, bool swapped) {
  if (choice == core::LabelChoice::First)
    return QChar(swapped ? 'B' : 'A');
  if (choice == core::LabelChoice::Second)
    return QChar(swapped ? 'A' : 'B');
  return std::nullopt;
}

// "A is better" / "B is better" as shown, else the choice's name.
QString shownChoice(core::LabelChoice choice, bool swapped) {
  const auto side = shownSide(choice, swapped);
  return side ? LabelView::tr("%1 is better").arg(*side) : q(core::labelChoiceName(choice));
}

} // namespace

LabelView::LabelView(QWidget *parent) : QWidget(parent) {
  buildUi();
  m_annotator->setText(QSettings().value(QStringLiteral("labels/annotator")).toString());
  showCurrent();
  // Items and decisions other processes add (a run asking for gold labels, a second annotator)
  // appear within a second.
  auto *poll = new QTimer(this);
  poll->setInterval(1000);
  connect(poll, &QTimer::timeout, this, [this] {
    if (!m_store)
      return;
    try {
      const auto version = m_store->changesByOthers();
      if (version != m_seenVersion) {
        m_seenVersion = version;
        refresh();
      }
    } catch (const std::exception &) {
      // a store busy for longer than its timeout: the next tick reads it
    }
  });
  poll->start();
}

LabelView::~LabelView() {
  if (m_thread) {
    m_worker->cancel();
    m_thread->quit();
    m_thread->wait();
    delete m_worker;
    delete m_thread;
  }
}

void LabelView::buildUi() {
  auto *layout = new QVBoxLayout(this);
  auto *top = new QHBoxLayout;
  auto *open = new QPushButton(tr("Open store…"));
  open->setToolTip(tr("Open or create a label store (*.preflab-labels) (Ctrl+L)"));
  auto *import = new QPushButton(tr("Import candidates…"));
  import->setToolTip(
      tr("Add the pairs of a candidate file (prompt, completion_a, completion_b; caption, image_a, "
         "image_b; or any preference file) to the store"));
  auto *generate = new QPushButton(tr("Generate…"));
  generate->setToolTip(
      tr("Sample two candidates per prompt from a text model, or two images per caption from "
         "a diffusion model, and add them to the store (Ctrl+G)"));
  auto *rank = new QPushButton(tr("Rank by models…"));
  rank->setToolTip(tr("Score each text pair under a policy and its reference and order the queue by how "
                      "informative a label would be (Ctrl+K)"));
  for (auto *b : {open, import, generate, rank})
    b->setFocusPolicy(Qt::NoFocus);
  connect(generate, &QPushButton::clicked, this, &LabelView::openGenerateDialog);
  connect(rank, &QPushButton::clicked, this, &LabelView::openRankDialog);
  m_storeLabel = new QLabel(tr("no store open"));
  m_annotator = new QLineEdit;
  m_annotator->setPlaceholderText(tr("your name"));
  m_annotator->setMinimumWidth(140);
  m_annotator->setMaximumWidth(200);
  m_filterBox = new QComboBox;
  m_filterBox->addItem(tr("all items"));
  m_filterBox->addItem(tr("not labelled by me"));
  m_filterBox->addItem(tr("annotators disagree"));
  m_filterBox->addItem(tr("labelled by me"));
  m_filterBox->setFocusPolicy(Qt::NoFocus);
  m_progress = new QLabel;
  top->addWidget(open);
  top->addWidget(import);
  top->addWidget(generate);
  top->addWidget(rank);
  top->addWidget(m_storeLabel, 1);
  top->addWidget(m_progress);
  layout->addLayout(top);
  auto *who = new QHBoxLayout;                         // a second row: who labels, which items, in what order
  auto *annotatorLabel = new QLabel(tr("&Annotator")); // Alt+A: change who is labeling
  annotatorLabel->setBuddy(m_annotator);
  who->addWidget(annotatorLabel);
  who->addWidget(m_annotator);
  who->addWidget(new QLabel(tr("Show")));
  who->addWidget(m_filterBox);
  m_orderBox = new QComboBox;
  m_orderBox->addItem(tr("store order"));
  m_orderBox->addItem(tr("|margin| closest to 0"));
  m_orderBox->addItem(tr("hardest (lowest softplus(−βc))"));
  m_orderBox->setFocusPolicy(Qt::NoFocus);
  m_orderBox->setToolTip(tr("Order of the queue; the two model orders need Rank by models first"));
  who->addWidget(new QLabel(tr("Order")));
  who->addWidget(m_orderBox);
  who->addStretch(1);
  layout->addLayout(who);
  m_itemLabel = new QLabel;
  m_itemLabel->setStyleSheet(QStringLiteral("color: palette(mid);"));
  layout->addWidget(m_itemLabel);
  m_request = new QLabel;
  m_request->setWordWrap(true);
  m_request->setStyleSheet(QStringLiteral("background: #fff3b0; padding: 4px; font-weight: bold;"));
  m_request->hide();
  layout->addWidget(m_request);
  m_agreement = new QLabel;
  m_agreement->setWordWrap(true);
  m_agreement->setStyleSheet(QStringLiteral("color: palette(mid);"));
  auto *splitter = new QSplitter(Qt::Horizontal);
  m_queueTable = new QTreeWidget;
  m_queueTable->setObjectName(QStringLiteral("labelQueue"));
  m_queueTable->setHeaderLabels(
      {tr("#"), tr("item"), tr("you"), tr("votes"), tr("|margin|"), tr("difficulty")});
  m_queueTable->setRootIsDecorated(false);
  m_queueTable->setUniformRowHeights(true);
  m_queueTable->setFocusPolicy(Qt::NoFocus); // the keys stay with the view
  m_queueTable->header()->setStretchLastSection(false);
  m_queueTable->setToolTip(
      tr("The queue in its order. |margin|: the DPO implicit reward margin's size "
         "(near 0: the policy has no opinion); difficulty: softplus(−βc), lower = harder. "
         "Click a row to go there."));
  connect(m_queueTable, &QTreeWidget::itemClicked, this, [this](QTreeWidgetItem *row, int) {
    m_pos = m_queueTable->indexOfTopLevelItem(row);
    showCurrent();
    setFocus();
  });
  splitter->addWidget(m_queueTable);
  auto *body = new QWidget;
  auto *bodyLayout = new QVBoxLayout(body);
  bodyLayout->setContentsMargins(0, 0, 0, 0);
  splitter->addWidget(body);
  splitter->setStretchFactor(0, 0);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({400, 1000});
  m_prompt = new QTextBrowser; // a long transcript scrolls instead of pushing the candidates away
  m_prompt->setFocusPolicy(Qt::NoFocus);
  m_prompt->setMaximumHeight(150);
  m_prompt->setStyleSheet(QStringLiteral("font-weight: bold;"));
  bodyLayout->addWidget(m_prompt);
  auto *grid = new QGridLayout;
  for (int side = 0; side < 2; ++side) {
    auto *head = new QLabel(side == 0 ? tr("A  (1 or ←)") : tr("B  (2 or →)"));
    head->setAlignment(Qt::AlignCenter);
    head->setStyleSheet(QStringLiteral("font-weight: bold;"));
    m_texts[side] = new QTextBrowser;
    m_texts[side]->setFocusPolicy(Qt::NoFocus); // the keys stay with the view
    m_texts[side]->setOpenLinks(false);
    m_images[side] = new QLabel;
    m_images[side]->setAlignment(Qt::AlignCenter);
    m_images[side]->setMinimumSize(64, 64);
    m_images[side]->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Ignored);
    m_sides[side] = new QStackedWidget;
    m_sides[side]->addWidget(m_texts[side]);
    m_sides[side]->addWidget(m_images[side]);
    grid->addWidget(head, 0, side);
    grid->addWidget(m_sides[side], 1, side);
  }
  grid->setRowStretch(1, 1);
  bodyLayout->addLayout(grid, 1);
  layout->addWidget(splitter, 1);
  auto *noteRow = new QHBoxLayout;
  m_note = new QLineEdit;
  m_note->setPlaceholderText(
      tr("optional note, saved with the next decision (Enter or Esc returns to the keys)"));
  noteRow->addWidget(new QLabel(tr("Note")));
  noteRow->addWidget(m_note, 1);
  layout->addLayout(noteRow);
  auto *buttons = new QHBoxLayout;
  struct Action {
    QString text;
    QList<QKeySequence> keys;
    void (LabelView::*slot)();
  };
  const QList<Action> actions = {
      {tr("A is better (1)"), {QKeySequence(Qt::Key_1), QKeySequence(Qt::Key_Left)}, &LabelView::chooseA},
      {tr("B is better (2)"), {QKeySequence(Qt::Key_2), QKeySequence(Qt::Key_Right)}, &LabelView::chooseB},
      {tr("Tie (T)"), {QKeySequence(Qt::Key_T)}, &LabelView::chooseTie},
      {tr("Both bad (B)"), {QKeySequence(Qt::Key_B)}, &LabelView::chooseBothBad},
      {tr("Skip (S)"), {QKeySequence(Qt::Key_S)}, &LabelView::skip},
      {tr("Undo (Ctrl+Z)"), {QKeySequence::Undo}, &LabelView::undo},
      {tr("◀ Previous (P)"), {QKeySequence(Qt::Key_P)}, &LabelView::previous},
      {tr("Next (N) ▶"), {QKeySequence(Qt::Key_N)}, &LabelView::next},
      {tr("Keys (?)"), {QKeySequence(Qt::Key_Question)}, &LabelView::showKeys},
  };
  const QList<Action> hidden = {
      {{}, {QKeySequence(QStringLiteral("Ctrl+G"))}, &LabelView::openGenerateDialog},
      {{}, {QKeySequence(QStringLiteral("Ctrl+K"))}, &LabelView::openRankDialog},
      {{}, {QKeySequence(QStringLiteral("Ctrl+I"))}, &LabelView::openImportDialog},
      {{}, {QKeySequence(QStringLiteral("Ctrl+L"))}, &LabelView::openStoreDialog},
      {{}, {QKeySequence(QStringLiteral("Ctrl+T"))}, &LabelView::trainOnLabels},
  };
  for (const auto &a : hidden)
    for (const auto &key : a.keys) {
      auto *sc = new QShortcut(key, this);
      sc->setContext(Qt::WidgetWithChildrenShortcut);
      connect(sc, &QShortcut::activated, this, a.slot);
    }
  for (const auto &a : actions) {
    auto *b = new QPushButton(a.text);
    b->setFocusPolicy(Qt::NoFocus);
    connect(b, &QPushButton::clicked, this, a.slot);
    buttons->addWidget(b);
    for (const auto &key : a.keys) {
      auto *s = new QShortcut(key, this);
      s->setContext(Qt::WidgetWithChildrenShortcut);
      connect(s, &QShortcut::activated, this, a.slot);
    }
  }
  layout->addLayout(buttons);
  auto *bottom = new QHBoxLayout;
  m_status = new QLabel;
  auto *train = new QPushButton(tr("Train on these labels…"));
  train->setFocusPolicy(Qt::NoFocus);
  train->setToolTip(tr("Export the decisions (TRL pairs with rater fractions, or a Pick-a-Pic manifest for "
                       "images) next to the store and open the New run dialog on them"));
  connect(train, &QPushButton::clicked, this, &LabelView::trainOnLabels);
  m_jobProgress = new QProgressBar;
  m_jobProgress->setRange(0, 1000);
  m_jobProgress->setMaximumWidth(220);
  m_jobProgress->hide();
  m_cancelJob = new QPushButton(tr("Cancel"));
  m_cancelJob->setFocusPolicy(Qt::NoFocus);
  m_cancelJob->hide();
  connect(m_cancelJob, &QPushButton::clicked, this, &LabelView::cancelJob);
  bottom->addWidget(m_status, 1);
  bottom->addWidget(m_jobProgress);
  bottom->addWidget(m_cancelJob);
  bottom->addWidget(m_agreement, 1);
  bottom->addWidget(train);
  layout->addLayout(bottom);
  connect(open, &QPushButton::clicked, this, &LabelView::openStoreDialog);
  connect(import, &QPushButton::clicked, this, &LabelView::openImportDialog);
  connect(m_annotator, &QLineEdit::editingFinished, this, [this] {
    QSettings().setValue(QStringLiteral("labels/annotator"), annotator());
    rebuildQueue(currentItem());
    setFocus();
  });
  connect(m_note, &QLineEdit::returnPressed, this, [this] { setFocus(); });
  auto *escape = new QShortcut(QKeySequence(Qt::Key_Escape), m_note);
  escape->setContext(Qt::WidgetShortcut);
  connect(escape, &QShortcut::activated, this, [this] { setFocus(); });
  connect(m_orderBox, &QComboBox::currentIndexChanged, this, [this](int i) {
    m_order = Order(i);
    rebuildQueue(currentItem());
    setFocus();
  });
  connect(m_filterBox, &QComboBox::currentIndexChanged, this, [this](int i) {
    m_filter = Filter(i);
    rebuildQueue(currentItem());
    setFocus();
  });
  setFocusPolicy(Qt::StrongFocus);
}

bool LabelView::openStore(const QString &path, QString *error) {
  try {
    m_store = std::make_unique<core::LabelStore>(path.toStdString());
  } catch (const std::exception &e) {
    if (error)
      *error = QString::fromUtf8(e.what());
    return false;
  }
  m_storeLabel->setText(QFileInfo(path).fileName());
  m_storeLabel->setToolTip(path);
  m_pos = 0;
  m_scores.clear(); // the scores were of another store's items
  m_seenVersion = m_store->changesByOthers();
  m_orderBox->setCurrentIndex(int(Order::Stored));
  m_order = Order::Stored;
  setRequestText({});
  rebuildQueue();
  emit storeChanged(path);
  return true;
}

bool LabelView::importCandidates(const QString &path, QString *error) {
  if (!m_store) {
    if (error)
      *error = tr("open or create a label store first");
    return false;
  }
  try {
    const auto n = m_store->addItems(core::readLabelCandidates(path.toStdString()));
    m_status->setText(tr("%1: %2 item(s) added, %3 already in the store")
                          .arg(QFileInfo(path).fileName())
                          .arg(n.added)
                          .arg(n.alreadyThere));
  } catch (const std::exception &e) {
    if (error)
      *error = QString::fromUtf8(e.what()); // nothing was added: the import is one transaction
    return false;
  }
  rebuildQueue(currentItem());
  return true;
}

void LabelView::setAnnotator(const QString &name) {
  m_annotator->setText(name);
  rebuildQueue(currentItem());
}

void LabelView::setFilter(Filter filter) {
  m_filterBox->setCurrentIndex(int(filter)); // rebuilds through the signal
  m_filter = filter;
  rebuildQueue(currentItem());
}

QString LabelView::storePath() const {
  return m_store ? q(m_store->path()) : QString();
}

QString LabelView::annotator() const {
  return m_annotator->text().trimmed();
}

std::int64_t LabelView::currentItem() const {
  return m_pos >= 0 && m_pos < m_queue.size() ? m_queue[m_pos] : 0;
}

QString LabelView::progressText() const {
  return m_progress->text();
}

QString LabelView::agreementText() const {
  return m_agreement->text();
}

QString LabelView::statusText() const {
  return m_status->text();
}

QString LabelView::shownText(int side) const {
  return m_texts[side]->toPlainText();
}

void LabelView::rebuildQueue(std::int64_t keep) {
  m_queue.clear();
  if (m_store) {
    const auto me = annotator().toStdString();
    const auto items = m_store->items();
    const auto current = m_store->currentDecisions();
    std::set<std::int64_t> mine;
    for (const auto &d : current)
      if (d.annotator == me)
        mine.insert(d.item);
    std::map<std::int64_t, const core::ItemAgreement *> agreement;
    const auto summary = core::computeAgreement(current);
    for (const auto &a : summary.items)
      agreement[a.item] = &a;
    for (const auto &s : items) {
      const bool labelled = mine.count(s.key) > 0;
      const auto a = agreement.find(s.key);
      const bool disagreed = a != agreement.end() && a->second->annotators >= 2 && a->second->share < 1.0;
      if (m_filter == Filter::All || (m_filter == Filter::Unlabelled && !labelled) ||
          (m_filter == Filter::Mine && labelled) || (m_filter == Filter::Disagreed && disagreed))
        m_queue.push_back(s.key);
    }
    if (m_order != Order::Stored) {
      auto key = [this](std::int64_t item) {
        const auto it = m_scores.find(item);
        if (it == m_scores.end())
          return std::numeric_limits<double>::infinity(); // unscored (image) items last
        return m_order == Order::Margin ? std::abs(it->second.margin) : it->second.difficulty;
      };
      std::stable_sort(m_queue.begin(), m_queue.end(),
                       [&](std::int64_t x, std::int64_t y) { return key(x) < key(y); });
    }
    fillQueueTable(items, current);
  } else {
    m_queueTable->clear();
  }
  if (keep != 0) {
    const int at = int(m_queue.indexOf(keep));
    if (at >= 0)
      m_pos = at;
  }
  m_pos = std::clamp(m_pos, 0, std::max(0, int(m_queue.size()) - 1));
  showCurrent();
}

void LabelView::fillQueueTable(const std::vector<core::StoredItem> &items,
                               const std::vector<core::LabelEvent> &current) {
  m_queueTable->clear();
  std::map<std::int64_t, const core::StoredItem *> byKey;
  for (const auto &s : items)
    byKey[s.key] = &s;
  const auto me = annotator().toStdString();
  std::map<std::int64_t, int> votes;
  std::map<std::int64_t, QString> mine;
  for (const auto &d : current) {
    ++votes[d.item];
    if (d.annotator == me) { // as this annotator saw it: A or B, in the order stored with the decision
      const auto side = shownSide(d.choice, d.swapped);
      mine[d.item] = side ? QString(*side) : d.choice == core::LabelChoice::Tie ? tr("tie") : tr("both bad");
    }
  }
  QList<QTreeWidgetItem *> rows;
  for (int i = 0; i < m_queue.size(); ++i) {
    const auto key = m_queue[i];
    const auto said = mine.find(key);
    QStringList cells{QString::number(i + 1), q(byKey.at(key)->item.id),
                      said == mine.end() ? QString() : said->second,
                      votes.count(key) ? QString::number(votes[key]) : QString()};
    const auto sc = m_scores.find(key);
    if (sc != m_scores.end())
      cells << QString::number(std::abs(sc->second.margin), 'f', 4)
            << QString::number(sc->second.difficulty, 'f', 4);
    auto *row = new QTreeWidgetItem(cells);
    row->setToolTip(1, q(byKey.at(key)->item.prompt).left(300));
    for (int c : {0, 3, 4, 5})
      row->setTextAlignment(c, Qt::AlignRight | Qt::AlignVCenter);
    rows << row;
  }
  m_queueTable->addTopLevelItems(rows);
  for (int c = 0; c < m_queueTable->columnCount(); ++c)
    m_queueTable->resizeColumnToContents(c);
}

void LabelView::refresh() {
  rebuildQueue(currentItem());
  moveToOpenItem();
}

void LabelView::moveToOpenItem() {
  // Someone else added items while the annotator sat on one they have decided (the end of the
  // queue, say): the next key goes to the first item they have not decided, not to a changed
  // mind.
  if (!m_store || annotator().isEmpty())
    return;
  std::set<std::int64_t> mine;
  for (const auto &d : m_store->currentDecisions())
    if (q(d.annotator) == annotator())
      mine.insert(d.item);
  if (!mine.count(currentItem()))
    return;
  for (int i = 0; i < m_queue.size(); ++i)
    if (!mine.count(m_queue[i])) {
      m_pos = i;
      showCurrent();
      return;
    }
}

void LabelView::setRequestText(const QString &text) {
  m_request->setText(text);
  m_request->setVisible(!text.isEmpty());
}

QString LabelView::queueCell(int row, int column) const {
  const auto *item = m_queueTable->topLevelItem(row);
  return item ? item->text(column) : QString();
}

void LabelView::setOrder(Order order) {
  m_orderBox->setCurrentIndex(int(order)); // rebuilds through the signal
  m_order = order;
  rebuildQueue(currentItem());
}

std::optional<core::PairInformativeness> LabelView::score(std::int64_t item) const {
  const auto it = m_scores.find(item);
  if (it == m_scores.end())
    return std::nullopt;
  return it->second;
}

QString LabelView::nextGeneratedPath() const {
  if (!m_store)
    return {};
  const QFileInfo store(storePath());
  for (int n = 1;; ++n) {
    const QString stem = QStringLiteral("%1-gen%2").arg(store.completeBaseName()).arg(n);
    const QString path = store.dir().filePath(stem + QStringLiteral(".jsonl"));
    if (!QFileInfo::exists(path) &&
        !QFileInfo::exists(store.dir().filePath(stem + QStringLiteral("-images"))))
      return path;
  }
}

bool LabelView::startJob(const QString &what, LabelWorker::Job job, JobDone done) {
  if (m_thread) {
    m_status->setText(tr("%1: another job is running (Cancel it first)").arg(what));
    return false;
  }
  m_jobDone = std::move(done);
  m_thread = new QThread;
  m_worker = new LabelWorker(std::move(job));
  m_worker->moveToThread(m_thread);
  connect(m_thread, &QThread::started, m_worker, &LabelWorker::run);
  connect(m_worker, &LabelWorker::progressed, this, [this, what](const QString &stage, double fraction) {
    m_jobProgress->setValue(int(fraction * 1000));
    m_jobProgress->setFormat(QStringLiteral("%1: %p%").arg(stage));
    m_status->setText(tr("%1: %2…").arg(what, stage));
  });
  connect(m_worker, &LabelWorker::finished, this, [this](const QString &error) {
    const bool cancelled = m_worker->cancelled();
    m_thread->quit();
    m_thread->wait();
    delete m_worker;
    delete m_thread;
    m_worker = nullptr;
    m_thread = nullptr;
    m_jobProgress->hide();
    m_cancelJob->hide();
    auto done = std::move(m_jobDone);
    m_jobDone = nullptr;
    if (done)
      done(error, cancelled);
    emit jobFinished(error);
  });
  m_jobProgress->setValue(0);
  m_jobProgress->setFormat(QStringLiteral("%p%"));
  m_jobProgress->show();
  m_cancelJob->show();
  m_status->setText(tr("%1…").arg(what));
  m_thread->start();
  return true;
}

void LabelView::cancelJob() {
  if (m_worker) {
    m_worker->cancel();
    m_status->setText(tr("cancelling after the current batch…"));
  }
}

bool LabelView::generateCandidates(core::CandidateGenerationRequest request) {
  if (!m_store) {
    m_status->setText(tr("open or create a label store first: generated candidates go into it"));
    return false;
  }
  request.out = nextGeneratedPath().toStdString();
  auto result = std::make_shared<core::CandidateGenerationResult>();
  const QString file = QFileInfo(q(request.out)).fileName();
  return startJob(
      tr("generating %1 pair(s)").arg(request.prompts.size()),
      [request, result](const LabelWorker::Progress &progress, const std::atomic<bool> *cancel) {
        *result = core::generateLabelCandidates(request, progress, cancel);
        return QString();
      },
      [this, result, file, store = storePath()](const QString &error, bool) {
        if (!error.isEmpty()) {
          m_status->setText(tr("NOT generated: %1").arg(error));
          return;
        }
        if (storePath() != store) {
          m_status->setText(
              tr("generated %1, not imported: another store is open now (Ctrl+I imports it)").arg(file));
          return;
        }
        QString importError;
        const QString left = result->identical > 0
                                 ? tr(", %1 left out (identical samples)").arg(result->identical)
                                 : QString();
        if (result->items > 0 && !importCandidates(q(result->path), &importError)) {
          m_status->setText(tr("generated %1 but NOT imported: %2").arg(file, importError));
          return;
        }
        m_status->setText(tr("%1: %2 %3 pair(s) into %4%5")
                              .arg(result->cancelled ? tr("cancelled, kept what was done") : tr("generated"))
                              .arg(result->items)
                              .arg(result->images ? tr("image") : tr("text"))
                              .arg(file)
                              .arg(left));
      });
}

bool LabelView::rankItems(const core::InformativenessRequest &request) {
  if (!m_store) {
    m_status->setText(tr("open a label store first"));
    return false;
  }
  const auto text = core::rankableItems(m_store->items(), m_store->currentDecisions());
  if (text.items.empty()) {
    m_status->setText(tr("no text pairs to rank (informativeness scores text pairs)"));
    return false;
  }
  auto scores = std::make_shared<std::vector<core::PairInformativeness>>();
  return startJob(
      tr("scoring %1 pair(s)").arg(text.items.size()),
      [request, text, scores](const LabelWorker::Progress &progress, const std::atomic<bool> *cancel) {
        *scores = core::scoreInformativeness(request, text.items, text.firstWins, progress, cancel);
        return QString();
      },
      [this, text, scores, store = storePath()](const QString &error, bool cancelled) {
        if (!error.isEmpty()) {
          m_status->setText(tr("NOT ranked: %1").arg(error));
          return;
        }
        if (storePath() != store) {
          m_status->setText(tr("ranking left out: another store is open now"));
          return;
        }
        m_scores.clear();
        QStringList unscored;
        for (std::size_t i = 0; i < scores->size(); ++i) {
          if ((*scores)[i].scored())
            m_scores[text.keys[i]] = (*scores)[i];
          else
            unscored << q((*scores)[i].error);
        }
        m_status->setText(tr("%1 %2 of %3 text pair(s)%4")
                              .arg(cancelled ? tr("cancelled: scored") : tr("scored"))
                              .arg(m_scores.size())
                              .arg(text.items.size())
                              .arg(unscored.isEmpty()
                                       ? QString()
                                       : tr("; not scored: %1").arg(unscored.join(QStringLiteral("; ")))));
        if (m_order == Order::Stored)
          setOrder(Order::Margin);
        else
          rebuildQueue(currentItem());
      });
}

void LabelView::openGenerateDialog() {
  if (!m_store) {
    m_status->setText(tr("open or create a label store first: generated candidates go into it"));
    return;
  }
  GenerateCandidatesDialog dialog(this);
  if (dialog.exec() != QDialog::Accepted)
    return;
  try {
    generateCandidates(dialog.request(QString()));
  } catch (const std::exception &e) {
    m_status->setText(tr("NOT generated: %1").arg(QString::fromUtf8(e.what())));
  }
  setFocus();
}

void LabelView::openStoreDialog() {
  QString path = QFileDialog::getSaveFileName(this, tr("Open or create a label store"), storePath(),
                                              tr("Label stores (*.preflab-labels);;All files (*)"), nullptr,
                                              QFileDialog::DontConfirmOverwrite);
  if (!path.isEmpty() && QFileInfo(path).suffix().isEmpty())
    path += QStringLiteral(".preflab-labels");
  QString error;
  if (!path.isEmpty() && !openStore(path, &error))
    QMessageBox::warning(this, tr("Open store"), error);
  setFocus();
}

void LabelView::openImportDialog() {
  if (!m_store) {
    m_status->setText(tr("open or create a label store first"));
    return;
  }
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Import candidates"), QFileInfo(storePath()).path(),
                                   tr("JSON Lines (*.jsonl *.json);;All files (*)"));
  QString error;
  if (!path.isEmpty() && !importCandidates(path, &error))
    QMessageBox::warning(this, tr("Import candidates"), error);
  setFocus();
}

void LabelView::trainOnLabels() {
  exportForTraining();
}

void LabelView::openRankDialog() {
  RankItemsDialog dialog(this);
  if (dialog.exec() == QDialog::Accepted)
    rankItems(dialog.request());
  setFocus();
}

void LabelView::showCurrent() {
  refreshProgress();
  const auto key = currentItem();
  if (auto *row = m_queueTable->topLevelItem(m_pos)) {
    m_queueTable->setCurrentItem(row);
    m_queueTable->scrollToItem(row);
  }
  if (!m_store || key == 0) {
    m_prompt->setPlainText(m_store ? tr("Nothing to label here: import candidates, or show other items.")
                                   : tr("Open or create a label store, then import candidate pairs "
                                        "(preflab-cli labels import does the same)."));
    m_itemLabel->clear();
    for (auto *t : m_texts)
      t->clear();
    for (auto *s : m_sides)
      s->setCurrentIndex(0);
    return;
  }
  core::StoredItem item;
  for (auto &s : m_store->items())
    if (s.key == key)
      item = s;
  m_swapped = !annotator().isEmpty() && m_store->shownSwapped(key, annotator().toStdString());
  QString mine;
  for (const auto &d : m_store->currentDecisions())
    if (d.item == key && q(d.annotator) == annotator()) {
      // In what this annotator is shown now: the stored candidate they preferred, as A or B.
      mine = shownChoice(d.choice, m_swapped);
    }
  const auto sc = m_scores.find(key);
  const QString scored = sc == m_scores.end() ? QString()
                                              : tr(" · margin %1, difficulty %2")
                                                    .arg(sc->second.margin, 0, 'f', 4)
                                                    .arg(sc->second.difficulty, 0, 'f', 4);
  m_itemLabel->setText(tr("item %1 · %2 of %3 · from %4:%5%6%7")
                           .arg(q(item.item.id))
                           .arg(m_pos + 1)
                           .arg(m_queue.size())
                           .arg(QFileInfo(q(item.item.source)).fileName())
                           .arg(item.item.line)
                           .arg(mine.isEmpty() ? QString() : tr(" · you said: %1").arg(mine))
                           .arg(scored));
  m_prompt->setPlainText(q(item.item.prompt).trimmed().isEmpty() ? tr("(no prompt)")
                                                                 : q(item.item.prompt).trimmed());
  const bool image = item.item.kind == "image";
  for (int side = 0; side < 2; ++side) {
    const int slot = m_swapped ? 1 - side : side;
    m_sides[side]->setCurrentIndex(image ? 1 : 0);
    if (image) {
      const QPixmap pix(q(item.item.candidates[slot]));
      // Both on canvases of one size (the smaller pane), each scaled to fit it and centred.
      const QSize box = m_images[0]->size().boundedTo(m_images[1]->size()).expandedTo(QSize(64, 64));
      QPixmap canvas(box);
      canvas.fill(palette().color(QPalette::Base));
      if (!pix.isNull()) {
        const QPixmap scaled = pix.scaled(box, Qt::KeepAspectRatio, Qt::SmoothTransformation);
        QPainter painter(&canvas);
        painter.drawPixmap((box.width() - scaled.width()) / 2, (box.height() - scaled.height()) / 2, scaled);
      }
      m_images[side]->setPixmap(pix.isNull() ? QPixmap() : canvas);
      if (pix.isNull())
        m_images[side]->setText(tr("cannot read %1").arg(q(item.item.candidates[slot])));
    } else {
      m_texts[side]->setHtml(highlighted(q(item.item.candidates[slot]), q(item.item.candidates[1 - slot])));
    }
  }
  if (key != m_shownItem) { // time per item: from when it was first shown, not from a refresh
    m_shownItem = key;
    m_shownFor.restart();
  }
}

void LabelView::refreshProgress() {
  if (!m_store) {
    m_progress->clear();
    return;
  }
  const auto items = m_store->items().size();
  std::map<std::int64_t, int> labelled;
  int mine = 0;
  const auto me = annotator().toStdString();
  const auto current = m_store->currentDecisions();
  for (const auto &d : current) {
    ++labelled[d.item];
    mine += d.annotator == me;
  }
  const auto agreement = core::computeAgreement(current);
  QStringList parts;
  if (agreement.itemsWithTwoOrMore > 0) {
    auto value = [](double v) {
      return std::isfinite(v) ? QString::number(v, 'f', 2) : QStringLiteral("undefined");
    };
    parts << tr("Krippendorff's α %1 over %2 items with two or more annotators")
                 .arg(value(agreement.krippendorffAlpha))
                 .arg(agreement.itemsWithTwoOrMore);
    if (agreement.fleissKappa)
      parts << tr("Fleiss' κ %1").arg(value(*agreement.fleissKappa));
    for (const auto &p : agreement.pairs)
      parts << tr("κ %1 ~ %2: %3 (%4 items)").arg(q(p.a), q(p.b), value(p.cohenKappa)).arg(p.items);
  }
  m_agreement->setText(parts.isEmpty() ? tr("agreement: needs two annotators on an item")
                                       : parts.join(QStringLiteral(" · ")));
  m_progress->setText(
      annotator().isEmpty()
          ? tr("%1 / %2 labelled · type your name to start").arg(labelled.size()).arg(items)
          : tr("%1 / %2 labelled · %3: %4").arg(labelled.size()).arg(items).arg(annotator()).arg(mine));
}

bool LabelView::ready() {
  if (!m_store) {
    m_status->setText(tr("open a label store first"));
    return false;
  }
  if (annotator().isEmpty()) {
    m_status->setText(tr("type your name in Annotator first: every decision is stored with it"));
    m_annotator->setFocus();
    return false;
  }
  if (currentItem() == 0) {
    m_status->setText(tr("no item to label"));
    return false;
  }
  return true;
}

void LabelView::record(core::LabelChoice choice) {
  if (!ready())
    return;
  const auto key = currentItem();
  const double seconds = double(m_shownFor.elapsed()) / 1000.0;
  std::int64_t event = 0;
  try {
    event = m_store->decide(key, annotator().toStdString(), choice, m_swapped, m_note->text().toStdString(),
                            seconds);
  } catch (const std::exception &e) {
    m_status->setText(tr("NOT saved: %1").arg(QString::fromUtf8(e.what())));
    return;
  }
  // Committed: only now does the view say so.
  const QString said = shownChoice(choice, m_swapped);
  m_status->setText(tr("saved: %1 (event %2, %3 s)").arg(said).arg(event).arg(seconds, 0, 'f', 1));
  m_shownItem = 0; // whatever comes next, its time starts now
  m_note->clear();
  const int before = m_pos;
  rebuildQueue();
  // In "not labelled by me" the item leaves the queue and the next one takes its place.
  if (m_queue.indexOf(key) >= 0) {
    m_pos = std::min(int(m_queue.size()) - 1, int(m_queue.indexOf(key)) + 1);
  } else {
    m_pos = std::min(before, std::max(0, int(m_queue.size()) - 1));
  }
  if (!m_request->isHidden() && m_filter == Filter::Unlabelled && m_queue.isEmpty())
    setRequestText(tr("Every question is answered: the run goes on. The next round's questions will appear "
                      "here."));
  showCurrent();
}

void LabelView::chooseA() {
  record(m_swapped ? core::LabelChoice::Second : core::LabelChoice::First);
}

void LabelView::chooseB() {
  record(m_swapped ? core::LabelChoice::First : core::LabelChoice::Second);
}

void LabelView::chooseTie() {
  record(core::LabelChoice::Tie);
}

void LabelView::chooseBothBad() {
  record(core::LabelChoice::BothBad);
}

void LabelView::skip() {
  record(core::LabelChoice::Skip);
}

void LabelView::undo() {
  if (!m_store || annotator().isEmpty())
    return;
  std::int64_t undone = 0;
  try {
    undone = m_store->undo(annotator().toStdString());
  } catch (const std::exception &e) {
    m_status->setText(tr("NOT undone: %1").arg(QString::fromUtf8(e.what())));
    return;
  }
  if (undone == 0) {
    m_status->setText(tr("nothing to undo"));
    return;
  }
  std::int64_t item = 0;
  for (const auto &e : m_store->events())
    if (e.id == undone)
      item = e.item;
  m_status->setText(tr("undone: event %1 (saved as one more event)").arg(undone));
  rebuildQueue(item);
}

void LabelView::next() {
  if (m_pos + 1 < m_queue.size()) {
    ++m_pos;
    showCurrent();
  }
}

void LabelView::previous() {
  if (m_pos > 0) {
    --m_pos;
    showCurrent();
  }
}

QString LabelView::exportForTraining() {
  if (!m_store) {
    m_status->setText(tr("open a label store first"));
    return {};
  }
  int images = 0, texts = 0;
  for (const auto &s : m_store->items())
    ++(s.item.kind == "image" ? images : texts);
  const bool image = images > texts;
  const QFileInfo store(storePath());
  const QString out =
      store.dir().filePath(store.completeBaseName() +
                           (image ? QStringLiteral("-manifest.jsonl") : QStringLiteral("-pairs.jsonl")));
  core::LabelExportOptions options;
  options.format = image ? core::LabelExportFormat::PickAPic : core::LabelExportFormat::Trl;
  try {
    const auto n = core::exportLabels(*m_store, out.toStdString(), options);
    if (n.written == 0) {
      m_status->setText(tr("no labelled pairs to train on yet (%1 unlabelled, %2 tied, %3 both bad)")
                            .arg(n.unlabelled)
                            .arg(n.tied)
                            .arg(n.bothBad));
      return {};
    }
    m_status->setText(tr("exported %1 pair(s) to %2").arg(n.written).arg(QFileInfo(out).fileName()));
  } catch (const std::exception &e) {
    m_status->setText(tr("NOT exported: %1").arg(QString::fromUtf8(e.what())));
    return {};
  }
  // Generated candidates name their model: train that one, the reference they were sampled from.
  QSet<QString> models;
  std::map<std::string, QString> modelOf;
  for (const auto &s : m_store->items()) {
    if ((s.item.kind == "image") != image)
      continue;
    auto it = modelOf.find(s.item.source);
    if (it == modelOf.end()) {
      QString model;
      QFile file(q(s.item.source));
      if (file.open(QIODevice::ReadOnly)) {
        const auto first = nlohmann::json::parse(file.readLine().toStdString(), nullptr, false);
        if (first.is_object() && first.contains("model") && first["model"].is_string())
          model = q(first["model"].get<std::string>());
      }
      it = modelOf.emplace(s.item.source, model).first;
    }
    models.insert(it->second);
  }
  emit trainRequested(out, image, models.size() == 1 ? *models.begin() : QString());
  return out;
}

void LabelView::showKeys() {
  QMessageBox::information(
      this, tr("Labeling keys"),
      tr("1 or ←  A is better\n2 or →  B is better\nT  tie\nB  both bad\nS  skip\n"
         "Ctrl+Z  undo (again and again)\nN / P  next / previous item\n?  these keys\n"
         "Ctrl+G  generate candidates from a model\nCtrl+K  rank the queue by a policy and "
         "its reference\nCtrl+L  open or create a store\nCtrl+I  import candidates\nCtrl+T  train on these "
         "labels\nAlt+A  change the "
         "annotator "
         "(Enter returns to the keys)\n\n"
         "Every decision is saved to the store before the status line says \"saved\"."));
}

} // namespace preflab::ui
