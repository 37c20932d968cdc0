// DeltaLegend: white-centred blue/red scale for per-token log-ratios, drawn as a labelled bar.
#include "ui/compare/delta_legend.h"

#include <QLinearGradient>
#include <QPainter>

#include <algorithm>
#include <cmath>

namespace preflab::ui {

namespace {
// Ends of the scale: ColorBrewer RdBu's outer-middle shades, light enough for black text.
const QColor kNegative(103, 169, 207);
const QColor kPositive(239, 138, 98);

QColor mix(const QColor &from, const QColor &to, double t) {
  auto lerp = [t](int a, int b) { return int(std::lround(a + (b - a) * t)); };
  return QColor(lerp(from.red(), to.red()), lerp(from.green(), to.green()), lerp(from.blue(), to.blue()));
}
} // namespace

DeltaLegend::DeltaLegend(QWidget *parent) : QWidget(parent) {
  setToolTip(tr("Token background: log π_θ − log π_ref in nats (θ = the model that wrote the text), "
                "clamped at ±%1")
                 .arg(kClampNats));
}

QColor DeltaLegend::colorFor(double delta) {
  if (std::isnan(delta))
    return Qt::white;
  const double t = std::clamp(delta / kClampNats, -1.0, 1.0);
  return t < 0 ? mix(Qt::white, kNegative, -t) : mix(Qt::white, kPositive, t);
}

QSize DeltaLegend::sizeHint() const {
  return {380, fontMetrics().height() * 2 + 8};
}

QSize DeltaLegend::minimumSizeHint() const {
  return {240, fontMetrics().height() * 2 + 8};
}

void DeltaLegend::paintEvent(QPaintEvent *) {
  QPainter p(this);
  const int textH = fontMetrics().height();
  const int margin = fontMetrics().horizontalAdvance(QStringLiteral("−3.0")) / 2 + 2;
  const QRect bar(margin, 2, width() - 2 * margin, std::max(6, height() - textH - 6));
  QLinearGradient gradient(bar.topLeft(), bar.topRight());
  for (int i = 0; i <= 12; ++i) {
    const double t = i / 12.0;
    gradient.setColorAt(t, colorFor((2 * t - 1) * kClampNats));
  }
  p.fillRect(bar, gradient);
  p.setPen(palette().color(QPalette::Mid));
  p.drawRect(bar.adjusted(0, 0, -1, -1));
  p.setPen(palette().color(QPalette::WindowText));
  const int y = bar.bottom() + 2;
  auto label = [&](double value, const QString &text) {
    const int x = bar.left() + int((value + kClampNats) / (2 * kClampNats) * bar.width());
    const int w = fontMetrics().horizontalAdvance(text);
    p.drawText(QRect(x - w / 2 - 1, y, w + 2, textH), Qt::AlignCenter, text);
  };
  label(-kClampNats, QStringLiteral("−%1").arg(kClampNats, 0, 'f', 0));
  label(0, tr("0 nats"));
  label(kClampNats, QStringLiteral("+%1").arg(kClampNats, 0, 'f', 0));
  label(-kClampNats / 2, tr("less likely"));
  label(kClampNats / 2, tr("more likely"));
}

} // namespace preflab::ui
