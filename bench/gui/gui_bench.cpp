// preflab-bench-gui: redraw time of a 1,000,000-point chart and GUI event-loop latency during training.
//
// (a) A CurvesView holding one run with --points points of "loss" (smoothing 0.6, so a faint raw
//     graph and a smoothed one: 2·points points on screen, adaptive sampling on) is replotted
//     --replots times with rpImmediateRefresh; median and p95 of the wall time per replot.
// (b) A 5 ms QTimer in the GUI thread records how late each tick fires while a worker QThread
//     runs preflab::core::runTextTraining on the embedded sentiment task; its onLog/onEval callbacks
//     emit queued signals whose slot appends to a RunSeriesStore shown by a visible CurvesView.
//     Lateness p50/p99/max over the whole run and over the training steps alone.
// Prints one JSON line. Run offscreen (QT_QPA_PLATFORM=offscreen) or under xvfb-run.
#include "core/jobs/text_training.h"
#include "core/train/text_train_config.h"
#include "ui/curves/curves_plot.h"
#include "ui/curves/curves_view.h"
#include "ui/runs/run_series_store.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>

using namespace preflab;

namespace {

double percentile(std::vector<double> v, double q) {
  if (v.empty())
    return 0.0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, std::size_t(std::llround(q * double(v.size() - 1))))];
}

QJsonObject stats(const std::vector<double> &v) {
  return {{"n", int(v.size())},
          {"p50_ms", percentile(v, 0.5)},
          {"p95_ms", percentile(v, 0.95)},
          {"p99_ms", percentile(v, 0.99)},
          {"max_ms", v.empty() ? 0.0 : *std::max_element(v.begin(), v.end())}};
}

void settle(int ms) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < ms)
    QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
}

QJsonObject redrawBenchmark(int points, int replots, double smoothing, bool antialiased) {
  ui::RunSeriesStore store;
  const QString run = QStringLiteral("bench/1M");
  store.setRunLabel(run, QStringLiteral("synthetic"));
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0.0, 0.05);
  for (int i = 0; i < points; ++i)
    store.appendRecord(
        run, i, 1.7e9 + i * 0.01,
        {{QStringLiteral("loss"), 0.7 * std::exp(-i / double(points) * 4) + 0.1 + noise(rng)}});
  ui::CurvesView view(&store);
  view.resize(1280, 720);
  view.show();
  settle(200);
  view.setSmoothing(smoothing);
  if (!antialiased)
    view.plot()->setNotAntialiasedElements(QCP::aeAll);
  QElapsedTimer build;
  build.start();
  view.plot()->flushPending();
  const double buildMs = build.nsecsElapsed() / 1e6;
  std::vector<double> times;
  for (int i = 0; i < replots + 3; ++i) {
    QElapsedTimer t;
    t.start();
    view.plot()->replot(QCustomPlot::rpImmediateRefresh);
    if (i >= 3) // warm-up
      times.push_back(t.nsecsElapsed() / 1e6);
  }
  QJsonObject result = stats(times);
  result.insert("points_per_series", store.pointCount(run, QStringLiteral("loss")));
  result.insert("graphs", view.plot()->graphCount());
  result.insert("adaptive_sampling", view.plot()->curves().first().raw->adaptiveSampling());
  result.insert("rebuild_ms", buildMs);
  result.insert("smoothing", smoothing);
  result.insert("antialiased", antialiased);
  result.insert("plot_size", QStringLiteral("%1x%2").arg(view.plot()->width()).arg(view.plot()->height()));
  return result;
}

// Adapts the trainer's callbacks (called on the worker thread) into a queued signal.
class RecordEmitter : public QObject {
  Q_OBJECT
signals:
  void record(const QString &runId, double step, double wallTime, const QHash<QString, double> &metrics);
};

QJsonObject latencyBenchmark(const QString &cacheDir, int maxSteps) {
  QTemporaryDir outDir;
  core::TextTrainConfig config;
  config.task = "sentiment";
  config.maxSteps = maxSteps;
  config.loggingSteps = 1;
  config.evalSteps = 10;
  config.saveSteps = 0;
  config.outputDir = (outDir.path() + "/run").toStdString();
  config.cacheDir = cacheDir.toStdString();
  config.model.nLayer = 2;
  config.model.nEmbd = 64;
  config.sentiment.sftSteps = 150;
  config.sentiment.numPrompts = 256;
  config.sentiment.evalPrompts = 32;
  config.sentiment.maxNewTokens = 32;

  ui::RunSeriesStore store;
  ui::CurvesView view(&store);
  view.resize(1280, 720);
  view.show();
  const QString runId = QStringLiteral("bench/sentiment");
  store.setRunLabel(runId, QStringLiteral("sentiment-dpo (bench)"));
  RecordEmitter emitter;
  int records = 0;
  QObject::connect(
      &emitter, &RecordEmitter::record, &store,
      [&](const QString &id, double step, double wall, const QHash<QString, double> &m) {
        store.appendRecord(id, step, wall, m);
        ++records;
      },
      Qt::QueuedConnection);
  const auto forward = [&emitter, runId](const core::StepRecord &r) {
    QHash<QString, double> metrics;
    for (const auto &[k, v] : r.metrics)
      metrics.insert(QString::fromStdString(k), v);
    emit emitter.record(runId, double(r.step), QDateTime::currentMSecsSinceEpoch() / 1000.0, metrics);
  };
  core::TrainerCallbacks callbacks;
  callbacks.onLog = forward;
  callbacks.onEval = forward;
  core::RunSummary summary;
  QThread *worker = QThread::create([&] { summary = core::runTextTraining(config, {}, callbacks); });

  std::vector<double> all, training;
  QElapsedTimer clock;
  qint64 last = 0;
  QTimer tick;
  tick.setTimerType(Qt::PreciseTimer);
  tick.setInterval(5);
  QObject::connect(&tick, &QTimer::timeout, [&] {
    const qint64 now = clock.nsecsElapsed();
    const double late = std::max(0.0, (now - last) / 1e6 - 5.0);
    last = now;
    all.push_back(late);
    if (records > 0)
      training.push_back(late);
  });
  QEventLoop loop;
  QObject::connect(worker, &QThread::finished, &loop, &QEventLoop::quit);
  QElapsedTimer wall;
  wall.start();
  clock.start();
  tick.start();
  worker->start();
  loop.exec();
  tick.stop();
  worker->wait();
  delete worker;
  settle(100);
  QJsonObject result;
  result.insert("all", stats(all));
  result.insert("training_steps", stats(training));
  result.insert("records", records);
  result.insert("state", QString::fromStdString(core::runStateName(summary.state)));
  result.insert("message", QString::fromStdString(summary.message));
  result.insert("run_seconds", wall.elapsed() / 1000.0);
  result.insert("points_shown",
                view.plot()->curves().isEmpty() ? 0 : view.plot()->curves().first().raw->dataCount());
  return result;
}

} // namespace

int main(int argc, char **argv) {
  QApplication app(argc, argv);
  QCommandLineParser parser;
  parser.setApplicationDescription("PrefLab GUI benchmark: chart redraw time and event-loop latency");
  parser.addHelpOption();
  QCommandLineOption points("points", "points in the redraw benchmark's series", "N", "1000000");
  QCommandLineOption replots("replots", "timed replots", "N", "50");
  QCommandLineOption cache("cache-dir", "cache of the sentiment task's prepared stages (kept between runs)",
                           "DIR", QDir::tempPath() + "/preflab-bench-gui-cache");
  QCommandLineOption steps("max-steps", "training steps of the latency benchmark", "N", "40");
  QCommandLineOption skip("skip-training", "only the redraw benchmark");
  QCommandLineOption smoothing("smoothing", "EMA weight in the redraw benchmark (0: one graph)", "W", "0.6");
  QCommandLineOption aliased("no-antialiasing", "redraw benchmark without antialiasing");
  parser.addOptions({points, replots, cache, steps, skip, smoothing, aliased});
  parser.process(app);

  QJsonObject out;
  out.insert("benchmark", "preflab-gui");
  out.insert("platform", QGuiApplication::platformName());
  out.insert("redraw", redrawBenchmark(parser.value(points).toInt(), parser.value(replots).toInt(),
                                       parser.value(smoothing).toDouble(), !parser.isSet(aliased)));
  if (!parser.isSet(skip))
    out.insert("event_loop_latency", latencyBenchmark(parser.value(cache), parser.value(steps).toInt()));
  QTextStream(stdout) << QJsonDocument(out).toJson(QJsonDocument::Compact) << '\n';
  return 0;
}

#include "gui_bench.moc"
