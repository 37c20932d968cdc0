// Dialogs of the Label tab: generate candidates from a model, and rank the queue by how
// informative a label would be for a policy/reference pair.
#pragma once

#include "core/api/labels.h"

#include <QDialog>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace preflab::ui {

// A text model folder (two samples per prompt) or a diffusion model folder (two images per
// caption), prompts from a file or the built-in task's, seeds, and the sampling settings. The
// folders chosen last are remembered (QSettings labels/generate_*).
class GenerateCandidatesDialog : public QDialog {
  Q_OBJECT

public:
  explicit GenerateCandidatesDialog(QWidget *parent = nullptr);

  void setModel(const QString &dir);
  void setPromptsFile(const QString &path);
  void setCount(int count);
  // The request for `out`; throws InputError for a prompts file it cannot read.
  core::CandidateGenerationRequest request(const QString &out) const;

  void accept() override; // checks the model folder and the prompts file first

private:
  void updateKind();
  QLineEdit *m_model = nullptr;
  QLineEdit *m_prompts = nullptr;
  QLabel *m_kind = nullptr;
  QLabel *m_error = nullptr;
  QSpinBox *m_count = nullptr;
  QSpinBox *m_seed = nullptr;
  QSpinBox *m_maxNewTokens = nullptr;
  QDoubleSpinBox *m_temperature = nullptr;
  QSpinBox *m_steps = nullptr;
  QDoubleSpinBox *m_guidance = nullptr;
  QComboBox *m_device = nullptr;
};

// The policy being trained, its reference and β for the margin and the difficulty.
class RankItemsDialog : public QDialog {
  Q_OBJECT

public:
  explicit RankItemsDialog(QWidget *parent = nullptr);
  void setPolicy(const QString &dir);
  void setReference(const QString &dir);
  core::InformativenessRequest request() const;
  void accept() override;

private:
  QLineEdit *m_policy = nullptr;
  QLineEdit *m_reference = nullptr;
  QDoubleSpinBox *m_beta = nullptr;
  QLabel *m_error = nullptr;
};

} // namespace preflab::ui
