// Tests ImageSamplesView: grids found and ordered by step, labelled image, summary, sample table,
// text runs and empty folders explained, new grids of a live run picked up.
#include "ui/images/image_samples_view.h"

#include "tests/test_main.h"
#include <QComboBox>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>

#include <QtTest/QtTest>

using preflab::ui::ImageSamplesView;

namespace {

bool writeFile(const QString &path, const QByteArray &content) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
}

// A grid like the trainer's: two halves of 10 rows.
bool writeGrid(const QString &path, QColor colour) {
  QImage grid(2 * 40 + 12, 10 * 20, QImage::Format_Grayscale8);
  grid.fill(colour);
  return grid.save(path);
}

void makeImageRun(const QDir &dir) {
  QDir().mkpath(dir.filePath("samples"));
  QDir().mkpath(dir.filePath("eval"));
  QVERIFY(writeFile(dir.filePath("run_info.json"), R"({"task": "text-to-image", "loss_type": "dspo"})"));
  QVERIFY(writeGrid(dir.filePath("samples/grid-step-5.png"), Qt::gray));
  QVERIFY(writeGrid(dir.filePath("samples/grid-step-20.png"), Qt::black));
  QVERIFY(
      writeFile(dir.filePath("eval/summary.json"),
                R"({"steps": 20, "eval/win_rate": 0.625, "eval/win_rate_low": 0.5, "eval/win_rate_high": 0.75,
                        "eval/prompts": 100, "eval/oracle_reward": 1.2, "eval/oracle_reward_ref": 1.1,
                        "eval/class_accuracy": 0.8, "eval/class_accuracy_ref": 0.7, "eval/appeal": 0.9,
                        "eval/appeal_ref": 0.85, "eval/implicit_acc": 0.55, "eval/pairs": 40})"));
  QVERIFY(writeFile(
      dir.filePath("eval/samples.jsonl"),
      "{\"prompt\": \"a product photo of a bag\", \"seed\": 1, \"reward\": 1.3, \"reward_ref\": 1.0, "
      "\"class_prob\": 0.9, \"class_prob_ref\": 0.6}\n"
      "{\"prompt\": \"a product photo of a coat\", \"seed\": 2, \"reward\": 0.3, \"reward_ref\": 1.0, "
      "\"class_prob\": 0.1, \"class_prob_ref\": 0.6}\n{\"prompt\": \"a cat"));
}

} // namespace

class TestImageSamplesView : public QObject {
  Q_OBJECT

private slots:
  void showsNewestGridWithLabelsSummaryAndScores() {
    QTemporaryDir tmp;
    const QDir dir(tmp.path());
    makeImageRun(dir);
    QVERIFY(ImageSamplesView::isImageRun(tmp.path()));
    ImageSamplesView view;
    QString error;
    QVERIFY2(view.openRunFolder(tmp.path(), &error), qPrintable(error));
    QCOMPARE(view.gridSteps(), QStringList({"step 20", "step 5"})); // newest first, numeric order
    const QImage shown = view.shownImage();
    QVERIFY(!shown.isNull());
    QVERIFY(shown.width() > 96 && shown.height() > 24); // fitted to the view's width
    auto *zoom = view.findChildren<QComboBox *>().at(1);
    zoom->setCurrentIndex(2);                         // 2×
    QCOMPARE(view.shownImage().width(), 96 + 2 * 92); // class-name column + grid at 2x
    QCOMPARE(view.shownImage().height(), 24 + 2 * 200);
    zoom->setCurrentIndex(1); // 1×
    QCOMPARE(view.shownImage().width(), 96 + 92);
    QCOMPARE(qGray(view.shownImage().pixel(96 + 10, 24 + 10)), 0); // the step-20 grid (black) is on screen
    const QString summary = view.summaryText();
    QVERIFY2(summary.contains("0.625 [0.500, 0.750]"), qPrintable(summary));
    QVERIFY(summary.contains("100 held-out"));
    QVERIFY(summary.contains("implicit accuracy 0.550"));
    QCOMPARE(view.sampleRows(), 2); // the torn third line is not a row

    auto *step = view.findChildren<QComboBox *>().at(0);
    step->setCurrentIndex(1);
    QVERIFY(qGray(view.shownImage().pixel(96 + 10, 24 + 10)) > 100); // step 5 (grey)
  }

  void followsALiveRun() {
    QTemporaryDir tmp;
    const QDir dir(tmp.path());
    makeImageRun(dir);
    ImageSamplesView view;
    QVERIFY(view.openRunFolder(tmp.path()));
    QVERIFY(writeGrid(dir.filePath("samples/grid-step-40.png"), Qt::white));
    QTRY_COMPARE_WITH_TIMEOUT(view.gridSteps().value(0), QString("step 40"), 5000);
  }

  void explainsFoldersWithoutImages() {
    QTemporaryDir tmp;
    const QDir dir(tmp.path());
    QVERIFY(writeFile(dir.filePath("run_info.json"), R"({"task": "sentiment", "loss_type": "dpo"})"));
    QVERIFY(!ImageSamplesView::isImageRun(tmp.path()));
    ImageSamplesView view;
    QString error;
    QVERIFY(!view.openRunFolder(tmp.path(), &error));
    QVERIFY(error.contains("no image samples"));
    QVERIFY(view.summaryText().contains("no image samples"));
    QVERIFY(view.shownImage().isNull());
    QCOMPARE(view.sampleRows(), 0);
  }
};

PREFLAB_TEST_MAIN(TestImageSamplesView)
#include "tst_image_samples_view.moc"
