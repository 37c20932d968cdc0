// RunFolderWatcher: loads a run folder's metrics.jsonl into a RunSeriesStore and tails it and status.json
// live.
#pragma once

#include <QByteArray>
#include <QFileSystemWatcher>
#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>

namespace preflab::ui {

class RunSeriesStore;

// Works for folders written by this process, by preflab-cli, or by a run on another machine
// over a shared file system. The first read is queued (so slots connected right after
// construction see it); afterwards changes are picked up from QFileSystemWatcher notifications
// (coalesced) and from a poll timer (kPollIntervalMs) for file systems that do not notify.
//
// metrics.jsonl: only the bytes appended since the last read are read; an incomplete last line
// is kept until its newline arrives; a file that shrank or whose first bytes changed was
// rewritten (a resumed run truncates it), so the run's series are cleared and the file is read
// again from the start. A line that is not a JSON object with a numeric "step" is skipped and
// reported through malformedLine(); nothing throws. Each record's numeric keys other than
// "step" and "time" become metrics ("eval/..." included); "time" is the wall time.
// status.json (replaced atomically by the writer): statusChanged() when its content changes.
// A Hugging Face Trainer output folder (no metrics.jsonl; core::newestTrainerStateFile finds its
// newest trainer_state.json, by name and time) is read whole only when that file changes: the log_history
// entries beyond those already shown are appended (fewer than before: reloaded), its global_step / max_steps
// give the status ("running" until they meet), and a file that cannot be parsed is reported
// through malformedLine() with line 0. A folder with only TensorBoard event files (another
// tool's log dir) is tailed record by record, each file from where it was left.
//
// The store must outlive the watcher. The run id is the folder's absolute path. GUI thread.
class RunFolderWatcher : public QObject {
  Q_OBJECT
public:
  static constexpr int kPollIntervalMs = 500;

  RunFolderWatcher(const QString &runDir, RunSeriesStore *store, QObject *parent = nullptr);

  QString runId() const { return m_runId; }
  QString runDir() const { return m_runDir; }
  QString metricsPath() const;
  QString statusPath() const;
  qint64 recordsRead() const { return m_records; }
  qint64 malformedLines() const { return m_malformed; }
  QString state() const { return m_state; }
  QString message() const { return m_message; }
  qint64 step() const { return m_step; }
  qint64 maxSteps() const { return m_maxSteps; }

  // Reads whatever is new now (also called by the timers).
  void pollNow();

signals:
  void statusChanged(const QString &state, const QString &message, qint64 step, qint64 maxSteps);
  void malformedLine(const QString &file, qint64 line, const QString &reason);
  void recordsAppended(int count);
  void reloaded(); // the file was truncated or rewritten; the run's series were cleared

private:
  void readMetrics();
  bool readTrainerState(); // false: not a Trainer folder
  void readEventFiles();
  void setStatus(const QString &state, const QString &message, qint64 step, qint64 maxSteps);
  void readStatus();
  void resetMetrics();
  void parseLine(const QByteArray &line);
  void ensureWatched();

  QString m_runDir;
  QString m_runId;
  RunSeriesStore *m_store;
  QFileSystemWatcher m_watcher;
  QTimer m_pollTimer;
  QTimer m_coalesceTimer;
  qint64 m_offset = 0;     // bytes of metrics.jsonl consumed (complete lines + m_partial)
  QByteArray m_partial;    // bytes after the last newline
  QByteArray m_head;       // first bytes of the file as read, to notice a rewrite
  qint64 m_lineNumber = 0; // complete lines consumed
  qint64 m_records = 0;
  qint64 m_malformed = 0;
  QByteArray m_statusBytes;
  QString m_trainerState;            // the trainer_state.json read last ("" for PrefLab folders)
  QByteArray m_trainerStateStamp;    // its size and modification time when read
  qsizetype m_trainerStateLines = 0; // log_history entries already in the store
  QHash<QString, qint64> m_eventOffsets; // TensorBoard event files: bytes of whole records read
  QString m_state;
  QString m_message;
  qint64 m_step = 0;
  qint64 m_maxSteps = 0;
};

} // namespace preflab::ui
