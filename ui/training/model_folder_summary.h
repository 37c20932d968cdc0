// ModelFolderSummary: what a chosen model folder is (family, size, vocabulary, chat template,
// adapter), shown under the New run dialog's model field.
#pragma once

#include <QString>
#include <QWidget>

class QLabel;
class QToolButton;

namespace preflab::ui {

// Reads a folder with core's inspectModelFolder (JSON files and safetensors headers, plus the
// tokenizer; no weight is loaded) and shows it in two lines, with a button that shows the chat
// template. The last folder read is remembered, so re-validating a form costs nothing. GUI thread.
class ModelFolderSummary : public QWidget {
  Q_OBJECT

public:
  explicit ModelFolderSummary(QWidget *parent = nullptr);

  // Shows `dir`; returns "" or why it cannot be trained (core's message, naming file and key).
  // An empty `dir` clears the summary.
  QString showFolder(const QString &dir);
  QString text() const; // the summary as plain text (for tests)
  QString chatTemplate() const { return m_template; }

private:
  void showTemplate();

  QLabel *m_label = nullptr;
  QToolButton *m_templateButton = nullptr;
  QString m_dir, m_error, m_template;
};

} // namespace preflab::ui
