// ModelsPanel: run models and opened model folders, described by core's inspectModelFolder.
#include "ui/runs/models_panel.h"

#include "core/api/models.h"
#include "core/api/run_reader.h"

#include <QDir>
#include <QFileInfo>
#include <QHeaderView>
#include <QMenu>

namespace preflab::ui {

namespace {

constexpr int kPathRole = Qt::UserRole;      // column 1: the model folder
constexpr int kReferenceRole = Qt::UserRole; // column 0: what it is compared with
constexpr int kImageRole = Qt::UserRole + 1; // column 1: a diffusion model folder
const QString kFolderGroup = QStringLiteral("preflab:model-folders");

// One line of what the folder holds, or "" when it cannot be read without loading it.
QString summaryOf(const QString &path) {
  try {
    return QString::fromStdString(
        core::modelSummaryLine(core::inspectModelFolder(path.toStdString(), false)));
  } catch (const std::exception &) { // a checkpoint or a damaged folder: Compare names the problem
    return {};
  }
}

} // namespace

ModelsPanel::ModelsPanel(QWidget *parent) : QTreeWidget(parent) {
  setHeaderLabels({tr("Model"), tr("Folder")});
  header()->setSectionResizeMode(0, QHeaderView::ResizeToContents); // the folder is in its tooltip
  setToolTip(tr("Double-click a model to compare it with its reference (a run's, an adapter's base); "
                "right-click to start a run from it. Drop a Hugging Face folder on the window to add it."));
  setContextMenuPolicy(Qt::CustomContextMenu);
  connect(this, &QTreeWidget::itemDoubleClicked, this, &ModelsPanel::onDoubleClicked);
  connect(this, &QWidget::customContextMenuRequested, this, &ModelsPanel::onContextMenu);
}

bool ModelsPanel::isModelFolder(const QString &dir) {
  const QDir d(dir);
  return QFileInfo(dir).isDir() &&
         (d.exists(QStringLiteral("config.json")) || d.exists(QStringLiteral("adapter_config.json")) ||
          d.exists(QStringLiteral("gpt_config.json")) || d.exists(QStringLiteral("llama_config.json")));
}

void ModelsPanel::listRun(const QString &runDir) {
  const QDir dir(runDir);
  const core::RunReader run(runDir.toStdString());
  std::string reference;
  try {
    if (const auto info = run.runInfo())
      reference = info->referenceModel;
  } catch (const std::exception &) { // the Compare tab names the problem when the run is opened
  }
  for (int i = 0; i < topLevelItemCount(); ++i)
    if (topLevelItem(i)->text(1) == runDir)
      delete takeTopLevelItem(i--);
  auto *top = new QTreeWidgetItem(this, {dir.dirName(), runDir});
  for (const auto &model : run.models()) {
    QString name = QString::fromStdString(model.label);
    if (model.role == core::RunModelEntry::Role::Final)
      name = tr("final policy (%1)").arg(name);
    const QString path = QString::fromStdString(model.path);
    auto *item = new QTreeWidgetItem(top, {name, path});
    item->setData(1, kPathRole, path);
    item->setData(0, kReferenceRole, QString::fromStdString(reference));
    item->setData(1, kImageRole, model.image); // diffusion model folders do not open in Compare
    const QString summary = model.image ? QString() : summaryOf(path);
    item->setToolTip(0, summary.isEmpty() ? path : summary);
    item->setToolTip(1, path);
  }
  top->setExpanded(true);
}

QTreeWidgetItem *ModelsPanel::folderGroup() {
  for (int i = 0; i < topLevelItemCount(); ++i)
    if (topLevelItem(i)->data(0, kReferenceRole).toString() == kFolderGroup)
      return topLevelItem(i);
  auto *group = new QTreeWidgetItem(this, {tr("Model folders"), QString()});
  group->setData(0, kReferenceRole, kFolderGroup);
  group->setExpanded(true);
  return group;
}

QString ModelsPanel::addModelFolder(const QString &dir) {
  const QString path = QFileInfo(dir).absoluteFilePath();
  core::ModelFolderInfo info;
  try {
    info = core::inspectModelFolder(path.toStdString());
  } catch (const std::exception &e) {
    return QString::fromStdString(e.what());
  }
  auto *group = folderGroup();
  for (int i = 0; i < group->childCount(); ++i)
    if (group->child(i)->data(1, kPathRole).toString() == path)
      delete group->takeChild(i--);
  const QString summary = QString::fromStdString(core::modelSummaryLine(info));
  auto *item =
      new QTreeWidgetItem(group, {QStringLiteral("%1 — %2").arg(QDir(path).dirName(), summary), path});
  item->setData(1, kPathRole, path);
  // An adapter is compared with its base; a plain folder with itself (its samples side by side).
  item->setData(0, kReferenceRole, info.lora ? QString::fromStdString(info.baseModel) : path);
  QString tip = summary + QStringLiteral("\n") + tr("vocabulary %1").arg(info.vocabSize);
  if (!info.tokenizerFile.empty())
    tip += tr(" (%1)").arg(QString::fromStdString(info.tokenizerFile));
  tip += info.chatTemplate.empty() ? tr(", no chat template") : tr(", chat template");
  item->setToolTip(0, tip);
  item->setToolTip(1, path);
  group->setExpanded(true);
  setCurrentItem(item);
  return {};
}

void ModelsPanel::onDoubleClicked(QTreeWidgetItem *item) {
  const QString model = item->data(1, kPathRole).toString(),
                reference = item->data(0, kReferenceRole).toString();
  if (model.isEmpty())
    return;
  if (item->data(1, kImageRole).toBool()) {
    Q_EMIT imageModelChosen(model);
    return;
  }
  Q_EMIT compareRequested(reference.isEmpty() ? model : reference, model);
}

void ModelsPanel::onContextMenu(const QPoint &at) {
  QTreeWidgetItem *item = itemAt(at);
  const QString model = item ? item->data(1, kPathRole).toString() : QString();
  if (model.isEmpty() || item->data(1, kImageRole).toBool())
    return;
  QMenu menu(this);
  menu.addAction(tr("Compare with its reference"), this, [this, item] { onDoubleClicked(item); });
  menu.addAction(tr("New run from this model…"), this, [this, model] { Q_EMIT newRunRequested(model); });
  menu.exec(viewport()->mapToGlobal(at));
}

} // namespace preflab::ui
