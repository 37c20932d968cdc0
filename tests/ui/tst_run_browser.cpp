// Tests RunBrowser, RunListModel, ConfigDiffModel and parseConfigYaml: opening folders, config view, config
// diff, errors.
#include "tests/test_main.h"
#include "ui/runs/config_diff_model.h"
#include "ui/runs/config_yaml.h"
#include "ui/runs/run_browser.h"
#include "ui/runs/run_folder_watcher.h"
#include "ui/runs/run_list_model.h"
#include "ui/runs/run_series_store.h"

#include <QAbstractItemModelTester>
#include <QDir>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace preflab::ui;

namespace {
const char *kConfigA = "# Resolved PrefLab training config (every key, defaults included)\n"
                       "task: sentiment\n"
                       "loss_type: dpo\n"
                       "beta: 0.10000000000000001\n"
                       "learning_rate: 0.0001\n"
                       "model:\n"
                       "  n_layer: 3\n"
                       "  n_head: 4\n"
                       "output_dir: runs/a\n"
                       "only_in_a: 1\n";
const char *kConfigB = "# Resolved PrefLab training config (every key, defaults included)\n"
                       "task: sentiment\n"
                       "loss_type: ipo\n"
                       "beta: 0.1\n"
                       "learning_rate: 0.00029999999999999997\n"
                       "model:\n"
                       "  n_layer: 2\n"
                       "  n_head: 4\n"
                       "output_dir: runs/b\n";

void writeFile(const QString &path, const QByteArray &bytes) {
  QFile file(path);
  QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
  file.write(bytes);
}

QString makeRun(const QTemporaryDir &root, const QString &name, const char *config, bool withMetrics = true) {
  QDir(root.path()).mkpath(name);
  const QString dir = root.filePath(name);
  if (config)
    writeFile(dir + "/config.yaml", config);
  if (withMetrics)
    writeFile(dir + "/metrics.jsonl", "{\"step\":1,\"loss\":0.69,\"time\":1.7e9}\n"
                                      "{\"step\":2,\"loss\":0.65,\"time\":1.7e9}\n");
  writeFile(dir + "/status.json",
            R"({"state":"finished","message":"finished 2 steps","step":2,"max_steps":2,"updated_at":1.0})");
  return QDir::cleanPath(dir);
}
} // namespace

class TestRunBrowser : public QObject {
  Q_OBJECT
private slots:
  void parseConfigYaml_data();
  void parseConfigYaml();
  void objectiveLabelNamesTheTrainer();
  void opensRunAndShowsConfig();
  void diffOfTwoConfigs();
  void rejectsNonRunFolders_data();
  void rejectsNonRunFolders();
  void metricsOnlyFolderOpens();
  void aFolderOfRunsOpensEachRun();
  void reopeningSelects();
  void closeRunForgetsSeries();
};

void TestRunBrowser::parseConfigYaml_data() {
  QTest::addColumn<QString>("text");
  QTest::addColumn<QString>("key");
  QTest::addColumn<QString>("value");
  QTest::newRow("flat") << "beta: 0.1\n"
                        << "beta"
                        << "0.1";
  QTest::newRow("nested block") << "model:\n  n_layer: 3\nbeta: 1\n"
                                << "model.n_layer"
                                << "3";
  QTest::newRow("after a block") << "model:\n  n_layer: 3\nbeta: 1\n"
                                 << "beta"
                                 << "1";
  QTest::newRow("quoted empty string") << "train_file: \"\"\n"
                                       << "train_file"
                                       << "\"\"";
  QTest::newRow("comment and CRLF") << "# c\r\nseed: 42\r\n"
                                    << "seed"
                                    << "42";
}

void TestRunBrowser::parseConfigYaml() {
  QFETCH(QString, text);
  QFETCH(QString, key);
  QFETCH(QString, value);
  const QMap<QString, QString> values = preflab::ui::parseConfigYaml(text);
  QVERIFY2(values.contains(key), qPrintable(QStringList(values.keys()).join(',')));
  QCOMPARE(values.value(key), value);
  QVERIFY(!values.contains("model")); // a block header is not a value
}

void TestRunBrowser::objectiveLabelNamesTheTrainer() {
  using preflab::ui::parseConfigYaml;
  using preflab::ui::runObjectiveLabel;
  QCOMPARE(runObjectiveLabel(parseConfigYaml("trainer: offline\nloss_type: ipo\n")), QStringLiteral("ipo"));
  QCOMPARE(runObjectiveLabel(parseConfigYaml("trainer: wro\nloss_type: dpo\nwro:\n  h: logit\n")),
           QStringLiteral("wro (h = logit)"));
  QCOMPARE(runObjectiveLabel(parseConfigYaml("trainer: d2po\nloss_type: dpo\n")),
           QStringLiteral("d2po (dpo)"));
  QCOMPARE(runObjectiveLabel(parseConfigYaml("trainer: mpo\nloss_type: dpo\n")), QStringLiteral("mpo"));
  QCOMPARE(runObjectiveLabel(parseConfigYaml("loss_type: kto\n")), QStringLiteral("kto")); // older runs
}

void TestRunBrowser::opensRunAndShowsConfig() {
  QTemporaryDir root;
  const QString dir = makeRun(root, "run-a", kConfigA);
  RunSeriesStore store;
  RunBrowser browser(&store);
  QAbstractItemModelTester runTester(browser.runModel(),
                                     QAbstractItemModelTester::FailureReportingMode::QtTest);
  QAbstractItemModelTester diffTester(browser.diffModel(),
                                      QAbstractItemModelTester::FailureReportingMode::QtTest);
  QSignalSpy opened(&browser, &RunBrowser::runOpened);
  QSignalSpy current(&browser, &RunBrowser::currentRunChanged);
  QVERIFY(browser.openRun(dir + "/"));
  QCOMPARE(opened.count(), 1);
  QCOMPARE(opened.first().at(0).toString(), dir);
  QCOMPARE(opened.first().at(1).toString(), dir);
  QCOMPARE(current.last().first().toString(), dir);
  QCOMPARE(browser.runDirs(), QStringList{dir});
  QCOMPARE(browser.selectedRunDirs(), QStringList{dir});
  QCOMPARE(browser.shownConfigText(), QString(kConfigA));
  const QAbstractItemModel *model = browser.runModel();
  QCOMPARE(model->index(0, RunListModel::Name).data().toString(), QString("run-a"));
  QCOMPARE(model->index(0, RunListModel::Objective).data().toString(), QString("dpo"));
  QCOMPARE(model->index(0, RunListModel::Folder).data().toString(), dir);
  // The watcher fills the store and the status columns.
  QTRY_COMPARE(store.pointCount(dir, "loss"), 2);
  QTRY_COMPARE(model->index(0, RunListModel::State).data().toString(), QString("finished"));
  QCOMPARE(model->index(0, RunListModel::Step).data().toString(), QString("2/2"));
  QVERIFY(browser.watcher(dir));
}

void TestRunBrowser::diffOfTwoConfigs() {
  QTemporaryDir root;
  const QString a = makeRun(root, "run-a", kConfigA);
  const QString b = makeRun(root, "run-b", kConfigB);
  RunSeriesStore store;
  RunBrowser browser(&store);
  QAbstractItemModelTester diffTester(browser.diffModel(),
                                      QAbstractItemModelTester::FailureReportingMode::QtTest);
  QVERIFY(browser.openRun(a));
  QVERIFY(browser.openRun(b));
  browser.selectRuns({a, b});
  QCOMPARE(browser.selectedRunDirs(), (QStringList{a, b}));
  const QAbstractItemModel *diff = browser.diffModel();
  // beta 0.10000000000000001 vs 0.1 is the same number: not a difference.
  QStringList keys;
  for (int row = 0; row < diff->rowCount(); ++row)
    keys.append(diff->index(row, 0).data().toString());
  QCOMPARE(keys, (QStringList{"learning_rate", "loss_type", "model.n_layer", "only_in_a", "output_dir"}));
  QCOMPARE(diff->headerData(1, Qt::Horizontal).toString(), QString("run-a"));
  QCOMPARE(diff->headerData(2, Qt::Horizontal).toString(), QString("run-b"));
  const int lossRow = keys.indexOf("loss_type");
  QCOMPARE(diff->index(lossRow, 1).data().toString(), QString("dpo"));
  QCOMPARE(diff->index(lossRow, 2).data().toString(), QString("ipo"));
  const int lrRow = keys.indexOf("learning_rate");
  QCOMPARE(diff->index(lrRow, 2).data().toString(), QString("3e-04")); // shortest round-trip form
  QCOMPARE(diff->index(lrRow, 2).data(Qt::ToolTipRole).toString(), QString("0.00029999999999999997"));
  const int onlyRow = keys.indexOf("only_in_a");
  QCOMPARE(diff->index(onlyRow, 2).data().toString(), QString(ConfigDiffModel::kMissing));
  QVERIFY(diff->index(onlyRow, 2).data(Qt::FontRole).value<QFont>().italic());
  browser.selectRuns({b});
  QCOMPARE(diff->rowCount(), 0);
  QCOMPARE(browser.shownConfigText(), QString(kConfigB));
}

void TestRunBrowser::rejectsNonRunFolders_data() {
  QTest::addColumn<QString>("relative");
  QTest::addColumn<QString>("expectInMessage");
  QTest::newRow("empty folder") << "empty"
                                << "no run folders inside it";
  QTest::newRow("missing path") << "does-not-exist"
                                << "not a folder";
  QTest::newRow("a file") << "empty/file.txt"
                          << "not a folder";
}

void TestRunBrowser::rejectsNonRunFolders() {
  QFETCH(QString, relative);
  QFETCH(QString, expectInMessage);
  QTemporaryDir root;
  QDir(root.path()).mkpath("empty");
  writeFile(root.filePath("empty/file.txt"), "x");
  RunSeriesStore store;
  RunBrowser browser(&store);
  QSignalSpy errors(&browser, &RunBrowser::errorOccurred);
  QSignalSpy opened(&browser, &RunBrowser::runOpened);
  const QString path = root.filePath(relative);
  QVERIFY(!browser.openRun(path));
  QCOMPARE(errors.count(), 1);
  const QString message = errors.first().first().toString();
  QVERIFY2(message.contains(QDir::toNativeSeparators(QDir::cleanPath(path))), qPrintable(message));
  QVERIFY2(message.contains(expectInMessage), qPrintable(message));
  QCOMPARE(opened.count(), 0);
  QCOMPARE(browser.runModel()->rowCount(), 0);
  QVERIFY(store.runIds().isEmpty());
}

// A sweep's folder: its run folders open, selected together; other entries are left alone.
void TestRunBrowser::aFolderOfRunsOpensEachRun() {
  QTemporaryDir root;
  QDir(root.path()).mkpath("sweep");
  const QString a = makeRun(root, "sweep/beta=0.1,loss_type=dpo", kConfigA);
  const QString b = makeRun(root, "sweep/beta=0.5,loss_type=dpo", kConfigB);
  QDir(root.path()).mkpath("sweep/.cache/sft");
  writeFile(root.filePath("sweep/summary.jsonl"), "{}\n");
  RunSeriesStore store;
  RunBrowser browser(&store);
  QSignalSpy opened(&browser, &RunBrowser::runOpened);
  QVERIFY(browser.openRun(root.filePath("sweep")));
  QCOMPARE(opened.count(), 2);
  QCOMPARE(browser.runDirs(), (QStringList{a, b}));
  QCOMPARE(browser.selectedRunDirs().size(), 2);
  QCOMPARE(browser.runModel()->rowCount(), 2);
}

void TestRunBrowser::metricsOnlyFolderOpens() {
  QTemporaryDir root;
  const QString dir = makeRun(root, "cli-run", nullptr);
  RunSeriesStore store;
  RunBrowser browser(&store);
  QVERIFY(browser.openRun(dir));
  QVERIFY(browser.shownConfigText().contains("no config.yaml"));
  QTRY_COMPARE(store.pointCount(dir, "loss"), 2);
}

void TestRunBrowser::reopeningSelects() {
  QTemporaryDir root;
  const QString a = makeRun(root, "run-a", kConfigA);
  const QString b = makeRun(root, "run-b", kConfigB);
  RunSeriesStore store;
  RunBrowser browser(&store);
  QSignalSpy opened(&browser, &RunBrowser::runOpened);
  QVERIFY(browser.openRun(a));
  QVERIFY(browser.openRun(b));
  QVERIFY(browser.openRun(a));
  QCOMPARE(opened.count(), 2);
  QCOMPARE(browser.runModel()->rowCount(), 2);
  QCOMPARE(browser.selectedRunDirs(), QStringList{a});
}

void TestRunBrowser::closeRunForgetsSeries() {
  QTemporaryDir root;
  const QString a = makeRun(root, "run-a", kConfigA);
  RunSeriesStore store;
  RunBrowser browser(&store);
  QAbstractItemModelTester runTester(browser.runModel(),
                                     QAbstractItemModelTester::FailureReportingMode::QtTest);
  QVERIFY(browser.openRun(a));
  QTRY_COMPARE(store.pointCount(a, "loss"), 2);
  browser.closeRun(a);
  QCOMPARE(browser.runModel()->rowCount(), 0);
  QVERIFY(!store.hasRun(a));
  QVERIFY(!browser.watcher(a));
}

PREFLAB_TEST_MAIN(TestRunBrowser)
#include "tst_run_browser.moc"
