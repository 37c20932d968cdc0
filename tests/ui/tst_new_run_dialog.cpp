// Tests NewRunDialog: every objective offered, core's validation shown per field, the resolved config.
#include "core/objectives/objective_info.h"
#include "ui/main_window.h"
#include "ui/training/new_run_dialog.h"

#include "tests/test_main.h"
#include <QComboBox>
#include <QPushButton>

#include <QtTest/QtTest>

using preflab::ui::NewRunDialog;

class TestNewRunDialog : public QObject {
  Q_OBJECT

private slots:
  void embeddedTaskIsValidAsLoaded() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    const auto c = d.config();
    QCOMPARE(QString::fromStdString(c.task), QStringLiteral("sentiment"));
    QCOMPARE(QString::fromStdString(c.lossType), QStringLiteral("dpo"));
    QVERIFY(QString::fromStdString(c.outputDir).startsWith(QDir::tempPath()));
  }

  void everyRegisteredObjectiveIsOffered() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    auto *combo = d.findChildren<QComboBox *>().at(0);
    QStringList offered;
    for (auto *c : d.findChildren<QComboBox *>())
      for (int i = 0; i < c->count(); ++i)
        offered << c->itemData(i).toString();
    for (const auto &info : preflab::core::objectiveInfos())
      QVERIFY2(offered.contains(QString::fromStdString(info.name)), info.name.c_str());
    Q_UNUSED(combo);
  }

  void invalidFieldsShowTheirReason_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("errorKey");
    QTest::addColumn<QString>("reasonContains");
    QTest::newRow("learning rate not a number") << "learning_rate"
                                                << "fast"
                                                << "learning_rate"
                                                << "number";
    QTest::newRow("learning rate zero") << "learning_rate"
                                        << "0"
                                        << "learning_rate"
                                        << "> 0";
    QTest::newRow("batch size zero") << "per_device_train_batch_size"
                                     << "0"
                                     << "per_device_train_batch_size"
                                     << ">= 1";
    QTest::newRow("missing dataset") << "task"
                                     << ""
                                     << "train_file"
                                     << "JSONL";
    QTest::newRow("empty name") << "name"
                                << ""
                                << "name"
                                << "name";
    QTest::newRow("model folder missing") << "model_name_or_path"
                                          << "/nonexistent/model"
                                          << "model_name_or_path"
                                          << "folder";
  }
  void invalidFieldsShowTheirReason() {
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, errorKey);
    QFETCH(QString, reasonContains);
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField(key, value);
    QVERIFY(!d.isValid());
    QVERIFY2(d.errors().contains(errorKey), qPrintable(QStringList(d.errors().keys()).join(",")));
    QVERIFY2(d.errors().value(errorKey).contains(reasonContains), qPrintable(d.errors().value(errorKey)));
    QPushButton *start = nullptr;
    for (auto *b : d.findChildren<QPushButton *>())
      if (b->text() == QStringLiteral("Start"))
        start = b;
    QVERIFY(start);
    QVERIFY(!start->isEnabled());
  }

  void aDatasetRunIsValidWithAnExistingFile() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField("task", "");
    d.setField("train_file", PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl");
    d.setField("loss_type", "simpo");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    const auto c = d.config();
    QVERIFY(c.task.empty());
    QCOMPARE(QString::fromStdString(c.lossType), QStringLiteral("simpo"));
    QCOMPARE(c.beta, preflab::core::objectiveInfo("simpo").defaultBeta); // the objective's default
  }
};

PREFLAB_TEST_MAIN(TestNewRunDialog)
#include "tst_new_run_dialog.moc"
