// TokenTextBrowser: a prompt and a response whose tokens are coloured by log π_θ − log π_ref, with tooltips.
#pragma once

#include "core/api/compare.h"

#include <QTextBrowser>

namespace preflab::ui {

// Read-only rich text: the prompt in grey, then each response piece on a background from
// DeltaLegend::colorFor(delta). Hovering a piece shows its text and exact log-probs (QTextBrowser
// does not show per-span tooltips itself, so viewportEvent() looks up the character format's tooltip).
// GUI thread only.
class TokenTextBrowser : public QTextBrowser {
  Q_OBJECT

public:
  explicit TokenTextBrowser(QWidget *parent = nullptr);

  void showText(const QString &title, const QString &prompt, const core::ComparedText &text);
  void showMessage(const QString &message);

  // The HTML showText() displays; exposed for tests.
  static QString html(const QString &title, const QString &prompt, const core::ComparedText &text);
  // The tooltip of one piece.
  static QString pieceToolTip(const core::TokenDelta &piece);
  // The tooltip of the piece under `pos` (viewport coordinates), empty when none.
  QString toolTipAt(const QPoint &pos) const;

protected:
  bool viewportEvent(QEvent *event) override;
};

} // namespace preflab::ui
