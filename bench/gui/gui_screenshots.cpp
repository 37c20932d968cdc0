// preflab-gui-screenshots: renders the curves view and the run browser of given run folders to PNG files.
//
//   preflab-gui-screenshots OUT_DIR RUN_DIR RUN_DIR [RUN_DIR...]
//
// Writes OUT_DIR/curves.png (every run, metric "loss", smoothing 0.6), curves_eval.png
// (eval/loss and eval/rewards/accuracies of the same runs), curves_walltime_logy.png (grad_norm
// against wall time, log y, outliers ignored), run_browser_diff.png (the first two
// runs selected: their config diff) and run_browser_config.png (the first run's config), plus
// curves.pdf / curves.svg / curves.csv through the view's own export. Run offscreen or under Xvfb.
#include "ui/curves/curves_view.h"
#include "ui/runs/run_browser.h"
#include "ui/runs/run_series_store.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QTextStream>

using namespace preflab::ui;

namespace {
void settle(int ms) {
  QElapsedTimer timer;
  timer.start();
  while (timer.elapsed() < ms)
    QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

bool save(QWidget *widget, const QString &path) {
  const bool ok = widget->grab().save(path);
  QTextStream(stdout) << (ok ? "wrote " : "FAILED ") << path << '\n';
  return ok;
}
} // namespace

int main(int argc, char **argv) {
  QApplication app(argc, argv);
  const QStringList args = app.arguments().mid(1);
  if (args.size() < 3) {
    QTextStream(stderr) << "usage: preflab-gui-screenshots OUT_DIR RUN_DIR RUN_DIR [RUN_DIR...]\n";
    return 2;
  }
  const QString out = args[0];
  QDir().mkpath(out);
  RunSeriesStore store;
  RunBrowser browser(&store);
  CurvesView curves(&store);
  for (const QString &dir : args.mid(1))
    if (!browser.openRun(dir))
      return 1;
  browser.resize(1000, 700);
  curves.resize(1300, 750);
  browser.show();
  curves.show();
  settle(1500); // queued first reads of every run, then the 40 ms redraw
  curves.setMetric(QStringLiteral("loss"));
  curves.setSmoothing(0.6);
  curves.updateNow();
  bool ok = save(&curves, out + "/curves.png");
  ok &= curves.exportChart(out + "/curves.pdf") && curves.exportChart(out + "/curves.svg") &&
        curves.exportCsv(out + "/curves.csv");
  curves.setMetrics({QStringLiteral("eval/loss"), QStringLiteral("eval/rewards/accuracies")});
  curves.updateNow();
  ok &= save(&curves, out + "/curves_eval.png");
  curves.setMetric(QStringLiteral("grad_norm"));
  curves.setXAxisMode(XAxisMode::WallTime);
  curves.setLogY(true);
  curves.setIgnoreOutliers(true);
  curves.updateNow();
  ok &= save(&curves, out + "/curves_walltime_logy.png");
  const QStringList dirs = browser.runDirs();
  browser.selectRuns({dirs[0]});
  settle(100);
  ok &= save(&browser, out + "/run_browser_config.png");
  browser.selectRuns({dirs[0], dirs[1]});
  settle(100);
  ok &= save(&browser, out + "/run_browser_diff.png");
  return ok ? 0 : 1;
}
