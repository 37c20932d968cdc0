// Tests MainWindow wiring: tabs and docks, opening run folders and datasets by path and by drop.
#include "core/jobs/text_training.h"
#include "core/labels/label_store.h"
#include "core/train/text_train_config.h"
#include "ui/labels/label_view.h"
#include "ui/main_window.h"
#include "ui/runs/run_series_store.h"
#include "ui/sweep/sweep_table_model.h"
#include "ui/sweep/sweep_view.h"
#include "ui/training/run_controller.h"

#include "tests/test_main.h"
#include <QDockWidget>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QMimeData>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTreeWidget>

#include <QtTest/QtTest>

using preflab::ui::MainWindow;

namespace {

// A run folder as preflab-cli writes it (config, metrics, status), small enough to write here.
QString writeRunFolder(const QTemporaryDir &tmp, const QString &name) {
  QDir dir(tmp.filePath(name));
  dir.mkpath(QStringLiteral("checkpoints/step-2"));
  auto write = [&](const QString &file, const QByteArray &text) {
    QFile f(dir.filePath(file));
    f.open(QIODevice::WriteOnly);
    f.write(text);
  };
  dir.mkpath(QStringLiteral("checkpoints/step-3")); // no trainer_state.json: incomplete, not listed
  write("checkpoints/step-2/trainer_state.json", "{\"global_step\": 2}\n");
  write("config.yaml", "task: \"\"\nloss_type: dpo\nbeta: 0.1\n");
  write("metrics.jsonl", "{\"step\":1,\"time\":1700000000.0,\"loss\":0.69}\n"
                         "{\"step\":2,\"time\":1700000001.0,\"loss\":0.61}\n");
  write("status.json", "{\"state\":\"finished\",\"message\":\"done\",\"step\":2,\"max_steps\":2}\n");
  return dir.absolutePath();
}

} // namespace

class TestMainWindow : public QObject {
  Q_OBJECT

private slots:
  void initTestCase() { QStandardPaths::setTestModeEnabled(true); } // settings kept apart

  void hasTheViewsAndDocks() {
    MainWindow w;
    QStringList tabs;
    for (int i = 0; i < w.tabs()->count(); ++i)
      tabs << w.tabs()->tabText(i);
    QCOMPARE(tabs, (QStringList{"Curves", "Compare", "Pairs", "Dataset", "Images", "Label", "Sweep"}));
    QStringList docks;
    for (auto *d : w.findChildren<QDockWidget *>())
      docks << d->windowTitle();
    for (const auto &name : {"Runs", "Datasets", "Models", "Diagnostics"})
      QVERIFY2(docks.contains(name), name);
    QCOMPARE(QString::fromStdString(MainWindow::embeddedConfig().task), QStringLiteral("sentiment"));
  }

  void opensARunFolderWrittenByTheCli() {
    QTemporaryDir tmp;
    const QString run = writeRunFolder(tmp, "cli-run");
    MainWindow w;
    QVERIFY(w.openPath(run));
    QTRY_VERIFY(w.store()->hasRun(run));
    QTRY_COMPARE(w.store()->pointCount(run, "loss"), 2);
    QTreeWidget *models = nullptr; // the Models dock's tree (the Label tab has a tree too)
    for (auto *d : w.findChildren<QDockWidget *>())
      if (d->windowTitle() == QLatin1String("Models"))
        models = d->findChild<QTreeWidget *>();
    QVERIFY(models);
    QTRY_COMPARE(models->topLevelItemCount(), 1);
    QCOMPARE(models->topLevelItem(0)->childCount(), 1); // checkpoints/step-2
  }

  void opensALabelStoreInTheLabelTab() {
    QTemporaryDir tmp;
    const QString path = tmp.filePath("project.preflab-labels");
    MainWindow w;
    QVERIFY(w.openPath(path)); // a new store is created
    QCOMPARE(w.tabs()->tabText(w.tabs()->currentIndex()), QStringLiteral("Label"));
    auto *labels = w.findChild<preflab::ui::LabelView *>();
    QVERIFY(labels);
    QCOMPARE(labels->storePath(), path);
    QVERIFY(QFileInfo::exists(path));
  }

  // A D2PO run with a person as its gold labeller asks for labels: the Label tab opens on the
  // run's store, shows only the open questions and says the run waits; answering them all says
  // the run goes on.
  void aRunWaitingForGoldLabelsOpensTheLabelTab() {
    QTemporaryDir tmp;
    const QString path = tmp.filePath("gold.preflab-labels");
    {
      preflab::core::LabelStore store(path.toStdString());
      std::vector<preflab::core::LabelItem> items(2);
      items[0] = {"gold-1", "text", "the film", {" was good", " was bad"}, "gold batch 1", 1};
      items[1] = {"gold-2", "text", "the plot", {" is fine", " is dull"}, "gold batch 1", 2};
      store.addItems(items);
    }
    MainWindow w;
    auto *labels = w.findChild<preflab::ui::LabelView *>();
    QVERIFY(labels);
    labels->setAnnotator(QStringLiteral("someone"));
    emit w.controller()->labelsWanted(QStringLiteral("run-1"), path, QStringLiteral("ann"), 2, 2);
    QCOMPARE(labels->annotator(), QStringLiteral("ann")); // the one whose decisions the run counts
    QCOMPARE(w.tabs()->tabText(w.tabs()->currentIndex()), QStringLiteral("Label"));
    QCOMPARE(labels->storePath(), path);
    QCOMPARE(labels->queueSize(), 2);
    QLabel *banner = nullptr;
    for (auto *l : labels->findChildren<QLabel *>())
      if (l->text().startsWith("The run waits"))
        banner = l;
    QVERIFY(banner);
    QVERIFY(banner->text().contains("2 of 2"));
    labels->chooseA();
    labels->chooseB();
    QCOMPARE(labels->queueSize(), 0);
    QVERIFY2(banner->text().startsWith("Every question is answered"), qPrintable(banner->text()));
    const auto decided = preflab::core::LabelStore(path.toStdString()).currentDecisions();
    QCOMPARE(decided.size(), std::size_t(2));
    QCOMPARE(decided[0].annotator, std::string("ann"));
  }

  void opensADatasetByDrop() {
    MainWindow w;
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl")});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w, &drop);
    QCOMPARE(w.tabs()->tabText(w.tabs()->currentIndex()), QStringLiteral("Dataset"));
    auto *datasets = w.findChild<QListWidget *>();
    QVERIFY(datasets);
    QTRY_COMPARE(datasets->count(), 1);
    QCOMPARE(datasets->item(0)->text(), QStringLiteral("pairs.jsonl"));
  }

  // A run cancelled at step 6 (as quitting the app does) continues from its checkpoint.
  void resumesACancelledRunFolder() {
    QTemporaryDir tmp;
    auto config = preflab::core::loadTextTrainConfig(PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml");
    config.trainFile = PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl";
    config.outputDir = tmp.filePath("run").toStdString();
    std::atomic<bool> cancel{false};
    preflab::core::TrainerCallbacks cb;
    cb.onLog = [&](const preflab::core::StepRecord &r) { cancel = r.step >= 6; };
    QCOMPARE(int(preflab::core::runTextTraining(config, {}, cb, &cancel).state),
             int(preflab::core::RunState::Cancelled));
    MainWindow w;
    QSignalSpy finished(w.controller(), &preflab::ui::RunController::finished);
    const QString id = w.resumeRunFolder(tmp.filePath("run"));
    QVERIFY(!id.isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    const auto result = finished.at(0).at(1).value<preflab::ui::RunResult>();
    QCOMPARE(result.phase, preflab::ui::RunPhase::Finished);
    QCOMPARE(result.steps, qint64(12));
  }

  // A sweep file from the app: every point through the queue, each a run folder under the sweep
  // folder, summary.jsonl as the CLI writes it, and the Sweep tab filled in.
  void runsASweepFileThroughTheQueue() {
    QTemporaryDir tmp;
    QFile tiny(PREFLAB_TEST_DATA_DIR "/tiny_train/config.yaml");
    QVERIFY(tiny.open(QIODevice::ReadOnly));
    QString base = QString::fromUtf8(tiny.readAll());
    base.replace("train_file: pairs.jsonl", "train_file: " PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl");
    base.replace("max_steps: 12", "max_steps: 4");
    base.replace("save_steps: 4", "save_steps: 0");
    auto write = [&](const QString &name, const QString &text) {
      QFile f(tmp.filePath(name));
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(text.toUtf8());
    };
    write("base.yaml", base);
    const QString sweepDir = tmp.filePath("sweep");
    write("sweep.yaml", "base: base.yaml\noutput_dir: " + sweepDir + "\ngrid:\n  beta: [0.1, 1.0]\n");
    write("bad.yaml", "base: base.yaml\noutput_dir: " + tmp.filePath("bad") + "\ngrid:\n  beta: [0.1, -1]\n");
    MainWindow w;
    QString error;
    QVERIFY(w.startSweepFile(tmp.filePath("bad.yaml"), &error).isEmpty());
    QVERIFY2(error.contains("bad.yaml") && error.contains("beta=-1") && error.contains("beta"),
             qPrintable(error));
    QCOMPARE(w.controller()->activeCount(), 0); // nothing queued
    QSignalSpy finished(w.controller(), &preflab::ui::RunController::finished);
    const QStringList ids = w.startSweepFile(tmp.filePath("sweep.yaml"), &error);
    QCOMPARE(ids.size(), 2);
    QCOMPARE(w.tabs()->currentWidget(), static_cast<QWidget *>(w.sweepView()));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 120000);
    QFile summary(sweepDir + "/summary.jsonl");
    QVERIFY(summary.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(summary.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 2);
    for (const auto &line : lines) {
      const auto row = QJsonDocument::fromJson(line.toUtf8()).object();
      QCOMPARE(row["state"].toString(), QStringLiteral("finished"));
      QVERIFY(row["metrics"].toObject().contains("loss"));
    }
    QCOMPARE(w.sweepView()->model()->rowCount(), 2);
    QTRY_COMPARE(w.sweepView()->model()->sweepRow(1).state, std::string("finished"));
    // Run again: both points finished, nothing to queue.
    QVERIFY(w.startSweepFile(tmp.filePath("sweep.yaml"), &error).isEmpty());
    QCOMPARE(w.controller()->activeCount(), 0);
  }

  void closesAtOnceWithNoRunGoing() {
    MainWindow w;
    w.show();
    QCOMPARE(w.controller()->activeCount(), 0);
    QVERIFY(w.close());
  }
};

PREFLAB_TEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
