// CompareSettingsPanel: the folder pickers, scorer choice and sampling spin boxes.
#include "ui/compare/compare_settings_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QGridLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>

namespace preflab::ui {

namespace {
QComboBox *folderCombo(const QString &placeholder) {
  auto *combo = new QComboBox;
  combo->setEditable(true);
  combo->setInsertPolicy(QComboBox::NoInsert);
  combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  combo->setMinimumContentsLength(28);
  combo->lineEdit()->setPlaceholderText(placeholder);
  return combo;
}

// Sets the combo's text, offering it in the list too.
void chooseFolder(QComboBox *combo, const QString &dir) {
  if (!dir.isEmpty() && combo->findText(dir) < 0)
    combo->addItem(dir);
  combo->setCurrentText(dir);
}

QString lastParts(const QString &dir) {
  const QStringList parts = QDir::cleanPath(dir).split('/', Qt::SkipEmptyParts);
  return parts.mid(std::max<qsizetype>(0, parts.size() - 2)).join('/');
}
} // namespace

CompareSettingsPanel::CompareSettingsPanel(QWidget *parent) : QWidget(parent) {
  auto *layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(buildModelRow());
  layout->addWidget(buildSamplingRow());
}

QWidget *CompareSettingsPanel::buildModelRow() {
  auto *bar = new QWidget;
  auto *grid = new QGridLayout(bar);
  grid->setContentsMargins(0, 0, 0, 0);
  m_modelA = folderCombo(tr("model folder, e.g. the reference"));
  m_modelB = folderCombo(tr("model or checkpoint folder, e.g. the tuned policy"));
  m_reference = folderCombo(tr("same as model A"));
  m_modelA->setToolTip(tr("Model A: a model folder (Hugging Face GPT-2 or native) or a checkpoint folder"));
  m_modelB->setToolTip(tr("Model B: the run's final policy, one of its checkpoints, or another run's model"));
  m_reference->setToolTip(tr("π_ref of the token colouring; empty: model A"));
  m_scorer = new QComboBox;
  m_scorer->addItem(tr("sentiment oracle"), QStringLiteral("sentiment"));
  m_scorer->addItem(tr("none"), QStringLiteral("none"));
  m_scorer->addItem(tr("reward model…"), QString());
  m_scorer->setToolTip(
      tr("Score of each text: the built-in sentiment oracle, none, or a reward-model folder"));
  connect(m_scorer, &QComboBox::activated, this, [this](int index) {
    if (!m_scorer->itemData(index).toString().isEmpty())
      return;
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Reward model folder"));
    setScorer(dir.isEmpty() ? QStringLiteral("sentiment") : dir);
  });
  auto browse = [this](QComboBox *combo, const QString &title) {
    auto *button = new QPushButton(tr("…"));
    button->setToolTip(title);
    button->setFixedWidth(button->fontMetrics().horizontalAdvance(QStringLiteral("…")) + 24);
    connect(button, &QPushButton::clicked, this, [this, combo, title] {
      const QString dir = QFileDialog::getExistingDirectory(this, title, combo->currentText());
      if (!dir.isEmpty())
        chooseFolder(combo, dir);
    });
    return button;
  };
  grid->addWidget(new QLabel(tr("Model A")), 0, 0);
  grid->addWidget(m_modelA, 0, 1);
  grid->addWidget(browse(m_modelA, tr("Model A folder")), 0, 2);
  grid->addWidget(new QLabel(tr("Model B")), 0, 3);
  grid->addWidget(m_modelB, 0, 4);
  grid->addWidget(browse(m_modelB, tr("Model B folder")), 0, 5);
  grid->addWidget(new QLabel(tr("Colour against")), 1, 0);
  grid->addWidget(m_reference, 1, 1);
  grid->addWidget(browse(m_reference, tr("Reference model folder")), 1, 2);
  grid->addWidget(new QLabel(tr("Score")), 1, 3);
  grid->addWidget(m_scorer, 1, 4, 1, 2);
  grid->setColumnStretch(1, 1);
  grid->setColumnStretch(4, 1);
  return bar;
}

QWidget *CompareSettingsPanel::buildSamplingRow() {
  auto *bar = new QWidget;
  auto *row = new QHBoxLayout(bar);
  row->setContentsMargins(0, 0, 0, 0);
  m_maxNewTokens = new QSpinBox;
  m_maxNewTokens->setRange(1, 4096);
  m_temperature = new QDoubleSpinBox;
  m_temperature->setRange(0.0, 5.0);
  m_temperature->setSingleStep(0.1);
  m_temperature->setToolTip(tr("0: greedy"));
  m_topK = new QSpinBox;
  m_topK->setRange(0, 100000);
  m_topK->setSpecialValueText(tr("off"));
  m_topP = new QDoubleSpinBox;
  m_topP->setRange(0.01, 1.0);
  m_topP->setSingleStep(0.05);
  m_topP->setToolTip(tr("1: off"));
  m_chatTemplate = new QCheckBox(tr("Chat template"));
  m_chatTemplate->setToolTip(tr("Give each prompt as a user message in the model's chat template "
                                "(tokenizer_config.json), as a chat model is prompted and as "
                                "conversational data is rendered for training. No effect for a model "
                                "without one."));
  m_device = new QComboBox;
  m_device->addItems({QStringLiteral("cpu"), QStringLiteral("auto"), QStringLiteral("cuda")});
  setSamplingOptions(core::SamplingOptions{});
  row->addWidget(new QLabel(tr("Max new tokens")));
  row->addWidget(m_maxNewTokens);
  row->addWidget(new QLabel(tr("Temperature")));
  row->addWidget(m_temperature);
  row->addWidget(new QLabel(tr("Top-k")));
  row->addWidget(m_topK);
  row->addWidget(new QLabel(tr("Top-p")));
  row->addWidget(m_topP);
  row->addWidget(m_chatTemplate);
  row->addWidget(new QLabel(tr("Device")));
  row->addWidget(m_device);
  row->addStretch(1);
  return bar;
}

void CompareSettingsPanel::setScorer(const QString &scorer) {
  int index = m_scorer->findData(scorer);
  if (index < 0) {
    m_scorer->insertItem(m_scorer->count() - 1, lastParts(scorer), scorer);
    m_scorer->setItemData(m_scorer->count() - 2, scorer, Qt::ToolTipRole);
    index = m_scorer->count() - 2;
  }
  m_scorer->setCurrentIndex(index);
}

void CompareSettingsPanel::setSamplingOptions(const core::SamplingOptions &o) {
  m_maxNewTokens->setValue(int(o.maxNewTokens));
  m_temperature->setValue(o.temperature);
  m_topK->setValue(int(o.topK));
  m_topP->setValue(o.topP);
  m_chatTemplate->setChecked(o.chatTemplate);
}

core::SamplingOptions CompareSettingsPanel::samplingOptions() const {
  core::SamplingOptions o;
  o.maxNewTokens = m_maxNewTokens->value();
  o.temperature = m_temperature->value();
  o.topK = m_topK->value();
  o.topP = m_topP->value();
  o.chatTemplate = m_chatTemplate->isChecked();
  return o;
}

void CompareSettingsPanel::setDevice(const QString &device) {
  m_device->setCurrentText(device);
}

QString CompareSettingsPanel::modelA() const {
  return m_modelA->currentText().trimmed();
}
QString CompareSettingsPanel::modelB() const {
  return m_modelB->currentText().trimmed();
}
QString CompareSettingsPanel::referenceModel() const {
  return m_reference->currentText().trimmed();
}
void CompareSettingsPanel::setModelA(const QString &dir) {
  chooseFolder(m_modelA, dir);
}
void CompareSettingsPanel::setModelB(const QString &dir) {
  chooseFolder(m_modelB, dir);
}
void CompareSettingsPanel::setReferenceModel(const QString &dir) {
  chooseFolder(m_reference, dir);
}

void CompareSettingsPanel::offerModelB(const QString &dir) {
  if (m_modelB->findText(dir) >= 0)
    return;
  const QString current = m_modelB->currentText(); // adding to an empty combo would select the item
  m_modelB->addItem(dir);
  m_modelB->setCurrentText(current);
}

void CompareSettingsPanel::offerModelA(const QString &dir) {
  if (m_modelA->findText(dir) >= 0)
    return;
  const QString current = m_modelA->currentText();
  m_modelA->addItem(dir);
  m_modelA->setCurrentText(current);
}

QString CompareSettingsPanel::scorer() const {
  return m_scorer->currentData().toString();
}
QString CompareSettingsPanel::device() const {
  return m_device->currentText();
}

} // namespace preflab::ui
