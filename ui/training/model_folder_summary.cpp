// ModelFolderSummary: two lines about a model folder, and its chat template on demand.
#include "ui/training/model_folder_summary.h"

#include "core/api/models.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QTextDocument>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace preflab::ui {

namespace {

QString count(std::int64_t n) {
  return QLocale(QLocale::English).toString(qlonglong(n));
}

QString describe(const core::ModelFolderInfo &info) {
  QString first = QStringLiteral("<b>%1</b>%2 (%3)")
                      .arg(QString::fromStdString(info.family).toHtmlEscaped(),
                           info.rewardModel ? ModelFolderSummary::tr(" reward model") : QString(),
                           QString::fromStdString(info.format));
  if (info.lora) {
    QStringList targets;
    for (const auto &t : info.lora->targetModules)
      targets << QString::fromStdString(t);
    first += ModelFolderSummary::tr(" · LoRA r=%1, alpha %2 on %3 · %4 adapter parameters over %5")
                 .arg(info.lora->rank)
                 .arg(info.lora->alpha)
                 .arg(targets.isEmpty() ? QString::fromStdString(info.lora->targetRegex)
                                        : targets.join(QStringLiteral(", ")))
                 .arg(count(info.adapterParameters))
                 .arg(QString::fromStdString(info.baseModel).toHtmlEscaped());
  }
  if (info.parameters > 0)
    first +=
        ModelFolderSummary::tr(" · %1 parameters%2")
            .arg(count(info.parameters))
            .arg(info.dtype.empty() ? QString() : QStringLiteral(", ") + QString::fromStdString(info.dtype));
  QString second = ModelFolderSummary::tr("%1 layers, width %2, %3 heads")
                       .arg(info.layers)
                       .arg(info.hidden)
                       .arg(info.heads);
  if (info.kvHeads != info.heads)
    second += ModelFolderSummary::tr(" / %1 KV").arg(info.kvHeads);
  second += ModelFolderSummary::tr(" · %1 positions · vocabulary %2")
                .arg(count(info.contextLength), count(info.vocabSize));
  if (!info.tokenizerFile.empty())
    second += ModelFolderSummary::tr(" (%1, %2 ids)")
                  .arg(QString::fromStdString(info.tokenizerFile), count(info.tokenizerVocab));
  else
    second += ModelFolderSummary::tr(" (no tokenizer files)");
  const int lines = int(std::count(info.chatTemplate.begin(), info.chatTemplate.end(), '\n')) + 1;
  second += info.chatTemplate.empty() ? ModelFolderSummary::tr(" · no chat template")
                                      : ModelFolderSummary::tr(" · chat template (%1 lines)").arg(lines);
  return first + QStringLiteral("<br>") + second;
}

} // namespace

ModelFolderSummary::ModelFolderSummary(QWidget *parent) : QWidget(parent) {
  auto *h = new QHBoxLayout(this);
  h->setContentsMargins(0, 0, 0, 0);
  m_label = new QLabel;
  m_label->setWordWrap(true);
  m_label->setMinimumWidth(520);
  m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
  h->addWidget(m_label, 1);
  m_templateButton = new QToolButton;
  m_templateButton->setText(tr("Chat template…"));
  m_templateButton->setToolTip(tr("The Jinja template that renders conversational pairs for this model"));
  m_templateButton->setVisible(false);
  h->addWidget(m_templateButton, 0, Qt::AlignTop);
  connect(m_templateButton, &QToolButton::clicked, this, &ModelFolderSummary::showTemplate);
}

QString ModelFolderSummary::showFolder(const QString &dir) {
  if (dir == m_dir)
    return m_error;
  m_dir = dir;
  m_error.clear();
  m_template.clear();
  if (dir.isEmpty()) {
    m_label->clear();
    m_label->setMinimumHeight(0);
  } else {
    try {
      const auto info = core::inspectModelFolder(dir.toStdString());
      m_template = QString::fromStdString(info.chatTemplate);
      m_label->setText(describe(info));
      // Wrapped text in a form row is cut to the row's height: reserve what the narrowest layout needs.
      m_label->setMinimumHeight(m_label->heightForWidth(m_label->minimumWidth()));
    } catch (const std::exception &e) { // InputError names the file and key
      m_error = QString::fromStdString(e.what());
      m_label->clear();
      m_label->setMinimumHeight(0);
    }
  }
  m_templateButton->setVisible(!m_template.isEmpty());
  return m_error;
}

QString ModelFolderSummary::text() const {
  QTextDocument doc;
  doc.setHtml(m_label->text());
  return doc.toPlainText();
}

void ModelFolderSummary::showTemplate() {
  QDialog dialog(this);
  dialog.setWindowTitle(tr("Chat template of %1").arg(m_dir));
  auto *layout = new QVBoxLayout(&dialog);
  auto *edit = new QPlainTextEdit(m_template);
  edit->setReadOnly(true);
  edit->setLineWrapMode(QPlainTextEdit::NoWrap);
  edit->setFont(QFont(QStringLiteral("monospace")));
  layout->addWidget(edit);
  auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
  connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  layout->addWidget(buttons);
  dialog.resize(760, 520);
  dialog.exec();
}

} // namespace preflab::ui
