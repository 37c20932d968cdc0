// NewRunDialog: a form over TextTrainConfig whose validation is core's, shown next to each field.
#include "ui/training/new_run_dialog.h"

#include "core/api/datasets.h"
#include "core/api/objectives.h"
#include "core/api/runs.h"
#include "ui/training/model_folder_summary.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMimeData>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QThread>
#include <QToolButton>
#include <QVBoxLayout>

namespace preflab::ui {

namespace {

QString q(const std::string &s) {
  return QString::fromStdString(s);
}

const QString kSentimentD2po = QStringLiteral("sentiment:d2po");
const QString kSentimentWro = QStringLiteral("sentiment:wro");
const QString kImageFashion = QStringLiteral("image:fashion-mnist");
const QString kImageManifest = QStringLiteral("image:manifest");
const QString kModelFolderText =
    QObject::tr("Hugging Face folder (GPT-2, Llama, Mistral, Qwen2, Qwen3), PEFT adapter or checkpoint");

} // namespace

NewRunDialog::NewRunDialog(const core::TextTrainConfig &base, const QString &runsRoot, QWidget *parent)
    : QDialog(parent), m_base(base), m_runsRoot(runsRoot) {
  setWindowTitle(tr("New run"));
  setAcceptDrops(true); // a model folder or a dataset file dropped on the dialog fills its field
  buildForm();
  onTaskChanged();
}

void NewRunDialog::buildForm() {
  auto *form = new QFormLayout;
  m_form = form;
  form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
  // Each field sits in a row with a red label that holds the reason it is invalid.
  auto addRow = [&](const QString &text, QWidget *field, const QString &key) {
    auto *row = new QWidget;
    auto *h = new QHBoxLayout(row);
    h->setContentsMargins(0, 0, 0, 0);
    h->addWidget(field, 1);
    auto *error = new QLabel;
    error->setStyleSheet(QStringLiteral("color: #c62828;"));
    error->setWordWrap(true);
    error->setMinimumWidth(180);
    h->addWidget(error, 1);
    m_errorLabels.insert(key, error);
    form->addRow(text, row);
  };
  auto browse = [this](QLineEdit *edit, bool directory) {
    auto *w = new QWidget;
    auto *h = new QHBoxLayout(w);
    h->setContentsMargins(0, 0, 0, 0);
    h->addWidget(edit, 1);
    auto *b = new QToolButton;
    b->setText(QStringLiteral("…"));
    connect(b, &QToolButton::clicked, this, [this, edit, directory] {
      const QString path =
          directory ? QFileDialog::getExistingDirectory(this, tr("Choose a folder"), edit->text())
                    : QFileDialog::getOpenFileName(this, tr("Choose a dataset"), edit->text(),
                                                   tr("JSON Lines (*.jsonl *.json);;All files (*)"));
      if (!path.isEmpty())
        edit->setText(path);
    });
    h->addWidget(b);
    return w;
  };

  m_name = new QLineEdit(
      QStringLiteral("%1-%2").arg(q(m_base.task.empty() ? "run" : m_base.task), q(m_base.lossType)));
  addRow(tr("Name"), m_name, QStringLiteral("name"));
  m_task = new QComboBox;
  m_task->addItem(tr("Embedded task: sentiment steering (no download)"), QStringLiteral("sentiment"));
  m_task->addItem(tr("Embedded task: sentiment, online D2PO (the policy's samples, a discriminator, a gold "
                     "budget)"),
                  kSentimentD2po);
  m_task->addItem(tr("Embedded task: sentiment, win-rate optimisation (RLOO on a judge's win probability "
                     "against reference samples)"),
                  kSentimentWro);
  m_task->addItem(tr("Preference dataset file (JSONL)"), QString());
  m_task->addItem(tr("Text-to-image: oracle-labelled Fashion-MNIST pairs (no download)"), kImageFashion);
  m_task->addItem(tr("Text-to-image: image-pair manifest (JSONL: caption, jpg_0, jpg_1, label_0)"),
                  kImageManifest);
  m_task->setCurrentIndex(
      std::max(0, m_task->findData(m_base.task != "sentiment" ? QString()
                                   : m_base.trainer == "d2po" ? kSentimentD2po
                                   : m_base.trainer == "wro"  ? kSentimentWro
                                                              : QStringLiteral("sentiment"))));
  addRow(tr("Task"), m_task, QStringLiteral("task"));
  // D2PO's own settings, shown only for it.
  const auto &d = m_base.d2po;
  auto spin = [](int low, int high, std::int64_t value, const QString &tip) {
    auto *s = new QSpinBox;
    s->setRange(low, high);
    s->setValue(int(value));
    s->setToolTip(tip);
    return s;
  };
  m_goldBudget = spin(0, 1000000, d.goldBudget,
                      tr("d2po.gold_budget: gold labels (the task's raters) asked over the whole run"));
  addRow(tr("Gold budget"), m_goldBudget, QStringLiteral("d2po.gold_budget"));
  m_goldPerRound = spin(1, 100000, d.goldPerRound, tr("d2po.gold_per_round: gold labels asked per round"));
  addRow(tr("Gold labels per round"), m_goldPerRound, QStringLiteral("d2po.gold_per_round"));
  m_initialGold = spin(0, 1000000, d.initialGold,
                       tr("d2po.initial_gold: labelled task pairs that train the discriminator before the "
                          "first round (spent from the budget)"));
  addRow(tr("Initial gold pairs"), m_initialGold, QStringLiteral("d2po.initial_gold"));
  m_promptsPerRound = spin(1, 65536, d.promptsPerRound,
                           tr("d2po.prompts_per_round: prompts the policy answers twice per round (one "
                              "optimizer step)"));
  addRow(tr("Prompts per round"), m_promptsPerRound, QStringLiteral("d2po.prompts_per_round"));
  m_goldSelection = new QComboBox;
  m_goldSelection->addItem(tr("least confident first (smallest discriminator score gap)"),
                           QStringLiteral("confidence"));
  m_goldSelection->addItem(tr("random"), QStringLiteral("random"));
  m_goldSelection->setCurrentIndex(std::max(0, m_goldSelection->findData(q(d.goldSelection))));
  addRow(tr("Gold goes to"), m_goldSelection, QStringLiteral("d2po.gold_selection"));
  m_goldLabeller = new QComboBox;
  m_goldLabeller->addItem(tr("the task's simulated raters"), QStringLiteral("raters"));
  m_goldLabeller->addItem(tr("you, in the Label tab (the run waits for each round's labels)"),
                          QStringLiteral("person"));
  m_goldLabeller->setCurrentIndex(std::max(0, m_goldLabeller->findData(q(d.goldLabeller))));
  m_goldLabeller->setToolTip(tr("d2po.gold_labeller: with you, each round's questions go into "
                                "<run>/gold.preflab-labels and the Label tab opens on them"));
  addRow(tr("Gold labels from"), m_goldLabeller, QStringLiteral("d2po.gold_labeller"));
  m_silver = new QCheckBox(tr("also train the policy on the discriminator's (silver) labels"));
  m_silver->setChecked(d.silver);
  m_silver->setObjectName(QStringLiteral("d2po.silver"));
  m_silver->setToolTip(tr("d2po.silver; off: online DPO on the gold pairs only"));
  addRow(tr("Silver labels"), m_silver, QStringLiteral("d2po.silver"));
  // WRO's own settings, shown only for it.
  const auto &w = m_base.wro;
  m_wroH = new QComboBox;
  m_wroH->addItem(tr("identity: the win probability (win rate)"), QStringLiteral("identity"));
  m_wroH->addItem(tr("log of the win probability"), QStringLiteral("log"));
  m_wroH->addItem(tr("logit of the win probability (reward gap: RLHF)"), QStringLiteral("logit"));
  m_wroH->setCurrentIndex(std::max(0, m_wroH->findData(q(w.h))));
  m_wroH->setToolTip(tr("wro.h: what the reward takes of the judge's preference probability"));
  addRow(tr("h (reward of a win)"), m_wroH, QStringLiteral("wro.h"));
  m_wroJudge = new QComboBox;
  m_wroJudge->addItem(tr("the task's raters (oracle)"), QStringLiteral("oracle"));
  m_wroJudge->addItem(tr("a reward model trained on the pairs"), QStringLiteral("reward_model"));
  m_wroJudge->setCurrentIndex(std::max(0, m_wroJudge->findData(q(w.judge))));
  m_wroJudge->setToolTip(tr("wro.judge: the preference classifier that compares answers during training"));
  addRow(tr("Judge"), m_wroJudge, QStringLiteral("wro.judge"));
  m_wroRewardModel = new QLineEdit(q(w.rewardModel));
  m_wroRewardModel->setPlaceholderText(tr("reward model folder, or a loss_type: reward run folder"));
  addRow(tr("Reward model"), browse(m_wroRewardModel, true), QStringLiteral("wro.reward_model"));
  m_wroSamples = spin(2, 1024, w.samplesPerPrompt,
                      tr("wro.samples_per_prompt: K answers per prompt; each one's baseline is the mean "
                         "reward of the other K - 1"));
  addRow(tr("Samples per prompt"), m_wroSamples, QStringLiteral("wro.samples_per_prompt"));
  m_wroCompetitors = spin(1, 1024, w.competitors,
                          tr("wro.competitors: reference answers per prompt (drawn once) each answer is "
                             "judged against"));
  addRow(tr("Reference answers"), m_wroCompetitors, QStringLiteral("wro.competitors"));
  m_wroPrompts = spin(1, 65536, w.promptsPerStep, tr("wro.prompts_per_step: prompts per optimizer step"));
  addRow(tr("Prompts per step"), m_wroPrompts, QStringLiteral("wro.prompts_per_step"));
  connect(m_wroJudge, &QComboBox::currentIndexChanged, this, &NewRunDialog::validate);
  connect(m_wroH, &QComboBox::currentIndexChanged, this, [this] {
    renameIfDefault();
    validate();
  });
  connect(m_wroRewardModel, &QLineEdit::textChanged, this, &NewRunDialog::validate);
  m_trainFile = new QLineEdit(q(m_base.trainFile));
  m_trainFile->setPlaceholderText(tr("pairs.jsonl (TRL, HH-RLHF, UltraFeedback or KTO format)"));
  addRow(tr("Training data"), browse(m_trainFile, false), QStringLiteral("train_file"));
  m_evalFile = new QLineEdit(q(m_base.evalFile));
  m_evalFile->setPlaceholderText(tr("optional held-out pairs"));
  addRow(tr("Evaluation data"), browse(m_evalFile, false), QStringLiteral("eval_file"));
  m_modelKind = new QComboBox;
  m_modelKind->addItem(tr("Built-in tiny GPT (%1 layers, %2 heads, width %3)")
                           .arg(m_base.model.nLayer)
                           .arg(m_base.model.nHead)
                           .arg(m_base.model.nEmbd));
  m_modelKind->addItem(kModelFolderText);
  m_modelKind->setCurrentIndex(m_base.modelNameOrPath.empty() ? 0 : 1);
  addRow(tr("Model"), m_modelKind, QStringLiteral("model"));
  m_modelDir = new QLineEdit(q(m_base.modelNameOrPath));
  m_modelDir->setPlaceholderText(tr("a Hugging Face folder (drop it here), a PEFT adapter or a checkpoint"));
  addRow(tr("Model folder"), browse(m_modelDir, true), QStringLiteral("model_name_or_path"));
  m_modelSummary = new ModelFolderSummary;
  form->addRow(QString(), m_modelSummary);
  m_loraRank = new QSpinBox;
  m_loraRank->setRange(0, 4096);
  m_loraRank->setSpecialValueText(tr("off: train every weight"));
  m_loraRank->setPrefix(tr("rank "));
  m_loraRank->setValue(m_base.usePeft ? int(m_base.loraR) : 0);
  m_loraRank->setToolTip(tr("use_peft / lora_r: LoRA adapters on the projections in lora_target_modules; "
                            "the reference is the base with the adapters off"));
  addRow(tr("LoRA adapters"), m_loraRank, QStringLiteral("lora_r"));
  m_oracle = new QLineEdit;
  m_oracle->setPlaceholderText(
      tr("none: implicit accuracy only; \"fashion\": the embedded Fashion-MNIST oracle"));
  addRow(tr("Oracle"), browse(m_oracle, true), QStringLiteral("oracle_model"));

  m_objective = new QComboBox;
  for (const auto &info : core::objectiveInfos(core::Modality::Text))
    m_objective->addItem(QStringLiteral("%1 — %2").arg(q(info.name), q(info.title)), q(info.name));
  m_objective->setCurrentIndex(std::max(0, m_objective->findData(q(m_base.lossType))));
  addRow(tr("Objective"), m_objective, QStringLiteral("loss_type"));
  m_objectiveHelp = new QLabel;
  m_objectiveHelp->setWordWrap(true);
  m_objectiveHelp->setAlignment(Qt::AlignLeft |
                                Qt::AlignTop); // its height is reserved for the narrowest width
  m_objectiveHelp->setMinimumWidth(520); // a narrow wrapped label is cut off by the form's row height
  m_objectiveHelp->setStyleSheet(QStringLiteral("color: palette(mid);"));
  form->addRow(QString(), m_objectiveHelp);
  m_beta = new QDoubleSpinBox;
  m_beta->setDecimals(4);
  m_beta->setRange(0.0, 1e6); // Diffusion-DPO's β is in the thousands
  m_beta->setSingleStep(0.01);
  m_beta->setValue(m_base.beta);
  addRow(tr("β"), m_beta, QStringLiteral("beta"));
  m_learningRate = new QLineEdit(QString::number(m_base.learningRate, 'g', 6));
  addRow(tr("Learning rate"), m_learningRate, QStringLiteral("learning_rate"));
  m_maxSteps = new QSpinBox;
  m_maxSteps->setRange(0, 10000000);
  m_maxSteps->setSpecialValueText(tr("one epoch"));
  m_maxSteps->setValue(int(std::max<std::int64_t>(0, m_base.maxSteps)));
  addRow(tr("Steps"), m_maxSteps, QStringLiteral("max_steps"));
  m_batchSize = new QSpinBox;
  m_batchSize->setRange(0, 65536);
  m_batchSize->setValue(int(m_base.perDeviceTrainBatchSize));
  addRow(tr("Batch size (pairs)"), m_batchSize, QStringLiteral("per_device_train_batch_size"));
  m_accumulation = new QSpinBox;
  m_accumulation->setRange(0, 4096);
  m_accumulation->setValue(int(m_base.gradientAccumulationSteps));
  addRow(tr("Gradient accumulation"), m_accumulation, QStringLiteral("gradient_accumulation_steps"));
  m_seed = new QSpinBox;
  m_seed->setRange(0, 2147483647);
  m_seed->setValue(int(m_base.seed));
  addRow(tr("Seed"), m_seed, QStringLiteral("seed"));
  m_device = new QComboBox;
  m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
  if (core::cudaDeviceCount() > 0)
    m_device->addItem(tr("CUDA (%1 GPU)").arg(core::cudaDeviceCount()), QStringLiteral("cuda"));
  m_device->setCurrentIndex(std::max(0, m_device->findData(q(m_base.device))));
  addRow(tr("Device"), m_device, QStringLiteral("device"));
  m_threads = new QSpinBox;
  m_threads->setRange(0, 1024);
  m_threads->setSpecialValueText(tr("all %1 cores").arg(QThread::idealThreadCount()));
  m_threads->setValue(int(m_base.threads));
  addRow(tr("CPU threads"), m_threads, QStringLiteral("threads"));
  m_outputDir = new QLineEdit;
  m_outputDir->setPlaceholderText(tr("default: %1/<name>-<date>").arg(QDir::toNativeSeparators(m_runsRoot)));
  addRow(tr("Run folder"), browse(m_outputDir, true), QStringLiteral("output_dir"));

  m_buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  m_buttons->addButton(tr("Start"), QDialogButtonBox::AcceptRole)->setDefault(true);
  connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto *layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(m_buttons);

  for (auto *e : {m_name, m_trainFile, m_evalFile, m_modelDir, m_oracle, m_learningRate, m_outputDir})
    connect(e, &QLineEdit::textChanged, this, &NewRunDialog::validate);
  connect(m_task, &QComboBox::currentIndexChanged, this, &NewRunDialog::onTaskChanged);
  for (auto *c : {m_modelKind, m_device})
    connect(c, &QComboBox::currentIndexChanged, this, &NewRunDialog::validate);
  for (auto *s : {m_maxSteps, m_batchSize, m_accumulation, m_seed, m_threads, m_loraRank})
    connect(s, &QSpinBox::valueChanged, this, &NewRunDialog::validate);
  connect(m_beta, &QDoubleSpinBox::valueChanged, this, &NewRunDialog::validate);
  for (auto *s : {m_goldBudget, m_goldPerRound, m_initialGold, m_promptsPerRound})
    connect(s, &QSpinBox::valueChanged, this, &NewRunDialog::validate);
  connect(m_goldSelection, &QComboBox::currentIndexChanged, this, &NewRunDialog::validate);
  connect(m_silver, &QCheckBox::toggled, this, &NewRunDialog::validate);
  connect(m_objective, &QComboBox::currentIndexChanged, this, &NewRunDialog::onObjectiveChanged);
}

bool NewRunDialog::isImage() const {
  return m_task->currentData().toString().startsWith(QLatin1String("image:"));
}

// Text and image runs train different models with different objectives: the objective list,
// the model choice and the fields that apply follow the task.
void NewRunDialog::onTaskChanged() {
  const bool image = isImage();
  if ((m_task->currentData() == kSentimentD2po || m_task->currentData() == kSentimentWro) &&
      m_maxSteps->value() == 0)
    m_maxSteps->setValue(32); // rounds: an online run has no epochs
  const core::ObjectiveInfo *first =
      m_objective->count() > 0 ? core::findObjectiveInfo(m_objective->itemData(0).toString().toStdString())
                               : nullptr;
  const bool wasImage = first && first->modality == core::Modality::Image;
  if (image != wasImage) {
    const QSignalBlocker block(m_objective);
    m_objective->clear();
    for (const auto &info : core::objectiveInfos(image ? core::Modality::Image : core::Modality::Text))
      m_objective->addItem(QStringLiteral("%1 — %2").arg(q(info.name), q(info.title)), q(info.name));
    m_objective->setCurrentIndex(
        std::max(0, m_objective->findData(image ? QStringLiteral("diffusion-dpo") : q(m_base.lossType))));
    const QSignalBlocker blockKind(m_modelKind);
    m_modelKind->setItemText(0, image ? tr("Embedded Fashion-MNIST reference (conditional UNet, 16 channels)")
                                      : tr("Built-in tiny GPT (%1 layers, %2 heads, width %3)")
                                            .arg(m_base.model.nLayer)
                                            .arg(m_base.model.nHead)
                                            .arg(m_base.model.nEmbd));
    m_modelKind->setItemText(
        1, image ? tr("Diffusion model folder (pretrain-diffusion's model/ or a checkpoint)")
                 : kModelFolderText);
    m_trainFile->setPlaceholderText(image ? tr("manifest.jsonl (caption, jpg_0, jpg_1, label_0)")
                                          : tr("pairs.jsonl (TRL, HH-RLHF, UltraFeedback or KTO format)"));
  }
  onObjectiveChanged();
}

void NewRunDialog::onObjectiveChanged() {
  const core::ObjectiveInfo *found =
      core::findObjectiveInfo(m_objective->currentData().toString().toStdString());
  const core::ObjectiveInfo info = found ? *found : core::ObjectiveInfo{};
  QString beta = info.defaultBeta() > 0 ? tr("β is %1; default %2, usual range %3–%4.")
                                              .arg(q(info.betaMeaning()))
                                              .arg(info.defaultBeta())
                                              .arg(info.betaLow())
                                              .arg(info.betaHigh())
                                        : tr("β is not used.");
  m_objectiveHelp->setText(QStringLiteral("%1 %2%3").arg(
      q(info.summary), beta, info.needsReference ? tr(" Needs a reference model.") : QString()));
  if (info.defaultBeta() > 0)
    m_beta->setValue(info.defaultBeta());
  m_beta->setEnabled(info.defaultBeta() > 0);
  rebuildParamRows(found);
  m_objectiveHelp->setFixedHeight(m_objectiveHelp->heightForWidth(m_objectiveHelp->minimumWidth()));
  renameIfDefault();
  validate();
}

// A name the dialog made (task-objective, or wro-h) follows the task and objective; one the user
// typed (no '-') stays.
void NewRunDialog::renameIfDefault() {
  if (!m_name->text().contains(QLatin1Char('-')))
    return;
  const QString task = m_task->currentData().toString();
  if (task == kSentimentWro) { // the objective only ranks the held-out pairs at the end: h names the run
    m_name->setText(QStringLiteral("wro-%1").arg(m_wroH->currentData().toString()));
    return;
  }
  m_name->setText(QStringLiteral("%1-%2").arg(task == QLatin1String("sentiment") ? QStringLiteral("sentiment")
                                              : task == kSentimentD2po           ? QStringLiteral("d2po")
                                              : task == kImageFashion            ? QStringLiteral("fashion")
                                              : isImage()                        ? QStringLiteral("images")
                                                                                 : QStringLiteral("run"),
                                              m_objective->currentData().toString()));
}

// The objective's own parameters (its declaration: key, default, allowed range, meaning) as
// rows below β; a text run starts from the base config's values, an image run from the defaults.
void NewRunDialog::rebuildParamRows(const core::ObjectiveInfo *info) {
  for (QWidget *row : m_paramRows)
    m_form->removeRow(row); // deletes the row's label and widgets
  m_paramRows.clear();
  for (auto it = m_paramSpins.begin(); it != m_paramSpins.end(); ++it)
    m_errorLabels.remove(it.key());
  for (auto it = m_paramChecks.begin(); it != m_paramChecks.end(); ++it)
    m_errorLabels.remove(it.key());
  m_paramSpins.clear();
  m_paramChecks.clear();
  if (!info)
    return;
  int row = 0;
  m_form->getWidgetPosition(m_beta->parentWidget(), &row, nullptr);
  for (const core::ObjectiveParam &p : info->params) {
    if (p.key == "beta" || (p.boolean && p.high <= 0))
      continue; // β has its own row; a switch that must stay off is not offered
    const QString key = q(p.key);
    const auto base = m_base.objectiveParams.find(p.key);
    const double value = info->modality == core::Modality::Text && base != m_base.objectiveParams.end()
                             ? base->second
                             : p.defaultValue;
    auto *rowWidget = new QWidget;
    auto *h = new QHBoxLayout(rowWidget);
    h->setContentsMargins(0, 0, 0, 0);
    QWidget *field = nullptr;
    if (p.boolean) {
      auto *check = new QCheckBox(q(p.help));
      check->setChecked(value != 0.0);
      check->setEnabled(p.high > 0);
      connect(check, &QCheckBox::toggled, this, &NewRunDialog::validate);
      m_paramChecks.insert(key, check);
      field = check;
    } else {
      auto *spin = new QDoubleSpinBox;
      spin->setDecimals(4);
      spin->setRange(std::max(p.low, -1e6), std::min(p.high, 1e6));
      spin->setSingleStep(0.01);
      spin->setValue(value);
      connect(spin, &QDoubleSpinBox::valueChanged, this, &NewRunDialog::validate);
      m_paramSpins.insert(key, spin);
      field = spin;
    }
    field->setToolTip(tr("%1; allowed %2; default %3")
                          .arg(q(p.help), q(core::allowedRange(p)))
                          .arg(p.boolean ? (p.defaultValue != 0.0 ? tr("on") : tr("off"))
                                         : QString::number(p.defaultValue)));
    h->addWidget(field, 1);
    auto *error = new QLabel(p.boolean ? QString() : q(p.help));
    error->setWordWrap(true);
    error->setMinimumWidth(180);
    h->addWidget(error, 1);
    m_errorLabels.insert(key, error);
    m_form->insertRow(++row, key, rowWidget);
    m_paramRows.push_back(rowWidget);
  }
}

std::map<std::string, double> NewRunDialog::paramValues() const {
  std::map<std::string, double> out;
  for (auto it = m_paramSpins.begin(); it != m_paramSpins.end(); ++it)
    out[it.key().toStdString()] = it.value()->value();
  for (auto it = m_paramChecks.begin(); it != m_paramChecks.end(); ++it)
    out[it.key().toStdString()] = it.value()->isChecked() ? 1.0 : 0.0;
  return out;
}

QString NewRunDialog::fileField(QLineEdit *edit) const {
  return edit->text().trimmed();
}

core::TextTrainConfig NewRunDialog::config() const {
  core::TextTrainConfig c = m_base;
  const bool d2po = m_task->currentData() == kSentimentD2po;
  const bool wro = m_task->currentData() == kSentimentWro;
  c.task = d2po || wro ? std::string("sentiment") : m_task->currentData().toString().toStdString();
  c.trainer = d2po ? "d2po" : wro ? "wro" : "offline";
  c.wro.h = m_wroH->currentData().toString().toStdString();
  c.wro.judge = m_wroJudge->currentData().toString().toStdString();
  c.wro.rewardModel = fileField(m_wroRewardModel).toStdString();
  c.wro.samplesPerPrompt = m_wroSamples->value();
  c.wro.competitors = m_wroCompetitors->value();
  c.wro.promptsPerStep = m_wroPrompts->value();
  c.d2po.goldBudget = m_goldBudget->value();
  c.d2po.goldPerRound = m_goldPerRound->value();
  c.d2po.initialGold = m_initialGold->value();
  c.d2po.promptsPerRound = m_promptsPerRound->value();
  c.d2po.goldSelection = m_goldSelection->currentData().toString().toStdString();
  c.d2po.goldLabeller = m_goldLabeller->currentData().toString().toStdString();
  c.d2po.silver = m_silver->isChecked();
  // The data fields are read only for a run on files (they stay filled, greyed, for a switch back).
  const bool fromFile = c.task.empty();
  c.trainFile = fromFile ? fileField(m_trainFile).toStdString() : std::string();
  c.evalFile = fromFile ? fileField(m_evalFile).toStdString() : std::string();
  c.modelNameOrPath = m_modelKind->currentIndex() == 1 ? fileField(m_modelDir).toStdString() : std::string();
  c.usePeft = m_loraRank->value() > 0;
  if (c.usePeft)
    c.loraR = m_loraRank->value();
  c.lossType = m_objective->currentData().toString().toStdString();
  c.beta = m_beta->value();
  for (const auto &[key, value] : paramValues())
    c.objectiveParams[key] = value;
  bool ok = false;
  const double lr = m_learningRate->text().toDouble(&ok);
  c.learningRate = ok ? lr : -1.0;
  c.maxSteps = m_maxSteps->value() > 0 ? m_maxSteps->value() : -1;
  c.perDeviceTrainBatchSize = m_batchSize->value();
  c.gradientAccumulationSteps = m_accumulation->value();
  c.seed = std::uint64_t(m_seed->value());
  c.device = m_device->currentData().toString().toStdString();
  c.threads = m_threads->value();
  QString out = m_outputDir->text().trimmed();
  if (out.isEmpty())
    out = QDir(m_runsRoot)
              .filePath(label() + QDateTime::currentDateTime().toString(QStringLiteral("-yyyyMMdd-HHmmss")));
  c.outputDir = out.toStdString();
  return c;
}

core::ImageTrainConfig NewRunDialog::imageConfig() const {
  core::ImageTrainConfig c; // the image defaults; the shared fields from the form
  c.trainFile = m_task->currentData().toString() == kImageFashion ? std::string("fashion-mnist")
                                                                  : fileField(m_trainFile).toStdString();
  c.evalFile =
      m_task->currentData().toString() == kImageFashion ? std::string() : fileField(m_evalFile).toStdString();
  c.referenceModel = m_modelKind->currentIndex() == 1 ? fileField(m_modelDir).toStdString() : std::string();
  c.oracleModel = fileField(m_oracle).toStdString();
  c.lossType = m_objective->currentData().toString().toStdString();
  c.beta = m_beta->isEnabled() ? m_beta->value() : 0.0;
  for (const auto &[key, value] : paramValues())
    c.objectiveParams[key] = value;
  bool ok = false;
  const double lr = m_learningRate->text().toDouble(&ok);
  c.learningRate = ok ? lr : -1.0;
  c.maxSteps = m_maxSteps->value() > 0 ? m_maxSteps->value() : -1;
  c.perDeviceTrainBatchSize = m_batchSize->value();
  c.seed = std::uint64_t(m_seed->value());
  c.device = m_device->currentData().toString().toStdString();
  c.threads = m_threads->value();
  c.outputDir = config().outputDir;
  return c;
}

QString NewRunDialog::modelSummary() const {
  return m_modelSummary->text();
}

QString NewRunDialog::label() const {
  return m_name->text().trimmed();
}

void NewRunDialog::setField(const QString &key, const QString &value) {
  if (key == QLatin1String("beta"))
    m_beta->setValue(value.toDouble());
  else if (m_paramSpins.contains(key))
    m_paramSpins.value(key)->setValue(value.toDouble());
  else if (m_paramChecks.contains(key))
    m_paramChecks.value(key)->setChecked(value == QLatin1String("true") || value == QLatin1String("1"));
  else if (key == QLatin1String("learning_rate"))
    m_learningRate->setText(value);
  else if (key == QLatin1String("train_file"))
    m_trainFile->setText(value);
  else if (key == QLatin1String("task"))
    m_task->setCurrentIndex(std::max(0, m_task->findData(value)));
  else if (key == QLatin1String("trainer") && value == QLatin1String("d2po"))
    m_task->setCurrentIndex(m_task->findData(kSentimentD2po));
  else if (key == QLatin1String("trainer") && value == QLatin1String("wro"))
    m_task->setCurrentIndex(m_task->findData(kSentimentWro));
  else if (key == QLatin1String("wro.h"))
    m_wroH->setCurrentIndex(std::max(0, m_wroH->findData(value)));
  else if (key == QLatin1String("wro.judge"))
    m_wroJudge->setCurrentIndex(std::max(0, m_wroJudge->findData(value)));
  else if (key == QLatin1String("wro.reward_model"))
    m_wroRewardModel->setText(value);
  else if (key == QLatin1String("wro.samples_per_prompt"))
    m_wroSamples->setValue(value.toInt());
  else if (key == QLatin1String("wro.competitors"))
    m_wroCompetitors->setValue(value.toInt());
  else if (key == QLatin1String("wro.prompts_per_step"))
    m_wroPrompts->setValue(value.toInt());
  else if (key == QLatin1String("d2po.gold_budget"))
    m_goldBudget->setValue(value.toInt());
  else if (key == QLatin1String("d2po.gold_per_round"))
    m_goldPerRound->setValue(value.toInt());
  else if (key == QLatin1String("d2po.initial_gold"))
    m_initialGold->setValue(value.toInt());
  else if (key == QLatin1String("d2po.prompts_per_round"))
    m_promptsPerRound->setValue(value.toInt());
  else if (key == QLatin1String("d2po.gold_selection"))
    m_goldSelection->setCurrentIndex(std::max(0, m_goldSelection->findData(value)));
  else if (key == QLatin1String("d2po.gold_labeller"))
    m_goldLabeller->setCurrentIndex(std::max(0, m_goldLabeller->findData(value)));
  else if (key == QLatin1String("d2po.silver"))
    m_silver->setChecked(value == QLatin1String("true") || value == QLatin1String("1"));
  else if (key == QLatin1String("oracle_model"))
    m_oracle->setText(value);
  else if (key == QLatin1String("loss_type"))
    m_objective->setCurrentIndex(std::max(0, m_objective->findData(value)));
  else if (key == QLatin1String("per_device_train_batch_size"))
    m_batchSize->setValue(value.toInt());
  else if (key == QLatin1String("max_steps"))
    m_maxSteps->setValue(value.toInt());
  else if (key == QLatin1String("name"))
    m_name->setText(value);
  else if (key == QLatin1String("lora_r"))
    m_loraRank->setValue(value.toInt());
  else if (key == QLatin1String("model_name_or_path")) {
    m_modelKind->setCurrentIndex(value.isEmpty() ? 0 : 1);
    m_modelDir->setText(value);
  }
}

void NewRunDialog::showError(const QString &key, const QString &message) {
  const QString shown = m_errorLabels.contains(key) ? key : QStringLiteral("name");
  if (!m_errors.contains(shown))
    m_errors.insert(shown, message);
}

void NewRunDialog::validate() {
  m_errors.clear();
  const bool image = isImage();
  const bool fromFile = m_task->currentData().toString().isEmpty() || m_task->currentData() == kImageManifest;
  m_trainFile->parentWidget()->setEnabled(fromFile);
  m_evalFile->parentWidget()->setEnabled(fromFile);
  m_oracle->parentWidget()->setEnabled(m_task->currentData() == kImageManifest);
  const bool d2po = m_task->currentData() == kSentimentD2po;
  for (const char *key :
       {"d2po.gold_budget", "d2po.gold_per_round", "d2po.initial_gold", "d2po.prompts_per_round",
        "d2po.gold_selection", "d2po.gold_labeller", "d2po.silver"})
    m_form->setRowVisible(m_errorLabels.value(QLatin1String(key))->parentWidget(), d2po);
  const bool wro = m_task->currentData() == kSentimentWro;
  for (const char *key : {"wro.h", "wro.judge", "wro.reward_model", "wro.samples_per_prompt",
                          "wro.competitors", "wro.prompts_per_step"})
    m_form->setRowVisible(m_errorLabels.value(QLatin1String(key))->parentWidget(), wro);
  m_wroRewardModel->parentWidget()->setEnabled(m_wroJudge->currentData() == QLatin1String("reward_model"));
  m_goldPerRound->setEnabled(m_goldBudget->value() > 0);
  m_goldSelection->setEnabled(m_goldBudget->value() > 0);
  m_goldLabeller->setEnabled(m_goldBudget->value() > 0);
  m_batchSize->setEnabled(!d2po && !wro); // a round's samples are its batch
  m_objective->setToolTip(wro ? tr("WRO trains on its own reward; this objective only ranks the held-out "
                                   "pairs in the final evaluation, and β is the KL penalty's weight")
                              : QString());
  m_accumulation->setEnabled(!image && !d2po && !wro);
  m_modelDir->parentWidget()->setEnabled(m_modelKind->currentIndex() == 1);
  m_loraRank->setEnabled(!image);
  if (label().isEmpty() || label().contains(QLatin1Char('/')))
    showError(QStringLiteral("name"), tr("a name without '/' is needed"));
  if (fromFile) {
    if (fileField(m_trainFile).isEmpty())
      showError(QStringLiteral("train_file"), tr("choose a JSONL file"));
    else if (!QFileInfo(fileField(m_trainFile)).isFile())
      showError(QStringLiteral("train_file"), tr("no such file"));
    if (!fileField(m_evalFile).isEmpty() && !QFileInfo(fileField(m_evalFile)).isFile())
      showError(QStringLiteral("eval_file"), tr("no such file"));
  }
  if (m_modelKind->currentIndex() == 1) {
    const QDir dir(fileField(m_modelDir));
    if (fileField(m_modelDir).isEmpty() || !dir.exists())
      showError(QStringLiteral("model_name_or_path"), tr("choose a model folder"));
    else if (image && !dir.exists(QStringLiteral("diffusion_config.json")))
      showError(QStringLiteral("model_name_or_path"),
                tr("no diffusion_config.json: not a diffusion model folder"));
    else if (!image && dir.exists(QStringLiteral("trainer_state.json"))) // a checkpoint: shape in its state
      m_modelSummary->showFolder(QString());
    else if (!image)
      if (const QString error = m_modelSummary->showFolder(dir.path()); !error.isEmpty())
        showError(QStringLiteral("model_name_or_path"), error);
  }
  if (image || m_modelKind->currentIndex() != 1)
    m_modelSummary->showFolder(QString());
  bool lrOk = false;
  m_learningRate->text().toDouble(&lrOk);
  if (!lrOk)
    showError(QStringLiteral("learning_rate"), tr("not a number"));
  const QString out = m_outputDir->text().trimmed();
  if (!out.isEmpty() && QFileInfo::exists(QDir(out).filePath(QStringLiteral("metrics.jsonl"))))
    showError(QStringLiteral("output_dir"), tr("already holds a run"));
  const QString oracle = fileField(m_oracle);
  if (m_oracle->isEnabled() && !oracle.isEmpty() && oracle != QLatin1String("fashion") &&
      !QFileInfo::exists(QDir(oracle).filePath(QStringLiteral("oracle.json"))))
    showError(QStringLiteral("oracle_model"),
              tr("no oracle.json: not an oracle folder (preflab-cli train-oracle)"));
  if (image && m_maxSteps->value() == 0)
    showError(QStringLiteral("max_steps"), tr("image runs need a number of steps"));
  if (wro && m_wroJudge->currentData() == QLatin1String("reward_model")) {
    const QDir rm(fileField(m_wroRewardModel));
    if (fileField(m_wroRewardModel).isEmpty() || !rm.exists())
      showError(QStringLiteral("wro.reward_model"), tr("choose a reward model folder"));
    else if (!rm.exists(QStringLiteral("config.json")) && !rm.exists(QStringLiteral("hf/config.json")))
      showError(QStringLiteral("wro.reward_model"),
                tr("no config.json (or hf/config.json): not a model folder"));
  }
  try { // the checks core makes before any run: the same rules as the CLI
    if (image)
      imageConfig().validate();
    else
      config().validate();
  } catch (const core::InputError &e) {
    showError(q(e.key()), q(e.message()));
  } catch (const std::exception &e) {
    showError(QStringLiteral("name"), q(e.what()));
  }
  for (auto it = m_errorLabels.begin(); it != m_errorLabels.end(); ++it)
    it.value()->setText(m_errors.value(it.key()));
  // β outside the objective's usual range is allowed (the diagnostics panel flags it too).
  const core::ObjectiveInfo *info =
      core::findObjectiveInfo(m_objective->currentData().toString().toStdString());
  if (info && info->betaHigh() > 0 && !m_errors.contains(QStringLiteral("beta")) &&
      (m_beta->value() < info->betaLow() || m_beta->value() > info->betaHigh()))
    m_errorLabels.value(QStringLiteral("beta"))
        ->setText(tr("outside the usual %1–%2 for %3 (allowed)")
                      .arg(info->betaLow())
                      .arg(info->betaHigh())
                      .arg(q(info->name)));
  if (info) // a valid parameter row shows its meaning (grey) where an error (red) would go
    for (const core::ObjectiveParam &p : info->params) {
      QLabel *label = m_errorLabels.value(q(p.key));
      if (p.key == "beta" || !label)
        continue;
      const bool bad = m_errors.contains(q(p.key));
      label->setStyleSheet(bad ? QStringLiteral("color: #c62828;") : QStringLiteral("color: palette(mid);"));
      if (!bad && !p.boolean)
        label->setText(q(p.help));
    }
  for (auto *b : m_buttons->buttons()) {
    auto *button = qobject_cast<QPushButton *>(b);
    if (m_buttons->buttonRole(b) == QDialogButtonBox::AcceptRole) {
      b->setEnabled(m_errors.isEmpty());
      // Disabling the default button hands the default to Cancel: Enter must start, never cancel.
      if (button && m_errors.isEmpty())
        button->setDefault(true);
    } else if (button) {
      button->setAutoDefault(false);
    }
  }
}

void NewRunDialog::dragEnterEvent(QDragEnterEvent *event) {
  if (event->mimeData()->hasUrls())
    event->acceptProposedAction();
}

void NewRunDialog::dropEvent(QDropEvent *event) {
  QStringList paths;
  for (const QUrl &url : event->mimeData()->urls())
    if (url.isLocalFile())
      paths << url.toLocalFile();
  dropPaths(paths);
  event->acceptProposedAction();
}

// A folder is the model; a file the training data (or, once that is set, the evaluation data).
void NewRunDialog::dropPaths(const QStringList &paths) {
  for (const QString &name : paths) {
    const QFileInfo path(name);
    if (path.isDir()) {
      m_modelKind->setCurrentIndex(1);
      m_modelDir->setText(path.absoluteFilePath());
    } else if (path.isFile() &&
               (m_task->currentData().toString().isEmpty() || m_task->currentData() == kImageManifest)) {
      (fileField(m_trainFile).isEmpty() ? m_trainFile : m_evalFile)->setText(path.absoluteFilePath());
    }
  }
}

} // namespace preflab::ui
