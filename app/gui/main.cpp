// preflab: the desktop workbench. Wiring only: application object, command line, main window.
#include "ui/main_window.h"
#include "ui/training/run_controller.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDialog>
#include <QDir>
#include <QTimer>

#include <cstdio>

int main(int argc, char **argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName("PrefLab");
  QApplication::setApplicationName("PrefLab");
  QApplication::setApplicationVersion(PREFLAB_VERSION);

  QCommandLineParser parser;
  parser.setApplicationDescription(
      "PrefLab: preference-learning workbench. Opens the given datasets (JSONL), run folders and model "
      "folders (Hugging Face folders, PEFT adapters); with "
      "none, it starts ready to train the embedded sentiment-steering task with one button.");
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(
      "paths", "Dataset files (.jsonl), run folders, sweep folders or model folders to open", "[paths...]");
  const QCommandLineOption train("train", "Start the embedded sentiment-steering DPO run at once.");
  const QCommandLineOption screenshots(
      "screenshots", "Save a PNG of each main view into <dir> after <seconds>, then quit.", "dir");
  const QCommandLineOption delay("screenshot-delay", "Seconds to wait before the screenshots (default 3).",
                                 "seconds", "3");
  parser.addOptions({train, screenshots, delay});
  parser.process(app);

  preflab::ui::MainWindow window;
  bool done = false;
  if (parser.isSet(screenshots)) {
    // Armed before the paths open: opening a damaged folder shows a modal message whose own event
    // loop runs the timer; the message is saved too (dialog.png) and dismissed, so a scripted run
    // never waits for a click.
    const QString dir = parser.value(screenshots);
    QTimer::singleShot(int(1000 * parser.value(delay).toDouble()), &window, [&window, &done, dir] {
      QDir().mkpath(dir);
      while (auto *modal = qobject_cast<QDialog *>(QApplication::activeModalWidget())) {
        const QString path = QDir(dir).filePath(QStringLiteral("dialog.png"));
        if (modal->grab().save(path))
          std::printf("%s\n", qPrintable(path));
        modal->done(QDialog::Rejected);
        QApplication::processEvents();
      }
      for (const auto &path : window.saveScreenshots(dir))
        std::printf("%s\n", qPrintable(path));
      window.controller()->shutdown();
      done = true;
      QApplication::quit();
    });
  }
  window.show();
  for (const auto &path : parser.positionalArguments())
    window.openPath(path);
  if (parser.isSet(train))
    window.startEmbeddedRun();
  if (done) // the screenshots were taken inside a message's event loop: quit() ended only that one
    return 0;
  return app.exec();
}
