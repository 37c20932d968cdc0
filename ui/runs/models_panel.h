// ModelsPanel: the Models dock: each opened run's models (final policy, checkpoints, reference)
// and the model folders opened on their own (Hugging Face folders, PEFT adapters).
#pragma once

#include <QTreeWidget>

namespace preflab::ui {

// Each row names a model and its folder, with what the folder holds (family, size, adapter) in
// its tooltip. Double-clicking a text model asks to compare it with its reference (the run's, an
// adapter's base); the context menu also starts a new run from it. GUI thread.
class ModelsPanel : public QTreeWidget {
  Q_OBJECT

public:
  explicit ModelsPanel(QWidget *parent = nullptr);

  // Lists (or relists) the models of the run folder `runDir`.
  void listRun(const QString &runDir);
  // Adds a model folder under "Model folders"; returns "" or why it is not one (naming file and key).
  QString addModelFolder(const QString &dir);
  // Whether `dir` looks like a model folder (config.json, adapter_config.json, gpt_config.json or llama_config.json).
  static bool isModelFolder(const QString &dir);

Q_SIGNALS:
  void compareRequested(const QString &reference, const QString &model);
  void imageModelChosen(const QString &model); // a diffusion model: its samples are in Images
  void newRunRequested(const QString &model);

private:
  void onDoubleClicked(QTreeWidgetItem *item);
  void onContextMenu(const QPoint &at);
  QTreeWidgetItem *folderGroup();
};

} // namespace preflab::ui
