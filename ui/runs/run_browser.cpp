// RunBrowser: opening, tailing, config display and config diff of run folders.
#include "ui/runs/run_browser.h"

#include "ui/runs/config_diff_model.h"
#include "ui/runs/config_yaml.h"

#include "core/api/run_reader.h"
#include "ui/runs/run_folder_watcher.h"
#include "ui/runs/run_list_model.h"
#include "ui/runs/run_series_store.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace preflab::ui {

RunBrowser::RunBrowser(RunSeriesStore *store, QWidget *parent)
    : QWidget(parent), m_store(store), m_runs(new RunListModel(this)), m_diff(new ConfigDiffModel(this)) {
  m_table = new QTableView(this);
  m_table->setModel(m_runs);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
  m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_table->verticalHeader()->hide();
  m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);
  m_table->horizontalHeader()->setStretchLastSection(true);
  m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_table->setToolTip(tr("Select one run to see its config, two to compare their configs"));

  m_details = buildDetails();

  m_errorLabel = new QLabel(this);
  m_errorLabel->setStyleSheet(QStringLiteral("color: #b00020"));
  m_errorLabel->setWordWrap(true);
  m_errorLabel->hide();

  auto *splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(m_table);
  splitter->addWidget(m_details);
  splitter->setStretchFactor(0, 1);
  splitter->setStretchFactor(1, 2);
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(buildToolBar());
  layout->addWidget(m_errorLabel);
  layout->addWidget(splitter, 1);

  connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &RunBrowser::onSelectionChanged);
  connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex &current) {
            emit currentRunChanged(current.isValid() ? m_runs->entry(current.row()).dir : QString());
          });
}

QTabWidget *RunBrowser::buildDetails() {
  m_configText = new QPlainTextEdit(this);
  m_configText->setReadOnly(true);
  m_configText->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  m_configText->setPlaceholderText(tr("Select a run to see its resolved config.yaml"));

  auto *diffPage = new QWidget(this);
  auto *diffLayout = new QVBoxLayout(diffPage);
  diffLayout->setContentsMargins(0, 0, 0, 0);
  m_diffHeader = new QLabel(tr("Select two runs to compare their configs."), diffPage);
  m_diffHeader->setWordWrap(true);
  m_diffTable = new QTableView(diffPage);
  m_diffTable->setModel(m_diff);
  m_diffTable->verticalHeader()->hide();
  m_diffTable->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 8);
  m_diffTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  m_diffTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
  diffLayout->addWidget(m_diffHeader);
  diffLayout->addWidget(m_diffTable, 1);

  auto *details = new QTabWidget(this);
  details->addTab(m_configText, tr("Config"));
  details->addTab(diffPage, tr("Config diff"));
  return details;
}

QWidget *RunBrowser::buildToolBar() {
  auto *bar = new QWidget(this);
  auto *layout = new QHBoxLayout(bar);
  layout->setContentsMargins(4, 4, 4, 0);
  auto *open = new QToolButton(bar);
  open->setText(tr("Open run folder…"));
  open->setToolTip(tr("Open a folder written by PrefLab or preflab-cli (config.yaml, metrics.jsonl)"));
  auto *close = new QToolButton(bar);
  close->setText(tr("Close"));
  close->setToolTip(tr("Stop following the selected runs and remove their curves"));
  layout->addWidget(open);
  layout->addWidget(close);
  layout->addStretch(1);
  connect(open, &QToolButton::clicked, this, &RunBrowser::browseForRun);
  connect(close, &QToolButton::clicked, this, &RunBrowser::closeSelectedRuns);
  return bar;
}

void RunBrowser::browseForRun() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open run folder"), m_lastDir);
  if (!dir.isEmpty())
    openRun(dir);
}

void RunBrowser::reportError(const QString &message) {
  m_errorLabel->setText(message);
  m_errorLabel->show();
  emit errorOccurred(message);
}

QStringList RunBrowser::runFoldersIn(const QString &dir) {
  QStringList runs;
  for (const QFileInfo &child : QDir(dir).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
    if (core::RunReader::isRunFolder(child.absoluteFilePath().toStdString()))
      runs << QDir::cleanPath(child.absoluteFilePath());
  return runs;
}

bool RunBrowser::openRun(const QString &dirPath) {
  const QFileInfo info(dirPath);
  const QString dir = QDir::cleanPath(info.absoluteFilePath());
  if (!info.isDir()) {
    reportError(tr("Cannot open run folder %1: it is not a folder.").arg(QDir::toNativeSeparators(dir)));
    return false;
  }
  const QDir folder(dir);
  if (!core::RunReader::isRunFolder(dir.toStdString())) {
    // A folder of runs (a sweep's, or runs/ itself): every run folder directly inside it.
    const QStringList inside = runFoldersIn(dir);
    if (inside.isEmpty()) {
      reportError(tr("%1 is not a run folder: it has neither config.yaml nor metrics.jsonl, and no run "
                     "folders inside it.")
                      .arg(QDir::toNativeSeparators(dir)));
      return false;
    }
    for (const QString &run : inside)
      openRun(run);
    selectRuns(inside);
    m_lastDir = dir;
    return true;
  }
  m_errorLabel->hide();
  m_lastDir = QFileInfo(dir).path();
  if (m_watchers.contains(dir)) {
    selectRuns({dir});
    return true;
  }
  auto *watcher = new RunFolderWatcher(dir, m_store, this);
  m_watchers.insert(dir, watcher);
  RunListModel::Entry entry;
  entry.dir = dir;
  entry.name = folder.dirName();
  entry.objective = runObjectiveLabel(parseConfigYaml(readConfig(dir)));
  m_runs->addRun(entry);
  connect(watcher, &RunFolderWatcher::statusChanged, this,
          [this, dir](const QString &state, const QString &message, qint64 step, qint64 maxSteps) {
            m_runs->setStatus(dir, state, message, step, maxSteps);
            if (m_configTexts.value(dir).isEmpty()) // a run that has just started writes it late
              m_runs->setObjective(dir, runObjectiveLabel(parseConfigYaml(readConfig(dir))));
          });
  connect(watcher, &RunFolderWatcher::malformedLine, this,
          [this, watcher, dir](const QString &file, qint64 line, const QString &reason) {
            m_runs->setMalformedLines(dir, watcher->malformedLines());
            emit warningOccurred(tr("%1:%2: skipped: %3").arg(file).arg(line).arg(reason));
          });
  emit runOpened(watcher->runId(), dir);
  selectRuns({dir});
  return true;
}

void RunBrowser::closeRun(const QString &dir) {
  RunFolderWatcher *watcher = m_watchers.take(dir);
  if (!watcher)
    return;
  delete watcher;
  m_configTexts.remove(dir);
  m_runs->removeRun(dir);
  m_store->removeRun(dir);
}

void RunBrowser::closeSelectedRuns() {
  for (const QString &dir : selectedRunDirs())
    closeRun(dir);
}

QString RunBrowser::readConfig(const QString &dir) {
  QFile file(dir + QStringLiteral("/config.yaml"));
  QString text;
  if (file.open(QIODevice::ReadOnly | QIODevice::Text))
    text = QString::fromUtf8(file.readAll());
  m_configTexts.insert(dir, text);
  return text;
}

QStringList RunBrowser::runDirs() const {
  QStringList dirs;
  for (int row = 0; row < m_runs->rowCount(); ++row)
    dirs.append(m_runs->entry(row).dir);
  return dirs;
}

QStringList RunBrowser::selectedRunDirs() const {
  QModelIndexList rows = m_table->selectionModel()->selectedRows();
  std::sort(rows.begin(), rows.end(),
            [](const QModelIndex &a, const QModelIndex &b) { return a.row() < b.row(); });
  QStringList dirs;
  for (const QModelIndex &index : rows)
    dirs.append(m_runs->entry(index.row()).dir);
  return dirs;
}

void RunBrowser::selectRuns(const QStringList &dirs) {
  QItemSelection selection;
  QModelIndex current;
  for (const QString &dir : dirs) {
    const int row = m_runs->rowOf(QDir::cleanPath(QFileInfo(dir).absoluteFilePath()));
    if (row < 0)
      continue;
    selection.select(m_runs->index(row, 0), m_runs->index(row, RunListModel::ColumnCount - 1));
    current = m_runs->index(row, 0);
  }
  m_table->selectionModel()->setCurrentIndex(current, QItemSelectionModel::NoUpdate);
  m_table->selectionModel()->select(selection, QItemSelectionModel::ClearAndSelect);
}

QString RunBrowser::currentRunDir() const {
  const QModelIndex current = m_table->selectionModel()->currentIndex();
  return current.isValid() ? m_runs->entry(current.row()).dir : QString();
}

RunFolderWatcher *RunBrowser::watcher(const QString &dir) const {
  return m_watchers.value(dir);
}
QAbstractItemModel *RunBrowser::runModel() const {
  return m_runs;
}
QAbstractItemModel *RunBrowser::diffModel() const {
  return m_diff;
}
QString RunBrowser::shownConfigText() const {
  return m_configText->toPlainText();
}

void RunBrowser::onSelectionChanged() {
  const QStringList dirs = selectedRunDirs();
  if (dirs.size() == 1) {
    showConfig(dirs.first());
    m_diff->clear();
    m_diffHeader->setText(tr("Select two runs to compare their configs."));
    m_details->setCurrentIndex(0);
  } else if (dirs.size() == 2) {
    showDiff(dirs[0], dirs[1]);
    m_details->setCurrentIndex(1);
  } else {
    m_configText->clear();
    m_diff->clear();
    m_diffHeader->setText(dirs.isEmpty() ? tr("Select two runs to compare their configs.")
                                         : tr("Select exactly two runs to compare their configs."));
  }
}

void RunBrowser::showConfig(const QString &dir) {
  const QString text = readConfig(dir);
  m_configText->setPlainText(text.isEmpty() ? tr("# %1 has no config.yaml yet.").arg(dir) : text);
}

void RunBrowser::showDiff(const QString &dirA, const QString &dirB) {
  const QString nameA = QDir(dirA).dirName(), nameB = QDir(dirB).dirName();
  m_diff->setConfigs(nameA, parseConfigYaml(readConfig(dirA)), nameB, parseConfigYaml(readConfig(dirB)));
  const int n = m_diff->rowCount();
  m_diffHeader->setText(n == 0 ? tr("%1 and %2 have the same config.").arg(nameA, nameB)
                               : tr("%n key(s) differ between %1 and %2:", nullptr, n).arg(nameA, nameB));
  m_configText->setPlainText(readConfig(dirA));
}

} // namespace preflab::ui
