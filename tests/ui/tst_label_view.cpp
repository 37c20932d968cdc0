// Tests LabelView: keys and buttons record decisions in the store in the stored candidates' terms
// (whatever order the annotator was shown), notes and time go with them, undo goes back, the
// "not labelled by me" queue shrinks, and nothing is recorded without an annotator.
#include "tests/test_main.h"
#include "ui/labels/label_view.h"

#include "core/api/datasets.h"
#include "core/api/labels.h"
#include "core/io/resource_paths.h"

#include <QFileInfo>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <fstream>

using preflab::ui::LabelView;
using namespace preflab::core;

namespace {

QString makeLabelStore(const QTemporaryDir &tmp, int n, bool images = false, const QString &stem = "p") {
  const std::string candidates = tmp.filePath(stem + "-c.jsonl").toStdString();
  std::ofstream out(candidates);
  for (int i = 1; i <= n; ++i) {
    if (images)
      out << "{\"id\": \"i" << i << "\", \"caption\": \"a " << (i % 2 ? "red" : "green")
          << " square\", \"image_a\": \"" PREFLAB_TEST_DATA_DIR
             "/image_pairs/red.jpg\", \"image_b\": \"" PREFLAB_TEST_DATA_DIR "/image_pairs/green.png\"}\n";
    else
      out << "{\"id\": \"t" << i << "\", \"prompt\": \"Review " << i
          << ": the film was\", \"completion_a\": \" a quiet, lovely and moving story " << i
          << "\", \"completion_b\": \" a quiet, dull and tiring story " << i << "\"}\n";
  }
  out.close();
  const QString store = tmp.filePath(stem + ".preflab-labels");
  LabelStore s(store.toStdString());
  s.addItems(readLabelCandidates(candidates));
  return store;
}

void pressKey(LabelView &v, int key, Qt::KeyboardModifiers mods = Qt::NoModifier) {
  QTest::keyClick(&v, Qt::Key(key), mods);
  QApplication::processEvents();
}

} // namespace

class TestLabelView : public QObject {
  Q_OBJECT

private slots:
  void keysRecordDecisionsInStoredTerms() {
    QTemporaryDir tmp;
    const QString path = makeLabelStore(tmp, 6);
    LabelView v;
    QVERIFY(v.openStore(path));
    v.setAnnotator(QStringLiteral("ann"));
    v.show();
    v.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&v));
    v.setFocus();
    QCOMPARE(v.queueSize(), 6);
    // What is on screen as A is the second stored candidate when the coin says swapped.
    const bool swapped1 = v.shownSwapped();
    QVERIFY(v.shownText(0).contains(swapped1 ? "dull" : "lovely"));
    for (auto *edit : v.findChildren<QLineEdit *>())
      if (edit->placeholderText().startsWith("optional note"))
        edit->setText(QStringLiteral("A reads better"));
    pressKey(v, Qt::Key_1); // A is better
    QVERIFY2(v.statusText().startsWith("saved"), qPrintable(v.statusText()));
    QCOMPARE(v.position(), 1);
    const bool swapped2 = v.shownSwapped();
    pressKey(v, Qt::Key_Right); // B is better
    pressKey(v, Qt::Key_T);
    pressKey(v, Qt::Key_B);
    pressKey(v, Qt::Key_S);
    LabelStore store(path.toStdString());
    auto events = store.events();
    QCOMPARE(events.size(), std::size_t(5));
    QCOMPARE(events[0].choice, swapped1 ? LabelChoice::Second : LabelChoice::First);
    QCOMPARE(events[0].swapped, swapped1);
    QCOMPARE(QString::fromStdString(events[0].note), QStringLiteral("A reads better"));
    QVERIFY(events[0].seconds >= 0.0);
    QCOMPARE(events[1].choice, swapped2 ? LabelChoice::First : LabelChoice::Second);
    QCOMPARE(events[2].choice, LabelChoice::Tie);
    QCOMPARE(events[3].choice, LabelChoice::BothBad);
    QCOMPARE(events[4].choice, LabelChoice::Skip);
    QCOMPARE(QString::fromStdString(events[1].note), QString()); // a note goes with one decision
    // Undo twice: the skip, then the both-bad; the view goes back to that item.
    const auto bothBadItem = events[3].item;
    pressKey(v, Qt::Key_Z, Qt::ControlModifier);
    pressKey(v, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(v.currentItem(), bothBadItem);
    QCOMPARE(store.currentDecisions().size(), std::size_t(3));
    QCOMPARE(store.events().size(), std::size_t(7)); // undos are events too
    QVERIFY(v.progressText().contains("3 / 6"));
    // N / P move without deciding.
    const int at = v.position();
    pressKey(v, Qt::Key_N);
    QCOMPARE(v.position(), at + 1);
    pressKey(v, Qt::Key_P);
    QCOMPARE(v.position(), at);
  }

  void unlabelledQueueShrinksAndNeedsAnAnnotator() {
    QTemporaryDir tmp;
    const QString path = makeLabelStore(tmp, 3);
    LabelView v;
    QVERIFY(v.openStore(path));
    v.setAnnotator(QString());
    v.chooseA();
    QVERIFY(v.statusText().contains("name"));
    QCOMPARE(LabelStore(path.toStdString()).events().size(), std::size_t(0));
    v.setAnnotator(QStringLiteral("bob"));
    v.setFilter(LabelView::Filter::Unlabelled);
    QCOMPARE(v.queueSize(), 3);
    v.chooseB();
    QCOMPARE(v.queueSize(), 2);
    v.chooseA();
    v.chooseTie();
    QCOMPARE(v.queueSize(), 0);
    v.setFilter(LabelView::Filter::Mine);
    QCOMPARE(v.queueSize(), 3);
    // A second annotator who disagrees on one item makes it show under "disagree".
    v.setAnnotator(QStringLiteral("cat"));
    v.setFilter(LabelView::Filter::All);
    v.skip();
    v.chooseTie(); // item 2: bob said A (stored first or second), cat says tie
    v.setFilter(LabelView::Filter::Disagreed);
    QCOMPARE(v.queueSize(), 1);
    QVERIFY2(v.agreementText().contains("Krippendorff") && v.agreementText().contains("bob ~ cat"),
             qPrintable(v.agreementText()));
  }

  void trainOnLabelsExportsPairsPrefLabReads() {
    QTemporaryDir tmp;
    const QString path = makeLabelStore(tmp, 4);
    LabelView v;
    QVERIFY(v.openStore(path));
    v.setAnnotator(QStringLiteral("ann"));
    QSignalSpy train(&v, &LabelView::trainRequested);
    QVERIFY(v.exportForTraining().isEmpty()); // nothing labelled yet
    QVERIFY(v.statusText().contains("no labelled pairs"));
    v.chooseA();
    v.chooseB();
    v.chooseTie();
    const QString file = v.exportForTraining();
    QVERIFY(file.endsWith("p-pairs.jsonl"));
    QCOMPARE(train.count(), 1);
    QCOMPARE(train.at(0).at(1).toBool(), false);
    QCOMPARE(train.at(0).at(2).toString(), QString()); // hand-written candidates name no model
    const auto pairs = readTextPreferences(file.toStdString());
    QCOMPARE(pairs.pairs.size(), std::size_t(2)); // the tie is not a pair
    QCOMPARE(*pairs.pairs[0].raterFraction, 1.0);
  }

  void refusesWhatIsNotAStore() {
    QTemporaryDir tmp;
    const QString junk = tmp.filePath("junk.preflab-labels");
    std::ofstream(junk.toStdString()) << std::string(2048, 'x');
    LabelView v;
    QString error;
    QVERIFY(!v.openStore(junk, &error));
    QVERIFY2(error.contains("junk.preflab-labels"), qPrintable(error));
    QVERIFY(!v.importCandidates(tmp.filePath("c.jsonl"), &error)); // no store open
    QVERIFY(error.contains("store"));
  }

  // Items and decisions another connection commits (a run asking for gold labels, a second
  // annotator's process) appear without reopening the store.
  void showsWhatOtherProcessesAdd() {
    QTemporaryDir tmp;
    const QString path = makeLabelStore(tmp, 2);
    LabelView v;
    QVERIFY(v.openStore(path));
    v.setAnnotator(QStringLiteral("ann"));
    QCOMPARE(v.queueSize(), 2);
    LabelStore other(path.toStdString());
    std::vector<LabelItem> more(1);
    other.decide(other.items()[0].key, "bob", LabelChoice::First, false);
    v.next();
    v.chooseA(); // the annotator decides the last item and stays on it
    const auto last = v.currentItem();
    more[0] = {"late", "text", "a late prompt", {" one", " two"}, "elsewhere", 1};
    other.addItems(more);
    QTRY_COMPARE_WITH_TIMEOUT(v.queueSize(), 3, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(v.queueCell(0, 3), QStringLiteral("1"), 5000); // bob's vote
    // The next key goes to an item not decided yet, not back to the decided one.
    QVERIFY(v.currentItem() != last);
    v.chooseB();
    LabelStore check(path.toStdString());
    QCOMPARE(check.currentDecisions().size(), std::size_t(3)); // bob's, and ann's two
  }

  // Generate in the app: two samples per prompt in a worker thread, imported into the store when
  // done; labeling goes on meanwhile.
  void generatesTextCandidatesInAWorker() {
    QTemporaryDir tmp;
    LabelView v;
    QVERIFY(v.openStore(tmp.filePath("gen.preflab-labels")));
    QCOMPARE(v.queueSize(), 0);
    CandidateGenerationRequest r;
    r.model = PREFLAB_TEST_DATA_DIR "/ui_compare/model_a";
    r.prompts = {"the film was", "this story", "a movie about", "the plot"};
    r.seed = 3;
    r.sampling.maxNewTokens = 10;
    r.batchSize = 2;
    QSignalSpy done(&v, &LabelView::jobFinished);
    QVERIFY(v.generateCandidates(r));
    QVERIFY(v.busy());
    QVERIFY(!v.generateCandidates(r)); // one job at a time
    QVERIFY(done.wait(60000));
    QVERIFY2(done.takeFirst().at(0).toString().isEmpty(), qPrintable(v.statusText()));
    QVERIFY(!v.busy());
    QVERIFY2(v.statusText().startsWith("generated"), qPrintable(v.statusText()));
    QVERIFY(QFileInfo::exists(tmp.filePath("gen-gen1.jsonl")));
    QCOMPARE(v.nextGeneratedPath(), tmp.filePath("gen-gen2.jsonl"));
    LabelStore store(v.storePath().toStdString());
    const auto items = store.items();
    QVERIFY(items.size() >= 3);
    QCOMPARE(v.queueSize(), int(items.size()));
    QCOMPARE(items[0].item.prompt, std::string("the film was"));
    QVERIFY(items[0].item.candidates[0] != items[0].item.candidates[1]);
    QCOMPARE(v.queueCell(0, 1), QString::fromStdString(items[0].item.id));
    // Training on generated pairs proposes the model they came from.
    v.setAnnotator(QStringLiteral("ann"));
    v.chooseA();
    v.chooseB();
    QSignalSpy train(&v, &LabelView::trainRequested);
    QVERIFY(!v.exportForTraining().isEmpty());
    QCOMPARE(train.at(0).at(2).toString(), QString::fromStdString(r.model));
  }

  // Two images per caption from the embedded diffusion model.
  void generatesImageCandidates() {
    QTemporaryDir tmp;
    LabelView v;
    QVERIFY(v.openStore(tmp.filePath("img.preflab-labels")));
    CandidateGenerationRequest r;
    r.model = embeddedResource("fashion-reference");
    r.prompts = builtInLabelPrompts(true, 2, 0);
    r.imageSampling.steps = 2;
    QSignalSpy done(&v, &LabelView::jobFinished);
    QVERIFY(v.generateCandidates(r));
    QVERIFY(done.wait(60000));
    QVERIFY2(v.statusText().contains("2 image pair"), qPrintable(v.statusText()));
    LabelStore store(v.storePath().toStdString());
    QCOMPARE(store.items().size(), std::size_t(2));
    QCOMPARE(store.items()[1].item.kind, std::string("image"));
    QVERIFY(QFileInfo::exists(QString::fromStdString(store.items()[1].item.candidates[1])));
  }

  // Rank by models: each text pair gets |margin| and difficulty, and the queue follows the order.
  void ranksTheQueueByInformativeness() {
    QTemporaryDir tmp;
    const QString path = makeLabelStore(tmp, 6);
    LabelView v;
    QVERIFY(v.openStore(path));
    v.setAnnotator(QStringLiteral("ann"));
    InformativenessRequest r;
    r.policy = PREFLAB_TEST_DATA_DIR "/ui_compare/model_a";
    r.reference = PREFLAB_TEST_DATA_DIR "/ui_compare/model_b";
    r.beta = 0.1;
    QSignalSpy done(&v, &LabelView::jobFinished);
    QVERIFY(v.rankItems(r));
    QVERIFY(done.wait(60000));
    QVERIFY2(done.takeFirst().at(0).toString().isEmpty(), qPrintable(v.statusText()));
    const auto queue = v.queue();
    QCOMPARE(queue.size(), 6);
    double last = -1;
    for (auto key : queue) {
      const auto s = v.score(key);
      QVERIFY(s.has_value());
      QVERIFY(std::abs(s->margin) >= last);
      last = std::abs(s->margin);
    }
    QVERIFY(std::abs(v.score(queue[0])->margin) < std::abs(v.score(queue[5])->margin));
    QCOMPARE(v.queueCell(0, 4), QString::number(std::abs(v.score(queue[0])->margin), 'f', 4));
    v.setOrder(LabelView::Order::Difficulty);
    last = -1e300;
    for (auto key : v.queue()) {
      QVERIFY(v.score(key)->difficulty >= last);
      last = v.score(key)->difficulty;
    }
    v.setOrder(LabelView::Order::Stored);
    QCOMPARE(v.queueCell(0, 1), QStringLiteral("t1"));
    // A model folder that is not there: an error in the status line, nothing scored anew.
    r.policy = tmp.filePath("missing").toStdString();
    QVERIFY(v.rankItems(r));
    QVERIFY(done.wait(60000));
    QVERIFY(!done.takeFirst().at(0).toString().isEmpty());
    QVERIFY2(v.statusText().startsWith("NOT ranked"), qPrintable(v.statusText()));
    QVERIFY(v.score(queue[0]).has_value());
    // Another store: its items are not the ranked ones, whatever their row ids.
    QVERIFY(v.openStore(makeLabelStore(tmp, 3, false, "other")));
    QVERIFY(!v.score(v.queue()[0]).has_value());
    QCOMPARE(v.queueCell(0, 4), QString());
  }

  // Screenshot driver, off by default: PREFLAB_LABEL_SCREENSHOT=out.png [PREFLAB_LABEL_IMAGES=1].
  // Run under xvfb-run -a -s '-screen 0 1400x1000x24' with QT_QPA_PLATFORM=xcb.
  void screenshot() {
    const QString out = qEnvironmentVariable("PREFLAB_LABEL_SCREENSHOT");
    if (out.isEmpty())
      QSKIP("set PREFLAB_LABEL_SCREENSHOT=<png>");
    QTemporaryDir tmp;
    const QString path = makeLabelStore(tmp, 50, qEnvironmentVariableIsSet("PREFLAB_LABEL_IMAGES"));
    LabelView v;
    v.resize(1200, 700);
    QVERIFY(v.openStore(path));
    v.setAnnotator(QStringLiteral("ann"));
    v.show();
    QVERIFY(QTest::qWaitForWindowExposed(&v));
    v.chooseA();
    v.chooseB();
    QTest::qWait(300);
    v.next(); // re-show at the final size
    v.previous();
    QTest::qWait(200);
    QVERIFY(v.grab().save(out));
  }
};

PREFLAB_TEST_MAIN(TestLabelView)
#include "tst_label_view.moc"
