// GenerateCandidatesDialog and RankItemsDialog: forms over the facade's requests.
#include "ui/labels/label_dialogs.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QVBoxLayout>

namespace preflab::ui {

namespace {

// A line edit with a Browse… button for a folder (or a file).
QWidget *pathRow(QLineEdit *edit, bool folder, const QString &title, QWidget *parent,
                 QList<QWidget *> &tabOrder) {
  auto *row = new QWidget(parent);
  auto *h = new QHBoxLayout(row);
  h->setContentsMargins(0, 0, 0, 0);
  auto *browse = new QPushButton(QObject::tr("Browse…"), row);
  browse->setAutoDefault(false); // Enter in the form is the dialog's OK, never Browse
  h->addWidget(edit, 1);
  h->addWidget(browse);
  tabOrder << edit << browse;
  QObject::connect(browse, &QPushButton::clicked, row, [=] {
    const QString path = folder ? QFileDialog::getExistingDirectory(parent, title, edit->text())
                                : QFileDialog::getOpenFileName(parent, title, edit->text());
    if (!path.isEmpty())
      edit->setText(path);
  });
  return row;
}

QDialogButtonBox *okCancel(QDialog *d, const QString &ok) {
  auto *box = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, d);
  box->button(QDialogButtonBox::Ok)->setText(ok);
  QObject::connect(box, &QDialogButtonBox::accepted, d, &QDialog::accept);
  QObject::connect(box, &QDialogButtonBox::rejected, d, &QDialog::reject);
  return box;
}

QLabel *errorLabel(QWidget *parent) {
  auto *l = new QLabel(parent);
  l->setWordWrap(true);
  l->setStyleSheet(QStringLiteral("color: #b00020;"));
  l->hide();
  return l;
}

} // namespace

GenerateCandidatesDialog::GenerateCandidatesDialog(QWidget *parent) : QDialog(parent) {
  setWindowTitle(tr("Generate candidates to label"));
  setMinimumWidth(640);
  auto *layout = new QVBoxLayout(this);
  auto *intro = new QLabel(tr("Two samples per prompt from a text model, or two images per caption from a "
                              "diffusion model. Item i uses seeds seed + 2i and seed + 2i + 1; the seeds are "
                              "written with each pair."));
  intro->setWordWrap(true);
  layout->addWidget(intro);
  auto *form = new QFormLayout;
  const QSettings settings;
  m_model = new QLineEdit(settings.value(QStringLiteral("labels/generate_model")).toString());
  m_model->setPlaceholderText(tr("a model folder: text (native, Hugging Face, checkpoint) or diffusion"));
  m_prompts = new QLineEdit(settings.value(QStringLiteral("labels/generate_prompts")).toString());
  m_prompts->setPlaceholderText(tr("empty: the built-in task's prompts or captions"));
  m_kind = new QLabel;
  m_count = new QSpinBox;
  m_count->setRange(1, 100000);
  m_count->setValue(20);
  m_seed = new QSpinBox;
  m_seed->setRange(0, 2000000000);
  m_maxNewTokens = new QSpinBox;
  m_maxNewTokens->setRange(1, 4096);
  m_maxNewTokens->setValue(48);
  m_temperature = new QDoubleSpinBox;
  m_temperature->setRange(0.05, 5.0);
  m_temperature->setSingleStep(0.1);
  m_temperature->setValue(1.0);
  m_steps = new QSpinBox;
  m_steps->setRange(1, 1000);
  m_steps->setValue(50);
  m_guidance = new QDoubleSpinBox;
  m_guidance->setRange(0.0, 20.0);
  m_guidance->setValue(3.0);
  m_device = new QComboBox;
  m_device->addItems({QStringLiteral("cpu"), QStringLiteral("auto"), QStringLiteral("cuda")});
  QList<QWidget *> order;
  form->addRow(tr("Model folder"), pathRow(m_model, true, tr("Model folder"), this, order));
  form->addRow(QString(), m_kind);
  form->addRow(tr("Prompts file"), pathRow(m_prompts, false, tr("Prompts, one per line"), this, order));
  form->addRow(tr("Built-in prompts"), m_count);
  form->addRow(tr("First seed"), m_seed);
  form->addRow(tr("Text: new tokens"), m_maxNewTokens);
  form->addRow(tr("Text: temperature"), m_temperature);
  form->addRow(tr("Images: DDIM steps"), m_steps);
  form->addRow(tr("Images: guidance"), m_guidance);
  form->addRow(tr("Device"), m_device);
  layout->addLayout(form);
  m_error = errorLabel(this);
  layout->addWidget(m_error);
  layout->addWidget(okCancel(this, tr("Generate")));
  // Tab goes down the form: folder, Browse, prompts, Browse, then each setting in turn.
  order << m_count << m_seed << m_maxNewTokens << m_temperature << m_steps << m_guidance << m_device;
  for (int i = 0; i + 1 < order.size(); ++i)
    setTabOrder(order[i], order[i + 1]);
  connect(m_model, &QLineEdit::textChanged, this, &GenerateCandidatesDialog::updateKind);
  connect(m_prompts, &QLineEdit::textChanged, this, &GenerateCandidatesDialog::updateKind);
  updateKind();
  m_model->setFocus(); // type the folder at once
}

void GenerateCandidatesDialog::setModel(const QString &dir) {
  m_model->setText(dir);
}

void GenerateCandidatesDialog::setPromptsFile(const QString &path) {
  m_prompts->setText(path);
}

void GenerateCandidatesDialog::setCount(int count) {
  m_count->setValue(count);
}

void GenerateCandidatesDialog::updateKind() {
  const QString dir = m_model->text().trimmed();
  const bool images = core::isDiffusionModelFolder(dir.toStdString());
  m_kind->setText(dir.isEmpty()             ? QString()
                  : !QFileInfo(dir).isDir() ? tr("not a folder")
                  : images                  ? tr("diffusion model: two images per caption")
                                            : tr("text model: two samples per prompt"));
  const bool builtIn = m_prompts->text().trimmed().isEmpty();
  m_count->setEnabled(builtIn);
  m_maxNewTokens->setEnabled(!images);
  m_temperature->setEnabled(!images);
  m_steps->setEnabled(images);
  m_guidance->setEnabled(images);
}

core::CandidateGenerationRequest GenerateCandidatesDialog::request(const QString &out) const {
  core::CandidateGenerationRequest r;
  r.model = m_model->text().trimmed().toStdString();
  const bool images = core::isDiffusionModelFolder(r.model);
  const QString prompts = m_prompts->text().trimmed();
  r.prompts = prompts.isEmpty()
                  ? core::builtInLabelPrompts(images, m_count->value(), std::uint64_t(m_seed->value()))
                  : core::readPromptList(prompts.toStdString());
  r.seed = std::uint64_t(m_seed->value());
  r.sampling.maxNewTokens = m_maxNewTokens->value();
  r.sampling.temperature = m_temperature->value();
  r.imageSampling.steps = m_steps->value();
  r.imageSampling.guidanceScale = m_guidance->value();
  r.device = m_device->currentText().toStdString();
  r.out = out.toStdString();
  return r;
}

void GenerateCandidatesDialog::accept() {
  const QString dir = m_model->text().trimmed();
  QString problem;
  if (!QFileInfo(dir).isDir())
    problem = tr("Choose a model folder first.");
  else if (!m_prompts->text().trimmed().isEmpty()) {
    try {
      (void)core::readPromptList(m_prompts->text().trimmed().toStdString());
    } catch (const std::exception &e) {
      problem = QString::fromUtf8(e.what());
    }
  }
  if (!problem.isEmpty()) {
    m_error->setText(problem);
    m_error->show();
    return;
  }
  QSettings settings;
  settings.setValue(QStringLiteral("labels/generate_model"), dir);
  settings.setValue(QStringLiteral("labels/generate_prompts"), m_prompts->text().trimmed());
  QDialog::accept();
}

RankItemsDialog::RankItemsDialog(QWidget *parent) : QDialog(parent) {
  setWindowTitle(tr("Rank the queue by informativeness"));
  setMinimumWidth(640);
  auto *layout = new QVBoxLayout(this);
  auto *intro = new QLabel(
      tr("Scores every text pair under a policy and its reference. |margin| is the DPO implicit reward "
         "margin β·[(log π − log π_ref)(w) − (log π − log π_ref)(l)]: near 0, the policy has no opinion yet. "
         "Difficulty is softplus(−β·c), c = log π_ref(l) − log π_ref(w): the DPO loss below which the pair "
         "is ranked correctly, lower = harder. w is the majority's choice where there is one, else the "
         "first stored candidate."));
  intro->setWordWrap(true);
  layout->addWidget(intro);
  auto *form = new QFormLayout;
  const QSettings settings;
  m_policy = new QLineEdit(settings.value(QStringLiteral("labels/rank_policy")).toString());
  m_reference = new QLineEdit(settings.value(QStringLiteral("labels/rank_reference")).toString());
  m_reference->setPlaceholderText(tr("empty: the policy itself (margins are then 0)"));
  m_beta = new QDoubleSpinBox;
  m_beta->setDecimals(3);
  m_beta->setRange(0.001, 100.0);
  m_beta->setValue(0.1);
  QList<QWidget *> order;
  form->addRow(tr("Policy folder"), pathRow(m_policy, true, tr("Policy folder"), this, order));
  form->addRow(tr("Reference folder"), pathRow(m_reference, true, tr("Reference folder"), this, order));
  form->addRow(tr("β"), m_beta);
  layout->addLayout(form);
  m_error = errorLabel(this);
  layout->addWidget(m_error);
  layout->addWidget(okCancel(this, tr("Score")));
  order << m_beta;
  for (int i = 0; i + 1 < order.size(); ++i)
    setTabOrder(order[i], order[i + 1]);
  m_policy->setFocus();
}

void RankItemsDialog::setPolicy(const QString &dir) {
  m_policy->setText(dir);
}

void RankItemsDialog::setReference(const QString &dir) {
  m_reference->setText(dir);
}

core::InformativenessRequest RankItemsDialog::request() const {
  core::InformativenessRequest r;
  r.policy = m_policy->text().trimmed().toStdString();
  r.reference = m_reference->text().trimmed().toStdString();
  r.beta = m_beta->value();
  return r;
}

void RankItemsDialog::accept() {
  const QString policy = m_policy->text().trimmed(), reference = m_reference->text().trimmed();
  if (!QFileInfo(policy).isDir() || (!reference.isEmpty() && !QFileInfo(reference).isDir())) {
    m_error->setText(tr("The policy (and the reference, when given) must be model folders."));
    m_error->show();
    return;
  }
  QSettings settings;
  settings.setValue(QStringLiteral("labels/rank_policy"), policy);
  settings.setValue(QStringLiteral("labels/rank_reference"), reference);
  QDialog::accept();
}

} // namespace preflab::ui
