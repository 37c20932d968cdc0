// CompareSettingsPanel: model A/B and reference folders, scorer, device and sampling settings of the Compare
// view.
#pragma once

#include "core/api/compare.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace preflab::ui {

// Two rows of inputs: model folders (editable combos with a browse button; B also lists the
// opened run's checkpoints), the reference of the colouring (empty: model A), the scorer, then
// the sampling settings and the device. Values are read when a comparison starts. GUI thread only.
class CompareSettingsPanel : public QWidget {
  Q_OBJECT

public:
  explicit CompareSettingsPanel(QWidget *parent = nullptr);

  QString modelA() const;
  QString modelB() const;
  QString referenceModel() const; // empty: model A
  void setModelA(const QString &dir);
  void setModelB(const QString &dir);
  void setReferenceModel(const QString &dir);
  // Offers a folder in B's list without choosing it.
  void offerModelB(const QString &dir);
  void offerModelA(const QString &dir); // listed in A's menu, A unchanged

  QString scorer() const; // "sentiment", "none" or a reward-model folder
  void setScorer(const QString &scorer);
  QString device() const;
  void setDevice(const QString &device);
  core::SamplingOptions samplingOptions() const;
  void setSamplingOptions(const core::SamplingOptions &options);

private:
  QWidget *buildModelRow();
  QWidget *buildSamplingRow();

  QComboBox *m_modelA = nullptr;
  QComboBox *m_modelB = nullptr;
  QComboBox *m_reference = nullptr;
  QComboBox *m_scorer = nullptr;
  QComboBox *m_device = nullptr;
  QSpinBox *m_maxNewTokens = nullptr;
  QDoubleSpinBox *m_temperature = nullptr;
  QSpinBox *m_topK = nullptr;
  QDoubleSpinBox *m_topP = nullptr;
  QCheckBox *m_chatTemplate = nullptr;
};

} // namespace preflab::ui
