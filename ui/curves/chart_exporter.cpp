// ChartExporter: image, vector and CSV exports of the curves chart.
#include "ui/curves/chart_exporter.h"

#include "ui/curves/curves_plot.h"
#include "ui/runs/run_series_store.h"

#include <QFileInfo>
#include <QSaveFile>
#include <QSvgGenerator>
#include <QTextStream>

namespace preflab::ui {

namespace {
bool fail(QString *error, const QString &message) {
  if (error)
    *error = message;
  return false;
}

QString xColumnName(XAxisMode mode) {
  switch (mode) {
  case XAxisMode::Step:
    return QStringLiteral("step");
  case XAxisMode::RelativeTime:
    return QStringLiteral("relative_time_s");
  case XAxisMode::WallTime:
    return QStringLiteral("wall_time_unix_s");
  case XAxisMode::GoldLabels:
    return QStringLiteral("gold_labels");
  }
  return {};
}

bool writeSvg(QCustomPlot *plot, const QString &path, const QString &title, int w, int h) {
  QSvgGenerator generator;
  generator.setFileName(path);
  generator.setSize(QSize(w, h));
  generator.setViewBox(QRect(0, 0, w, h));
  generator.setTitle(title);
  generator.setDescription(QStringLiteral("PrefLab curves"));
  QCPPainter painter;
  if (!painter.begin(&generator))
    return false;
  plot->toPainter(&painter, w, h);
  return painter.end();
}
} // namespace

bool ChartExporter::exportChart(CurvesPlot *plot, const QString &path, QString *error) {
  plot->flushPending();
  return exportPlot(plot, path, plot->yAxis->label(), error);
}

bool ChartExporter::exportPlot(QCustomPlot *plot, const QString &path, const QString &title, QString *error) {
  const QFileInfo info(path);
  if (!info.absoluteDir().exists())
    return fail(error, QStringLiteral("Cannot export the chart to %1: the folder does not exist").arg(path));
  const bool laidOut = plot->width() >= 200 && plot->height() >= 150;
  const int w = laidOut ? plot->width() : kDefaultWidth;
  const int h = laidOut ? plot->height() : kDefaultHeight;
  const QString suffix = info.suffix().toLower();
  bool ok = false;
  if (suffix == QLatin1String("png"))
    ok = plot->savePng(path, w, h, 2.0);
  else if (suffix == QLatin1String("pdf"))
    ok = plot->savePdf(path, w, h, QCP::epAllowCosmetic, QStringLiteral("PrefLab"), title);
  else if (suffix == QLatin1String("svg"))
    ok = writeSvg(plot, path, title, w, h);
  else
    return fail(error, QStringLiteral("Cannot export the chart to %1: unknown format '%2' (use .png, .pdf "
                                      "or .svg)")
                           .arg(path, suffix));
  // Exports paint with their own size; restore the on-screen buffer.
  plot->replot(QCustomPlot::rpQueuedReplot);
  if (!ok || !QFileInfo(path).exists() || QFileInfo(path).size() == 0)
    return fail(error, QStringLiteral("Cannot export the chart to %1: writing failed").arg(path));
  return true;
}

QString ChartExporter::csvField(const QString &text) {
  if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
      !text.contains(QLatin1Char('\n')))
    return text;
  QString quoted = text;
  quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
  return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString ChartExporter::csvNumber(double v) {
  return std::isfinite(v) ? QString::number(v, 'g', 17) : QString();
}

bool ChartExporter::exportCsv(CurvesPlot *plot, const RunSeriesStore *store, const QString &path,
                              QString *error) {
  plot->flushPending();
  QSaveFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
    return fail(error, QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
  QTextStream out(&file);
  out << "run,metric," << xColumnName(plot->xAxisMode()) << ",value,smoothed\n";
  for (const CurvesPlot::Curve &c : plot->curves()) {
    const auto raw = c.raw->data();
    const auto smooth = c.smoothed->data();
    const QString prefix = csvField(store->runLabel(c.runId)) + QLatin1Char(',') + csvField(c.metric);
    for (int i = 0; i < raw->size(); ++i)
      out << prefix << ',' << csvNumber(raw->at(i)->key) << ',' << csvNumber(raw->at(i)->value) << ','
          << csvNumber(smooth->at(i)->value) << '\n';
  }
  out.flush();
  if (!file.commit())
    return fail(error, QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
  return true;
}

} // namespace preflab::ui
