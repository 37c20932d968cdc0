// RunFolderWatcher: incremental metrics.jsonl reader and status.json watcher.
#include "ui/runs/run_folder_watcher.h"

#include "ui/runs/run_series_store.h"

#include "core/api/run_reader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <limits>

namespace preflab::ui {

namespace {
constexpr int kHeadBytes = 256;
constexpr int kCoalesceMs = 20;
} // namespace

RunFolderWatcher::RunFolderWatcher(const QString &runDir, RunSeriesStore *store, QObject *parent)
    : QObject(parent), m_runDir(QDir::cleanPath(QFileInfo(runDir).absoluteFilePath())), m_runId(m_runDir),
      m_store(store) {
  m_store->setRunLabel(m_runId, QFileInfo(m_runDir).fileName());
  m_pollTimer.setInterval(kPollIntervalMs);
  connect(&m_pollTimer, &QTimer::timeout, this, &RunFolderWatcher::pollNow);
  m_coalesceTimer.setSingleShot(true);
  m_coalesceTimer.setInterval(kCoalesceMs);
  connect(&m_coalesceTimer, &QTimer::timeout, this, &RunFolderWatcher::pollNow);
  const auto notified = [this] {
    if (!m_coalesceTimer.isActive())
      m_coalesceTimer.start();
  };
  connect(&m_watcher, &QFileSystemWatcher::fileChanged, this, notified);
  connect(&m_watcher, &QFileSystemWatcher::directoryChanged, this, notified);
  m_pollTimer.start();
  QMetaObject::invokeMethod(this, &RunFolderWatcher::pollNow, Qt::QueuedConnection);
}

QString RunFolderWatcher::metricsPath() const {
  return m_runDir + QStringLiteral("/metrics.jsonl");
}
QString RunFolderWatcher::statusPath() const {
  return m_runDir + QStringLiteral("/status.json");
}

void RunFolderWatcher::pollNow() {
  ensureWatched();
  readMetrics();
  readStatus();
}

void RunFolderWatcher::ensureWatched() {
  // A file replaced by rename drops out of the watcher; add it again once it exists.
  const QStringList watched = m_watcher.files() + m_watcher.directories();
  for (const QString &path : {m_runDir, metricsPath(), statusPath()})
    if (!watched.contains(path) && QFileInfo::exists(path))
      m_watcher.addPath(path);
}

void RunFolderWatcher::resetMetrics() {
  m_offset = 0;
  m_partial.clear();
  m_head.clear();
  m_lineNumber = 0;
  m_records = 0;
  m_store->clearRun(m_runId);
  emit reloaded();
}

void RunFolderWatcher::readMetrics() {
  QFile file(metricsPath());
  if (!file.exists()) {
    if (m_offset > 0)
      resetMetrics(); // deleted: show what is there, i.e. nothing
    if (!readTrainerState())
      readEventFiles();
    return;
  }
  if (!file.open(QIODevice::ReadOnly))
    return; // being replaced; the next poll retries
  const qint64 size = file.size();
  bool rewritten = size < m_offset;
  if (!rewritten && !m_head.isEmpty())
    rewritten = file.read(m_head.size()) != m_head;
  if (rewritten)
    resetMetrics();
  if (size == m_offset)
    return;
  file.seek(m_offset);
  const QByteArray chunk = file.read(size - m_offset);
  m_offset += chunk.size();
  if (m_head.size() < kHeadBytes) {
    file.seek(0);
    m_head = file.read(std::min<qint64>(kHeadBytes, m_offset));
  }
  QByteArray data = m_partial + chunk;
  const qsizetype lastNewline = data.lastIndexOf('\n');
  if (lastNewline < 0) {
    m_partial = data;
    return;
  }
  m_partial = data.mid(lastNewline + 1);
  data.truncate(lastNewline);
  const qint64 before = m_records;
  for (const QByteArray &line : data.split('\n'))
    parseLine(line);
  if (m_records > before)
    emit recordsAppended(int(m_records - before));
}

void RunFolderWatcher::parseLine(const QByteArray &rawLine) {
  ++m_lineNumber;
  const QByteArray line = rawLine.trimmed();
  if (line.isEmpty())
    return;
  const auto report = [&](const QString &reason) {
    ++m_malformed;
    emit malformedLine(metricsPath(), m_lineNumber, reason);
  };
  std::string reason;
  const auto record = core::parseMetricsLine(line.toStdString(), &reason);
  if (!record)
    return report(QString::fromStdString(reason));
  const double wallTime = record->time;
  QHash<QString, double> metrics;
  for (const auto &[name, value] : record->metrics)
    metrics.insert(QString::fromStdString(name), value);
  ++m_records;
  m_store->appendRecord(m_runId, record->step, wallTime, metrics);
}

bool RunFolderWatcher::readTrainerState() {
  const QString path = QString::fromStdString(core::newestTrainerStateFile(m_runDir.toStdString()));
  if (path.isEmpty())
    return false;
  const QFileInfo info(path);
  const QByteArray stamp = path.toUtf8() + ' ' + QByteArray::number(info.size()) + ' ' +
                           QByteArray::number(info.lastModified().toMSecsSinceEpoch());
  if (stamp == m_trainerStateStamp)
    return true;
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    return true; // being replaced; the next poll retries
  core::TrainerStateRecord state;
  try {
    state = core::parseTrainerState(file.readAll().toStdString(), path.toStdString());
  } catch (const std::exception &e) {
    if (stamp != m_trainerStateStamp) { // once per version of the file; a torn write heals itself
      m_trainerStateStamp = stamp;
      ++m_malformed;
      emit malformedLine(path, 0, QString::fromStdString(e.what()));
    }
    return true;
  }
  m_trainerStateStamp = stamp;
  const auto lines = qsizetype(state.lines.size());
  if (lines < m_trainerStateLines) { // another run's history, or a restarted one
    resetMetrics();
    m_trainerStateLines = 0;
  }
  m_trainerState = path;
  const qint64 before = m_records;
  for (qsizetype i = m_trainerStateLines; i < lines; ++i) {
    const auto &line = state.lines[std::size_t(i)];
    QHash<QString, double> metrics;
    for (const auto &[name, value] : line.metrics)
      metrics.insert(QString::fromStdString(name), value);
    ++m_records;
    m_store->appendRecord(m_runId, line.step, line.time, metrics);
  }
  m_trainerStateLines = lines;
  if (m_records > before)
    emit recordsAppended(int(m_records - before));
  const bool done = state.maxSteps > 0 && state.globalStep >= state.maxSteps;
  setStatus(done ? QStringLiteral("finished") : QStringLiteral("running"),
            tr("Hugging Face Trainer state: %1").arg(QDir(m_runDir).relativeFilePath(path)), state.globalStep,
            state.maxSteps);
  return true;
}

void RunFolderWatcher::readEventFiles() {
  const qint64 before = m_records;
  for (const auto &name : core::tensorBoardEventFiles(m_runDir.toStdString())) {
    const QString path = QString::fromStdString(name);
    QFile file(path);
    const qint64 offset = m_eventOffsets.value(path, -1);
    if (offset == -2 || !file.open(QIODevice::ReadOnly) || file.size() <= offset)
      continue; // a damaged file is reported once and left; an unchanged one has nothing new
    file.seek(std::max<qint64>(0, offset));
    const std::string bytes = file.readAll().toStdString();
    std::size_t consumed = 0;
    try {
      for (const auto &s : core::readEventScalars(bytes, consumed, name)) {
        QHash<QString, double> metrics;
        metrics.insert(QString::fromStdString(core::tensorBoardMetricName(s.tag)), s.value);
        ++m_records;
        m_store->appendRecord(m_runId, double(s.step), s.wallTime, metrics);
      }
    } catch (const std::exception &e) {
      m_eventOffsets.insert(path, -2);
      ++m_malformed;
      emit malformedLine(path, 0, QString::fromStdString(e.what()));
      continue;
    }
    m_eventOffsets.insert(path, std::max<qint64>(0, offset) + qint64(consumed));
  }
  if (m_records > before)
    emit recordsAppended(int(m_records - before));
}

void RunFolderWatcher::setStatus(const QString &state, const QString &message, qint64 step, qint64 maxSteps) {
  if (state == m_state && message == m_message && step == m_step && maxSteps == m_maxSteps)
    return;
  m_state = state;
  m_message = message;
  m_step = step;
  m_maxSteps = maxSteps;
  emit statusChanged(m_state, m_message, m_step, m_maxSteps);
}

void RunFolderWatcher::readStatus() {
  QFile file(statusPath());
  if (!file.open(QIODevice::ReadOnly))
    return;
  const QByteArray bytes = file.readAll();
  if (bytes == m_statusBytes)
    return;
  const auto status = core::parseRunStatus(bytes.toStdString());
  if (!status)
    return; // written non-atomically by someone else: try again at the next poll
  m_statusBytes = bytes;
  const QString state = QString::fromStdString(status->state),
                message = QString::fromStdString(status->message);
  setStatus(state, message, status->step, status->maxSteps); // nothing when only updated_at moved
}

} // namespace preflab::ui
