// NewRunDialog: objective, hyperparameters, model, data, device and threads of a new run, validated.
#pragma once

#include "core/api/objectives.h"
#include "core/api/runs.h"

#include <QDialog>
#include <QHash>
#include <QList>

#include <map>
#include <string>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QSpinBox;
class QDragEnterEvent;
class QDropEvent;

namespace preflab::ui {

class ModelFolderSummary;

// Starts from `base` (the embedded sentiment task's config, or the last one used) and lets the
// user change what a run needs: a text run (embedded task offline or as online D2PO rounds, or a
// preference file) or a text-to-image
// run (oracle-labelled Fashion-MNIST pairs or an image-pair manifest, the image objectives, a
// reference diffusion model folder, an optional oracle). Every edit re-validates: a field whose value core
// would reject shows the reason beside it (core's own validation, so the dialog and the CLI agree), and
// "Start" stays disabled until all fields are valid. GUI thread only.
class NewRunDialog : public QDialog {
  Q_OBJECT

public:
  NewRunDialog(const core::TextTrainConfig &base, const QString &runsRoot, QWidget *parent = nullptr);

  // A text run: config(); a text-to-image run (task "Text-to-image ..."): imageConfig().
  bool isImage() const;
  core::TextTrainConfig config() const;       // the resolved text config (valid when isValid())
  core::ImageTrainConfig imageConfig() const; // the resolved image config (valid when isValid())
  QString label() const;                      // the run's name, also the output folder's name
  bool isValid() const { return m_errors.isEmpty(); }
  // Field key ("beta", "train_file", ...) → reason it is invalid, for tests and tooltips.
  QHash<QString, QString> errors() const { return m_errors; }

  // Test hooks: set a field by its config key as a user would type it.
  void setField(const QString &key, const QString &value);
  // What the model field's folder is, as shown under it (for tests).
  QString modelSummary() const;
  // What dropping these files and folders on the dialog does: a folder becomes the model, a file
  // the training data (then the evaluation data).
  void dropPaths(const QStringList &paths);

protected:
  void dragEnterEvent(QDragEnterEvent *event) override;
  void dropEvent(QDropEvent *event) override;

private:
  void buildForm();
  void onTaskChanged();
  void onObjectiveChanged();
  void renameIfDefault();
  void rebuildParamRows(const core::ObjectiveInfo *info);
  // The values of the parameter rows, by config key (booleans 0/1).
  std::map<std::string, double> paramValues() const;
  void validate();
  void showError(const QString &key, const QString &message);
  QString fileField(QLineEdit *edit) const;

  core::TextTrainConfig m_base;
  QString m_runsRoot;
  QHash<QString, QString> m_errors;
  QHash<QString, QLabel *> m_errorLabels; // config key → label beside its field

  QLineEdit *m_name = nullptr;
  QComboBox *m_task = nullptr;
  // trainer: d2po (the "sentiment, online D2PO" task): its d2po.* keys.
  QSpinBox *m_goldBudget = nullptr;
  QSpinBox *m_goldPerRound = nullptr;
  QSpinBox *m_initialGold = nullptr;
  QSpinBox *m_promptsPerRound = nullptr;
  QComboBox *m_goldSelection = nullptr;
  QComboBox *m_goldLabeller = nullptr;
  QCheckBox *m_silver = nullptr;
  QComboBox *m_wroH = nullptr;
  QComboBox *m_wroJudge = nullptr;
  QLineEdit *m_wroRewardModel = nullptr;
  QSpinBox *m_wroSamples = nullptr;
  QSpinBox *m_wroCompetitors = nullptr;
  QSpinBox *m_wroPrompts = nullptr;
  QLineEdit *m_trainFile = nullptr;
  QLineEdit *m_evalFile = nullptr;
  QComboBox *m_modelKind = nullptr;
  QLineEdit *m_modelDir = nullptr;
  ModelFolderSummary *m_modelSummary = nullptr;
  QSpinBox *m_loraRank = nullptr; // 0: no adapters
  QLineEdit *m_oracle = nullptr;  // image runs: the judge of the held-out evaluation
  QComboBox *m_objective = nullptr;
  QLabel *m_objectiveHelp = nullptr;
  QDoubleSpinBox *m_beta = nullptr;
  QFormLayout *m_form = nullptr;
  // One row per parameter the chosen objective declares (beta aside), rebuilt when it changes:
  // a spin box or a check box, keyed by config key.
  QHash<QString, QDoubleSpinBox *> m_paramSpins;
  QHash<QString, QCheckBox *> m_paramChecks;
  QList<QWidget *> m_paramRows;
  QLineEdit *m_learningRate = nullptr;
  QSpinBox *m_maxSteps = nullptr;
  QSpinBox *m_batchSize = nullptr;
  QSpinBox *m_accumulation = nullptr;
  QSpinBox *m_seed = nullptr;
  QComboBox *m_device = nullptr;
  QSpinBox *m_threads = nullptr;
  QLineEdit *m_outputDir = nullptr;
  QDialogButtonBox *m_buttons = nullptr;
};

} // namespace preflab::ui
