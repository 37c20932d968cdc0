// Tests the Compare view: the table model, colours, tooltips, a real generation on tiny models, run folders,
// errors.
#include "ui/compare/compare_table_model.h"
#include "ui/compare/compare_view.h"
#include "ui/compare/delta_legend.h"
#include "ui/compare/token_text_browser.h"

#include "tests/test_main.h"
#include <QAbstractItemModelTester>
#include <QTableView>

#include <QtTest/QtTest>

#include <cmath>

using preflab::core::ComparedPrompt;
using preflab::core::ComparedText;
using preflab::core::TokenDelta;
using preflab::ui::CompareRow;
using preflab::ui::CompareTableModel;
using preflab::ui::CompareView;
using preflab::ui::DeltaLegend;
using preflab::ui::TokenTextBrowser;

namespace {
// Two random tiny GPT-2 folders (byte tokenizer, block 64), written by core.compare_tools.
QString fixtureModel(const char *name) {
  return QStringLiteral(PREFLAB_TEST_DATA_DIR "/ui_compare/") + name;
}

bool writeFile(const QString &path, const QByteArray &content) {
  QFile f(path);
  return f.open(QIODevice::WriteOnly) && f.write(content) == content.size();
}

ComparedPrompt result(double scoreA, double scoreB) {
  ComparedPrompt p;
  p.prompt = "the film";
  p.a.text = " was fine.";
  p.a.score = scoreA;
  p.b.text = " was great.";
  p.b.score = scoreB;
  return p;
}

std::vector<CompareRow> threeRows() {
  std::vector<CompareRow> rows(3);
  for (int i = 0; i < 3; ++i) {
    rows[std::size_t(i)].prompt = QStringLiteral("prompt %1").arg(i);
    rows[std::size_t(i)].seed = quint64(100 + i);
    rows[std::size_t(i)].fixed = i == 0;
  }
  return rows;
}
} // namespace

class TestCompareView : public QObject {
  Q_OBJECT

private slots:
  void tableModelEditsAndResults() {
    CompareTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setRows(threeRows());
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.nextSeed(), quint64(103));
    QCOMPARE(model.addPrompt("extra", model.nextSeed()), 3);
    model.setResults({1, 3}, {result(0.2, 0.9), result(0.5, 0.5)});
    QCOMPARE(model.index(1, CompareTableModel::ScoreB).data().toString(), QStringLiteral("0.900"));
    QCOMPARE(model.index(1, CompareTableModel::TextB).data().toString(), QStringLiteral("was great."));
    QVERIFY(!model.index(0, CompareTableModel::TextA).data().isValid());
    QVERIFY(model.index(0, CompareTableModel::Prompt).data(Qt::FontRole).value<QFont>().italic());
    QVERIFY(model.flags(model.index(0, CompareTableModel::Seed)) & Qt::ItemIsEditable);
    QVERIFY(!(model.flags(model.index(0, CompareTableModel::TextA)) & Qt::ItemIsEditable));
    // Editing the seed invalidates the row's result.
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QVERIFY(model.setData(model.index(1, CompareTableModel::Seed), "7"));
    QCOMPARE(changed.count(), 1);
    QVERIFY(!model.row(1).result);
    QCOMPARE(model.row(1).seed, quint64(7));
    QVERIFY(!model.setData(model.index(1, CompareTableModel::Seed), "not a number"));
    QVERIFY(!model.setData(model.index(1, CompareTableModel::Prompt), ""));
    model.removeRowsAt({0, 2});
    QCOMPARE(model.rowCount(), 2);
    QCOMPARE(model.row(1).prompt, QStringLiteral("extra"));
  }

  void summaryMeansAndWinRate_data() {
    QTest::addColumn<QList<double>>("scoresA");
    QTest::addColumn<QList<double>>("scoresB");
    QTest::addColumn<double>("meanA");
    QTest::addColumn<double>("meanB");
    QTest::addColumn<double>("winRate");
    QTest::newRow("B always better") << QList<double>{0.1, 0.2} << QList<double>{0.5, 0.6} << 0.15 << 0.55
                                     << 1.0;
    QTest::newRow("a tie counts half")
        << QList<double>{0.5, 0.9} << QList<double>{0.5, 0.1} << 0.7 << 0.3 << 0.25;
    QTest::newRow("A always better") << QList<double>{0.8} << QList<double>{0.3} << 0.8 << 0.3 << 0.0;
  }
  void summaryMeansAndWinRate() {
    QFETCH(QList<double>, scoresA);
    QFETCH(QList<double>, scoresB);
    QFETCH(double, meanA);
    QFETCH(double, meanB);
    QFETCH(double, winRate);
    CompareTableModel model;
    std::vector<int> rows;
    std::vector<ComparedPrompt> results;
    for (int i = 0; i < scoresA.size(); ++i) {
      rows.push_back(model.addPrompt("p", quint64(i)));
      results.push_back(result(scoresA[i], scoresB[i]));
    }
    model.addPrompt("not generated", 99); // rows without results do not count
    model.setResults(rows, results);
    const auto s = model.summary();
    QCOMPARE(s.compared, int(scoresA.size()));
    QVERIFY(std::abs(s.meanA - meanA) < 1e-12);
    QVERIFY(std::abs(s.meanB - meanB) < 1e-12);
    QCOMPARE(s.winRateB, winRate);
  }

  void deltaColours_data() {
    QTest::addColumn<double>("delta");
    QTest::addColumn<QString>("expected");
    QTest::newRow("zero is white") << 0.0 << "#ffffff";
    QTest::newRow("nan is white") << std::nan("") << "#ffffff";
    QTest::newRow("+3 is the red end") << 3.0 << DeltaLegend::colorFor(100.0).name();
    QTest::newRow("-3 is the blue end") << -3.0 << DeltaLegend::colorFor(-100.0).name();
  }
  void deltaColours() {
    QFETCH(double, delta);
    QFETCH(QString, expected);
    QCOMPARE(DeltaLegend::colorFor(delta).name(), expected);
    const QColor red = DeltaLegend::colorFor(3.0), blue = DeltaLegend::colorFor(-3.0);
    QVERIFY(red.red() > red.blue() && blue.blue() > blue.red());
    const QColor half = DeltaLegend::colorFor(1.5);
    QVERIFY(half.red() > red.red() - 1 && half.blue() > red.blue()); // lighter towards white
  }

  void tokenHtmlHasColoursAndTooltips() {
    ComparedText text;
    text.text = " ok";
    text.score = 0.75;
    text.tokens = {TokenDelta{" ", -1.0, -1.0}, TokenDelta{"o<k", -0.5, -2.5},
                   TokenDelta{"", -0.1, -0.2, 1, true}};
    const QString html = TokenTextBrowser::html("B", "the film", text);
    QVERIFY2(html.contains(DeltaLegend::colorFor(2.0).name()), qPrintable(html));
    QVERIFY(html.contains("o&lt;k"));
    QVERIFY(html.contains("⟨end⟩"));
    const QString tip = TokenTextBrowser::pieceToolTip(text.tokens[1]);
    QVERIFY2(tip.contains("-0.5000") && tip.contains("-2.5000") && tip.contains("+2.000"), qPrintable(tip));

    TokenTextBrowser browser;
    browser.resize(400, 200);
    browser.showText("B", "the film", text);
    browser.show();
    QVERIFY(QTest::qWaitForWindowExposed(&browser));
    // Hovering the coloured piece finds its tooltip; the prompt has none.
    QTextCursor cursor(browser.document());
    cursor.movePosition(QTextCursor::End);
    const int end = cursor.position();
    bool found = false;
    for (int pos = 0; pos < end && !found; ++pos) {
      cursor.setPosition(pos);
      const QRect r = browser.cursorRect(cursor);
      found = browser.toolTipAt(r.center() + QPoint(2, 0)).contains("+2.000");
    }
    QVERIFY(found);
  }

  void generatesOnTinyModels() {
    CompareView view;
    QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.setModels(fixtureModel("model_a"), fixtureModel("model_b"));
    auto options = view.samplingOptions();
    options.maxNewTokens = 12;
    view.setSamplingOptions(options);
    for (const char *p : {"the film", "this story", "a movie"})
      view.addPrompt(p);
    QSignalSpy finished(&view, &CompareView::finished);
    QSignalSpy errors(&view, &CompareView::errorOccurred);
    QVERIFY(view.generate());
    QVERIFY(view.isBusy());
    QVERIFY(!view.generate()); // one job at a time
    QCOMPARE(errors.count(), 1);
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.at(0).at(0).toInt(), 3);
    QCOMPARE(finished.at(0).at(1).toBool(), false);
    QVERIFY(!view.isBusy());
    for (int row = 0; row < 3; ++row) {
      QVERIFY(view.model()->row(row).result.has_value());
      QVERIFY(
          view.model()->index(row, CompareTableModel::ScoreB).data(CompareTableModel::SortRole).isValid());
    }
    QVERIFY2(view.summaryText().contains("B beats A"), qPrintable(view.summaryText()));
    view.table()->selectRow(1);
    const QString detail = view.detailHtml();
    QVERIFY2(detail.contains("this story") && detail.contains("background-color"), qPrintable(detail));
    // Sorted by B's score (descending), the top row carries the largest score, and the detail
    // pane shows that row's prompt (proxy rows are mapped back to model rows).
    view.table()->sortByColumn(CompareTableModel::ScoreB, Qt::DescendingOrder);
    view.table()->selectRow(2);
    view.table()->selectRow(0);
    double best = -1;
    for (int row = 0; row < 3; ++row)
      best = std::max(best, *view.model()->row(row).result->b.score);
    const QAbstractItemModel *shown = view.table()->model();
    QCOMPARE(shown->index(0, CompareTableModel::ScoreB).data(CompareTableModel::SortRole).toDouble(), best);
    QVERIFY(view.detailHtml().contains(shown->index(0, CompareTableModel::Prompt).data().toString()));
    QVERIFY(!view.detailHtml().contains(shown->index(2, CompareTableModel::Prompt).data().toString()));
    // The same prompts and seeds give the same texts again.
    const auto first = view.model()->row(2).result->b.text;
    QVERIFY(view.generate());
    QVERIFY(finished.wait(60000));
    QCOMPARE(view.model()->row(2).result->b.text, first);
  }

  void cancelKeepsFinishedRows() {
    CompareView view;
    view.setModels(fixtureModel("model_a"), fixtureModel("model_b"));
    for (int i = 0; i < 40; ++i)
      view.addPrompt(QStringLiteral("prompt %1").arg(i));
    QSignalSpy finished(&view, &CompareView::finished);
    QVERIFY(view.generate());
    view.cancel();
    QVERIFY(finished.wait(60000));
    QVERIFY(finished.at(0).at(1).toBool());
    QVERIFY(finished.at(0).at(0).toInt() < 40);
    QVERIFY2(view.statusText().contains("Cancelled"), qPrintable(view.statusText()));
  }

  void opensRunFolderAndScoresSavedSamples() {
    QTemporaryDir run;
    QDir(run.path()).mkpath("samples");
    QDir(run.path()).mkpath("checkpoints/step-10");
    QDir(run.path()).mkpath("checkpoints/step-20");
    const QByteArray info =
        QStringLiteral(R"({"task":"sentiment","loss_type":"dpo","reference_model":"%1","policy_final":"%2"})")
            .arg(fixtureModel("model_a"), fixtureModel("model_b"))
            .toUtf8();
    QVERIFY(writeFile(run.filePath("run_info.json"), info));
    QVERIFY(writeFile(
        run.filePath("samples/eval_samples.jsonl"),
        R"({"prompt":"the film","seed":1000003,"policy":" was great.","reference":" was bad.","reward_policy":0.73,"reward_reference":0.27})"
        "\n"
        R"({"prompt":"the plot","seed":1000004,"policy":" was good.","reference":" was fine."})"
        "\n"));
    QVERIFY(writeFile(run.filePath("config.yaml"),
                      "task: sentiment\nmax_length: 112\nmax_prompt_length: 16\nsentiment:\n"
                      "  sample_temperature: 0.7\n  max_new_tokens: 200\n"));
    CompareView view;
    QAbstractItemModelTester tester(view.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    view.addPrompt("my own prompt");
    QString error;
    QVERIFY2(view.openRunFolder(run.path(), &error), qPrintable(error));
    QCOMPARE(view.modelA(), fixtureModel("model_a"));
    QCOMPARE(view.modelB(), fixtureModel("model_b"));
    QCOMPARE(view.model()->rowCount(), 3); // the fixed set first, the user's prompt kept
    QCOMPARE(view.model()->row(2).prompt, QStringLiteral("my own prompt"));
    QVERIFY(!view.model()->row(2).fixed);
    QCOMPARE(view.model()->row(1).seed, quint64(1000004));
    QVERIFY(view.model()->row(0).fixed);
    QCOMPARE(view.samplingOptions().temperature, 0.7);
    QCOMPARE(view.samplingOptions().maxNewTokens, std::int64_t(96)); // max_length − max_prompt_length
    QSignalSpy finished(&view, &CompareView::finished);
    QVERIFY(view.scoreSavedSamples());
    QVERIFY(finished.wait(60000));
    QCOMPARE(finished.at(0).at(0).toInt(), 2); // only rows with saved samples
    QVERIFY(!view.model()->row(2).result);
    const auto &r = *view.model()->row(0).result;
    QCOMPARE(r.b.text, std::string(" was great."));
    QCOMPARE(r.a.text, std::string(" was bad."));
    QCOMPARE(r.a.tokens.size(), std::size_t(9));
    QVERIFY(std::abs(*r.b.score - 0.7310585786) < 1e-6); // the oracle: one positive word
  }

  void errorsAreReported_data() {
    QTest::addColumn<QString>("modelB");
    QTest::addColumn<QString>("mention");
    QTest::newRow("missing folder") << "/nonexistent/model-b"
                                    << "/nonexistent/model-b";
    QTest::newRow("no model chosen") << ""
                                     << "Choose model A and model B";
  }
  void errorsAreReported() {
    QFETCH(QString, modelB);
    QFETCH(QString, mention);
    CompareView view;
    view.setModels(fixtureModel("model_a"), modelB);
    view.addPrompt("the film");
    QSignalSpy errors(&view, &CompareView::errorOccurred);
    QSignalSpy finished(&view, &CompareView::finished);
    if (view.generate())
      QVERIFY(finished.wait(60000));
    QCOMPARE(errors.count(), 1);
    QVERIFY2(errors.at(0).at(0).toString().contains(mention), qPrintable(errors.at(0).at(0).toString()));
    QVERIFY(!view.isBusy());
  }

  // A run on files (labels exported from the Label tab) has no eval samples: its training
  // prompts become the fixed rows, each prompt once.
  void runOnFilesComparesItsOwnPrompts() {
    QTemporaryDir run;
    const QByteArray info =
        QStringLiteral(R"({"task":"","loss_type":"dpo","reference_model":"%1","policy_final":"%2"})")
            .arg(fixtureModel("model_a"), fixtureModel("model_b"))
            .toUtf8();
    QVERIFY(writeFile(run.filePath("run_info.json"), info));
    QVERIFY(writeFile(run.filePath("pairs.jsonl"),
                      R"({"prompt":"the film","chosen":" good","rejected":" bad"})"
                      "\n"
                      R"({"prompt":"the film","chosen":" fine","rejected":" dull"})"
                      "\n"
                      R"({"prompt":"the plot","chosen":" neat","rejected":" messy"})"
                      "\n"));
    QVERIFY(writeFile(
        run.filePath("config.yaml"),
        QStringLiteral("train_file: %1\nloss_type: dpo\n").arg(run.filePath("pairs.jsonl")).toUtf8()));
    CompareView view;
    QString error;
    QVERIFY2(view.openRunFolder(run.path(), &error), qPrintable(error));
    QCOMPARE(view.model()->rowCount(), 2);
    QCOMPARE(view.model()->row(0).prompt, QStringLiteral("the film"));
    QCOMPARE(view.model()->row(1).prompt, QStringLiteral("the plot"));
    QVERIFY(view.model()->row(1).fixed);
    QVERIFY2(view.statusText().contains("train_file pairs.jsonl"), qPrintable(view.statusText()));
  }

  // An older run (no run_info.json) still opens: fixed prompts, B's checkpoints, A by hand.
  void opensRunWithoutRunInfo() {
    QTemporaryDir run;
    QDir(run.path()).mkpath("samples");
    QDir(run.path()).mkpath("checkpoints/step-5");
    QDir(run.path()).mkpath("checkpoints/step-12");
    QDir(run.path()).mkpath("checkpoints/step-20.tmp");           // being written: not offered
    for (const char *step : {"step-5", "step-12", "step-20.tmp"}) // complete checkpoints have one
      QVERIFY(writeFile(run.filePath(QString("checkpoints/%1/trainer_state.json").arg(step)), "{}"));
    QVERIFY(writeFile(run.filePath("samples/eval_samples.jsonl"), R"({"prompt":"the film","seed":3})"
                                                                  "\n"));
    CompareView view;
    view.setModels(fixtureModel("model_a"), QString());
    QString error;
    QVERIFY2(view.openRunFolder(run.path(), &error), qPrintable(error));
    QCOMPARE(view.model()->rowCount(), 1);
    QCOMPARE(view.modelA(), fixtureModel("model_a"));
    QCOMPARE(view.modelB(), QDir(run.path()).absoluteFilePath("checkpoints/step-12")); // the latest
    QVERIFY2(view.statusText().contains("choose model A") &&
                 view.statusText().contains("B is checkpoints/step-12"),
             qPrintable(view.statusText()));
  }

  void openRunFolderErrors() {
    CompareView view;
    QString error;
    QVERIFY(!view.openRunFolder("/nonexistent/run", &error));
    QVERIFY(error.contains("/nonexistent/run"));
    QTemporaryDir empty;
    QVERIFY(!view.openRunFolder(empty.path(), &error));
    QVERIFY(error.contains("run_info.json"));
    QVERIFY(writeFile(empty.filePath("run_info.json"), "[1, 2"));
    QVERIFY(!view.openRunFolder(empty.path(), &error));
    QVERIFY2(error.contains(empty.filePath("run_info.json")), qPrintable(error));
  }

  // Screenshot driver, off by default: PREFLAB_COMPARE_SCREENSHOT=out.png with
  // PREFLAB_COMPARE_RUN=<run folder> and optionally PREFLAB_COMPARE_A / PREFLAB_COMPARE_B (model
  // folders, for runs without run_info.json), PREFLAB_COMPARE_PROMPTS (default 8),
  // PREFLAB_COMPARE_ADD="prompt|prompt..." (prompts added) and PREFLAB_COMPARE_SCORER. Run under
  // xvfb-run -a -s '-screen 0 1400x900x24' with QT_QPA_PLATFORM=xcb.
  void screenshot() {
    const QString out = qEnvironmentVariable("PREFLAB_COMPARE_SCREENSHOT");
    if (out.isEmpty())
      QSKIP("set PREFLAB_COMPARE_SCREENSHOT=<png> and PREFLAB_COMPARE_RUN=<run folder>");
    CompareView view;
    view.resize(1380, 880);
    QString error;
    QVERIFY2(view.openRunFolder(qEnvironmentVariable("PREFLAB_COMPARE_RUN"), &error), qPrintable(error));
    const QString a = qEnvironmentVariable("PREFLAB_COMPARE_A"),
                  b = qEnvironmentVariable("PREFLAB_COMPARE_B");
    if (!a.isEmpty() || !b.isEmpty())
      view.setModels(a.isEmpty() ? view.modelA() : a, b.isEmpty() ? view.modelB() : b);
    const int keep = qEnvironmentVariableIntValue("PREFLAB_COMPARE_PROMPTS") > 0
                         ? qEnvironmentVariableIntValue("PREFLAB_COMPARE_PROMPTS")
                         : 8;
    QList<int> extra;
    for (int row = keep; row < view.model()->rowCount(); ++row)
      extra << row;
    view.model()->removeRowsAt(extra);
    for (const auto &prompt : qEnvironmentVariable("PREFLAB_COMPARE_ADD").split('|', Qt::SkipEmptyParts))
      view.addPrompt(prompt);
    if (qEnvironmentVariableIsSet("PREFLAB_COMPARE_SCORER"))
      view.setScorer(qEnvironmentVariable("PREFLAB_COMPARE_SCORER"));
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    QSignalSpy finished(&view, &CompareView::finished);
    QVERIFY(view.generate());
    QVERIFY(finished.wait(300000));
    int row = 0; // the row where B departs most from the reference, for the detail pane
    double best = -1;
    for (int r = 0; r < view.model()->rowCount(); ++r) {
      const auto &res = view.model()->row(r).result;
      if (res && res->b.logpModel - res->b.logpReference > best) {
        best = res->b.logpModel - res->b.logpReference;
        row = r;
      }
    }
    view.table()->selectRow(row);
    QTest::qWait(200);
    QVERIFY(view.grab().save(out));
    qInfo("%s | %s", qPrintable(view.summaryText()), qPrintable(view.statusText()));
  }
};

PREFLAB_TEST_MAIN(TestCompareView)
#include "tst_compare_view.moc"
