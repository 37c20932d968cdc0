// TokenTextBrowser: HTML spans per token piece with the log-ratio colour and an exact-number tooltip.
#include "ui/compare/token_text_browser.h"

#include "ui/compare/delta_legend.h"

#include <QAbstractTextDocumentLayout>
#include <QHelpEvent>
#include <QTextBlock>
#include <QToolTip>

namespace preflab::ui {

namespace {
QString fromUtf8(const std::string &s) {
  return QString::fromUtf8(s.data(), qsizetype(s.size()));
}

// Visible form of a piece: spaces kept (pre-wrap), a newline shown as ⏎ and broken.
QString pieceHtml(const core::TokenDelta &piece) {
  if (piece.isEnd)
    return QStringLiteral("<small>⟨end⟩</small>");
  QString text = fromUtf8(piece.text).toHtmlEscaped();
  text.replace(QLatin1Char('\n'), QStringLiteral("⏎<br/>"));
  text.replace(QLatin1Char('\t'), QStringLiteral("→"));
  return text;
}

QString signedNumber(double v) {
  return (v >= 0 ? QStringLiteral("+") : QString()) + QString::number(v, 'f', 3);
}
} // namespace

TokenTextBrowser::TokenTextBrowser(QWidget *parent) : QTextBrowser(parent) {
  setOpenLinks(false);
  setMouseTracking(true);
}

QString TokenTextBrowser::pieceToolTip(const core::TokenDelta &piece) {
  QString shown = piece.isEnd ? tr("end of text") : QStringLiteral("“%1”").arg(fromUtf8(piece.text));
  QString tip = tr("%1\nlog π_θ = %2\nlog π_ref = %3\nΔ = %4 nats")
                    .arg(shown, QString::number(piece.logpModel, 'f', 4),
                         QString::number(piece.logpReference, 'f', 4), signedNumber(piece.delta()));
  if (piece.tokenCount > 1)
    tip += tr("\n(%1 byte tokens of one character)").arg(piece.tokenCount);
  return tip;
}

QString TokenTextBrowser::html(const QString &title, const QString &prompt, const core::ComparedText &text) {
  QString out = QStringLiteral("<p style='margin:0 0 4px 0'><b>%1</b></p>").arg(title.toHtmlEscaped());
  out += QStringLiteral("<p style='white-space:pre-wrap; margin:0'><span style='color:#707070'>%1</span>")
             .arg(prompt.toHtmlEscaped());
  for (const auto &piece : text.tokens) {
    const QColor color = DeltaLegend::colorFor(piece.delta());
    out += QStringLiteral("<span style='background-color:%1' title='%2'>%3</span>")
               .arg(color.name(), pieceToolTip(piece).toHtmlEscaped(), pieceHtml(piece));
  }
  if (text.tokens.empty() && !text.text.empty()) // nothing scored (e.g. no room left in the block)
    out += fromUtf8(text.text).toHtmlEscaped();
  out += QStringLiteral("</p>");
  QStringList facts;
  if (text.score)
    facts << tr("score %1").arg(*text.score, 0, 'f', 3);
  facts << tr("log π_θ %1").arg(text.logpModel, 0, 'f', 2)
        << tr("log π_ref %1").arg(text.logpReference, 0, 'f', 2)
        << tr("Σ Δ %1 nats").arg(signedNumber(text.logpModel - text.logpReference));
  out +=
      QStringLiteral("<p style='color:#505050; margin-top:6px'><small>%1</small></p>").arg(facts.join(" · "));
  return out;
}

void TokenTextBrowser::showText(const QString &title, const QString &prompt, const core::ComparedText &text) {
  setHtml(html(title, prompt, text));
}

void TokenTextBrowser::showMessage(const QString &message) {
  setHtml(QStringLiteral("<p style='color:#707070'>%1</p>").arg(message.toHtmlEscaped()));
}

QString TokenTextBrowser::toolTipAt(const QPoint &pos) const {
  const QPoint docPos = pos + QPoint(horizontalScrollBar()->value(), verticalScrollBar()->value());
  const int at = document()->documentLayout()->hitTest(docPos, Qt::ExactHit);
  if (at < 0)
    return {};
  // The format of the character after the hit position.
  QTextCursor cursor(document());
  cursor.setPosition(at);
  cursor.movePosition(QTextCursor::NextCharacter, QTextCursor::KeepAnchor);
  return cursor.charFormat().toolTip();
}

bool TokenTextBrowser::viewportEvent(QEvent *event) {
  if (event->type() == QEvent::ToolTip) {
    auto *help = static_cast<QHelpEvent *>(event); // viewport coordinates
    const QString tip = toolTipAt(help->pos());
    if (tip.isEmpty())
      QToolTip::hideText();
    else
      QToolTip::showText(help->globalPos(), tip, this);
    return true;
  }
  return QTextBrowser::viewportEvent(event);
}

} // namespace preflab::ui
