// DeltaLegend: the diverging colour scale of log π_θ − log π_ref and its small legend bar.
#pragma once

#include <QColor>
#include <QWidget>

namespace preflab::ui {

// Blue where the model gives a token less probability than the reference, red where it gives
// more, white near zero; linear in nats and clamped at ±kClampNats. GUI thread only.
class DeltaLegend : public QWidget {
  Q_OBJECT

public:
  static constexpr double kClampNats = 3.0;

  explicit DeltaLegend(QWidget *parent = nullptr);

  // Background colour of a token whose log-ratio is `delta` nats (NaN: white).
  static QColor colorFor(double delta);

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

protected:
  void paintEvent(QPaintEvent *event) override;
};

} // namespace preflab::ui
