// Tests ModelsPanel: model folders opened on their own are listed with what they hold, an adapter
// compares with its base, and a folder that is not a model is refused with core's reason.
#include "ui/runs/models_panel.h"

#include "tests/test_main.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

using preflab::ui::ModelsPanel;

namespace {

// Copies of the qwen3 test model and of the LoRA adapter over it (base "../qwen3").
QString copyCases(const QTemporaryDir &tmp) {
  for (const QString name : {QStringLiteral("qwen3"), QStringLiteral("lora-qwen3")}) {
    QDir().mkpath(tmp.filePath(name));
    const QDir from(PREFLAB_TEST_DATA_DIR "/hf_llama/" + name);
    for (const QString &file : from.entryList(QDir::Files))
      QFile::copy(from.filePath(file), tmp.filePath(name + "/" + file));
  }
  return tmp.path();
}

} // namespace

class TestModelsPanel : public QObject {
  Q_OBJECT

private slots:
  void modelFoldersAreListedAndCompared() {
    QTemporaryDir tmp;
    const QDir root(copyCases(tmp));
    ModelsPanel panel;
    QCOMPARE(panel.addModelFolder(root.filePath("qwen3")), QString());
    QCOMPARE(panel.addModelFolder(root.filePath("lora-qwen3")), QString());
    QCOMPARE(panel.addModelFolder(root.filePath("qwen3")), QString()); // again: listed once
    QCOMPARE(panel.topLevelItemCount(), 1);
    QTreeWidgetItem *group = panel.topLevelItem(0);
    QCOMPARE(group->childCount(), 2);
    QVERIFY2(group->child(0)->text(0).startsWith("lora-qwen3 — LoRA r=4 on qwen3"),
             qPrintable(group->child(0)->text(0)));
    QVERIFY2(group->child(1)->text(0).startsWith("qwen3 — qwen3 · "), qPrintable(group->child(1)->text(0)));
    QVERIFY(group->child(1)->toolTip(0).contains("vocabulary 300"));
    QSignalSpy compare(&panel, &ModelsPanel::compareRequested);
    Q_EMIT panel.itemDoubleClicked(group->child(0), 0);
    QCOMPARE(compare.count(), 1);
    QCOMPARE(QDir(compare.at(0).at(0).toString()).canonicalPath(),
             QDir(root.filePath("qwen3")).canonicalPath());
    QCOMPARE(compare.at(0).at(1).toString(), root.filePath("lora-qwen3"));
    QVERIFY(ModelsPanel::isModelFolder(root.filePath("qwen3")));
    QVERIFY(!ModelsPanel::isModelFolder(root.path()));
    QVERIFY(panel.addModelFolder(root.path()).contains("not a model folder"));
  }
};

PREFLAB_TEST_MAIN(TestModelsPanel)
#include "tst_models_panel.moc"
