// CompareView: generations of two models for fixed prompts and seeds, side by side, scored and coloured by
// log-ratio.
#pragma once

#include "core/api/run_reader.h"
#include "core/api/compare.h"
#include "ui/compare/compare_row.h"

#include <QPointer>
#include <QWidget>

class QDir;
class QLabel;
class QProgressBar;
class QSortFilterProxyModel;
class QPushButton;
class QTableView;
class QThread;

namespace preflab::ui {

class CompareSettingsPanel;
class CompareTableModel;
struct CompareJob;
class CompareWorker;
class DeltaLegend;
class TokenTextBrowser;

// The Compare tab. Model A (e.g. the reference) and model B (a tuned checkpoint, or another
// run's policy) answer the same prompts with the same seeds; the table shows both texts with
// their scores, the detail pane the selected row's texts with every token's background coloured
// by log π_θ − log π_ref (θ the model that wrote it; π_ref model A unless another reference is
// chosen). Prompts: a run's fixed eval set (samples/eval_samples.jsonl) plus prompts the user
// adds; prompt and seed cells are editable. Generate runs the facade in a worker thread (one job
// at a time; Cancel stops between batches and keeps what finished). Errors are shown in the
// status line and emitted as errorOccurred(); no dialogs. GUI thread only.
class CompareView : public QWidget {
  Q_OBJECT

public:
  explicit CompareView(QWidget *parent = nullptr);
  ~CompareView() override; // cancels and waits for a running job

  // Reads <run>/run_info.json (A = reference_model, B = policy_final; checkpoints are offered
  // for B) and samples/eval_samples.jsonl (the fixed prompts and seeds with the run's saved
  // samples; they replace the table's fixed rows, prompts the user added stay), and the sampling
  // settings from config.yaml. A run without run_info.json sets B to <run>/hf and keeps model A
  // (pick it by hand). A run without eval samples that trained on files (eval_file, else
  // train_file: labels exported from the Label tab, say) gets the first 32 distinct prompts of
  // that file as fixed rows, seeds 0, 1, ... Returns false with *error set when the folder has neither file
  // or one is unreadable; the view is then unchanged.
  bool openRunFolder(const QString &runDir, QString *error = nullptr);
  void setModels(const QString &modelA, const QString &modelB);
  QString modelA() const;
  QString modelB() const;
  // The reference of the colouring; empty: model A.
  void setReferenceModel(const QString &dir);
  // "sentiment", "none" or a reward-model folder.
  void setScorer(const QString &scorer);
  void setSamplingOptions(const core::SamplingOptions &options);
  core::SamplingOptions samplingOptions() const;
  void setDevice(const QString &device); // "cpu", "auto", "cuda"
  // Appends a user prompt with the next free seed; returns its row.
  int addPrompt(const QString &prompt);

  // Starts generating for every row; false (with errorOccurred) when a job runs or input is missing.
  bool generate();
  // Scores the run's saved samples (A = reference's text, B = policy's) without sampling.
  bool scoreSavedSamples();
  void cancel();
  bool isBusy() const { return m_thread != nullptr; }

  CompareTableModel *model() const { return m_model; }
  QTableView *table() const { return m_table; } // shows the model through a sort proxy
  QString summaryText() const;
  QString statusText() const;
  QString detailHtml() const; // both sides of the selected row

signals:
  void errorOccurred(const QString &message);
  void started();
  void progressed(const QString &stage, double fraction);
  void finished(int rows, bool cancelled); // after a job, successful or not

private:
  void buildUi();
  QWidget *buildPromptBar();
  bool start(CompareJob job);
  bool fail(const QString &message, QString *error = nullptr);
  void onFinished(const CompareOutcome &outcome);
  void showDetail();
  void updateSummary();
  void updateButtons();
  // Sets A/B from the run (models: null without run_info.json); false when B's final policy is missing.
  bool offerRunModels(const core::RunReader &run, const core::RunInfoRecord *info);
  void setFixedPrompts(const std::vector<core::EvalSample> &samples);
  static constexpr std::size_t kFilePrompts = 32; // fixed prompts taken from a run's data file
  void loadSamplingFromConfig(const core::RunReader &run);
  core::CompareRequest baseRequest(const std::vector<int> &rows) const;

  CompareTableModel *m_model = nullptr;
  QSortFilterProxyModel *m_proxy = nullptr;
  QTableView *m_table = nullptr;
  TokenTextBrowser *m_detailA = nullptr;
  TokenTextBrowser *m_detailB = nullptr;
  DeltaLegend *m_legend = nullptr;
  CompareSettingsPanel *m_settings = nullptr;
  QPushButton *m_generate = nullptr;
  QPushButton *m_scoreSaved = nullptr;
  QPushButton *m_cancel = nullptr;
  QPushButton *m_remove = nullptr;
  QProgressBar *m_progress = nullptr;
  QLabel *m_summary = nullptr;
  QLabel *m_status = nullptr;
  QString m_titleA, m_titleB; // the models of the shown results
  QThread *m_thread = nullptr;
  QPointer<CompareWorker> m_worker;
};

} // namespace preflab::ui
