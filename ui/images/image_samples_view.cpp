// ImageSamplesView: grids from samples/, labelled with QPainter, summary and per-sample scores.
#include "ui/images/image_samples_view.h"

#include "core/api/run_reader.h"

#include "core/api/datasets.h"

#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QFontMetrics>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QResizeEvent>
#include <QScrollArea>
#include <QSplitter>
#include <QTableWidget>
#include <QTextDocument>
#include <QVBoxLayout>

#include <algorithm>

namespace preflab::ui {

namespace {

// Fashion-MNIST class names, one per grid row (the grids hold one row per class, label order).
QStringList classNames() {
  QStringList names;
  for (const auto &name : core::fashionMnistClassNames())
    names << QString::fromStdString(name);
  return names;
}

// The grid with a column of class names on the left and "reference" / "tuned" over its halves.
// Width of the column of row labels: class names, or the captions of a run without an oracle.
int labelMargin(const QStringList &names) {
  QFont font;
  font.setPointSize(9);
  int widest = 0;
  for (const auto &name : names)
    widest = std::max(widest, QFontMetrics(font).horizontalAdvance(name));
  return std::clamp(widest + 14, 96, 280);
}

QImage labelledGrid(const QImage &grid, double zoom, const QStringList &names) {
  const QImage scaled =
      grid.scaled(std::max(1, int(grid.width() * zoom)), std::max(1, int(grid.height() * zoom)),
                  Qt::IgnoreAspectRatio, zoom < 1.0 ? Qt::SmoothTransformation : Qt::FastTransformation);
  QFont font;
  font.setPointSize(9);
  const int left = labelMargin(names), top = 24;
  QImage out(scaled.width() + left, scaled.height() + top, QImage::Format_RGB32);
  out.fill(Qt::white);
  QPainter p(&out);
  p.drawImage(left, top, scaled);
  p.setPen(Qt::black);
  p.setFont(font);
  const int rows = std::max<int>(1, int(names.size()));
  for (int r = 0; r < names.size(); ++r) {
    const QRect cell(0, top + r * scaled.height() / rows, left - 6, scaled.height() / rows);
    p.drawText(cell, Qt::AlignRight | Qt::AlignVCenter,
               p.fontMetrics().elidedText(names[r], Qt::ElideRight, left - 8));
  }
  font.setBold(true);
  p.setFont(font);
  p.drawText(QRect(left, 0, scaled.width() / 2, top), Qt::AlignCenter, QObject::tr("reference"));
  p.drawText(QRect(left + scaled.width() / 2, 0, scaled.width() / 2, top), Qt::AlignCenter,
             QObject::tr("tuned"));
  return out;
}

} // namespace

ImageSamplesView::ImageSamplesView(QWidget *parent) : QWidget(parent) {
  buildUi();
  m_watcher = new QFileSystemWatcher(this);
  connect(m_watcher, &QFileSystemWatcher::directoryChanged, this, [this] { reload(); });
}

void ImageSamplesView::buildUi() {
  m_summary = new QLabel(tr("Open a text-to-image run folder to see its samples (reference beside tuned)."));
  m_summary->setWordWrap(true);
  m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_step = new QComboBox;
  m_step->setToolTip(tr("Evaluation step whose samples are shown"));
  m_zoom = new QComboBox;
  m_zoom->addItems({tr("Fit width"), QStringLiteral("1×"), QStringLiteral("2×")});
  m_zoom->setCurrentIndex(0);
  auto *controls = new QHBoxLayout;
  controls->addWidget(new QLabel(tr("Samples at")));
  controls->addWidget(m_step);
  controls->addWidget(new QLabel(tr("Zoom")));
  controls->addWidget(m_zoom);
  controls->addStretch(1);
  m_image = new QLabel;
  m_image->setAlignment(Qt::AlignLeft | Qt::AlignTop);
  m_scroll = new QScrollArea;
  m_scroll->setWidget(m_image);
  m_scroll->setWidgetResizable(true);
  m_scroll->viewport()->installEventFilter(this);
  m_table = new QTableWidget(0, 6);
  m_table->setHorizontalHeaderLabels({tr("Prompt"), tr("Seed"), tr("Reward ref"), tr("Reward tuned"),
                                      tr("P(class) ref"), tr("P(class) tuned")});
  m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  m_table->verticalHeader()->setVisible(false);
  m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_table->setSortingEnabled(true);
  m_split = new QSplitter(Qt::Horizontal);
  m_split->addWidget(m_scroll);
  m_split->addWidget(m_table);
  m_split->setStretchFactor(0, 3);
  m_split->setStretchFactor(1, 2);
  auto *layout = new QVBoxLayout(this);
  layout->addWidget(m_summary);
  layout->addLayout(controls);
  layout->addWidget(m_split, 1);
  connect(m_step, &QComboBox::currentIndexChanged, this, [this] { showGrid(); });
  connect(m_zoom, &QComboBox::currentIndexChanged, this, [this] { showGrid(); });
}

void ImageSamplesView::resizeEvent(QResizeEvent *event) {
  QWidget::resizeEvent(event);
  if (!m_sized && m_split->width() > 0) { // two thirds for the grid, the rest for the table
    m_split->setSizes({m_split->width() * 2 / 3, m_split->width() / 3});
    m_sized = true;
  }
}

bool ImageSamplesView::eventFilter(QObject *watched, QEvent *event) {
  // "Fit width" follows the visible width of the grid's area (window and splitter changes).
  if (watched == m_scroll->viewport() && event->type() == QEvent::Resize && m_zoom->currentIndex() == 0 &&
      m_step->count() > 0)
    showGrid();
  return QWidget::eventFilter(watched, event);
}

bool ImageSamplesView::isImageRun(const QString &runDir) {
  return core::RunReader(runDir.toStdString()).isImageRun();
}

bool ImageSamplesView::openRunFolder(const QString &runDir, QString *error) {
  if (!m_watcher->directories().isEmpty())
    m_watcher->removePaths(m_watcher->directories());
  m_runDir = runDir;
  const QString samples = QDir(runDir).filePath(QStringLiteral("samples"));
  if (QFileInfo(samples).isDir())
    m_watcher->addPath(samples);
  reload();
  if (m_step->count() == 0) {
    const QString why =
        tr("%1 has no image samples yet (samples/grid-step-N.png is written at each evaluation "
           "of a text-to-image run).")
            .arg(runDir);
    m_summary->setText(why);
    if (error)
      *error = why;
    return false;
  }
  return true;
}

void ImageSamplesView::reload() {
  const QString current = m_step->currentText();
  QList<int> steps;
  for (const auto &grid : core::RunReader(m_runDir.toStdString()).grids())
    steps << int(grid.step);
  std::sort(steps.begin(), steps.end(), std::greater<int>());
  const QSignalBlocker block(m_step);
  m_step->clear();
  for (int s : steps)
    m_step->addItem(tr("step %1").arg(s), s);
  // A new grid (a live run) moves the view to it; otherwise keep the user's choice.
  const int keep = m_step->findText(current);
  m_step->setCurrentIndex(keep >= 0 && current != m_step->itemText(0) ? keep : 0);
  loadSummary();
  loadSamples();
  showGrid();
}

void ImageSamplesView::showGrid() {
  m_shown = QImage();
  if (m_step->count() == 0) {
    m_image->clear();
    return;
  }
  const QString path =
      QDir(m_runDir).filePath(QStringLiteral("samples/grid-step-%1.png").arg(m_step->currentData().toInt()));
  const QImage grid(path);
  if (grid.isNull()) {
    m_image->setText(tr("Cannot read %1").arg(path));
    return;
  }
  QStringList rows;
  for (const auto &row : core::RunReader(m_runDir.toStdString()).gridRows())
    rows << QString::fromStdString(row);
  if (rows.isEmpty()) // runs written before grid_rows.json: one row per Fashion-MNIST class
    rows = classNames();
  double zoom = m_zoom->currentIndex(); // 1×, 2×; index 0 fits the grid to the visible width
  if (m_zoom->currentIndex() == 0)
    zoom = std::clamp(double(m_scroll->viewport()->width() - labelMargin(rows) - 14) / double(grid.width()),
                      0.25, 2.0);
  m_shown = labelledGrid(grid, zoom, rows);
  m_image->setPixmap(QPixmap::fromImage(m_shown));
}

void ImageSamplesView::loadSummary() {
  const core::RunReader run(m_runDir.toStdString());
  const auto s = run.evalSummary();
  const QString objective = QString::fromStdString(run.lossType());
  if (s.empty()) {
    m_summary->setText(tr("%1 (%2): no final evaluation yet; the grids show the evaluations so far.")
                           .arg(QFileInfo(m_runDir).fileName(), objective));
    return;
  }
  auto num = [&](const char *key, int digits = 3) {
    const auto it = s.find(key);
    return it != s.end() && it->is_number() ? QString::number(it->get<double>(), 'f', digits)
                                            : QStringLiteral("–");
  };
  QString text;
  if (s.contains("eval/win_rate"))
    text = tr("<b>%1</b> (%2, %3 steps): win rate against the reference <b>%4</b> [%5, %6] over %7 held-out "
              "prompt-seed pairs · oracle reward %8 (reference %9) · class accuracy %10 (reference %11) · "
              "appeal %12 (reference %13)")
               .arg(QFileInfo(m_runDir).fileName(), objective, num("steps", 0), num("eval/win_rate"),
                    num("eval/win_rate_low"), num("eval/win_rate_high"), num("eval/prompts", 0),
                    num("eval/oracle_reward"), num("eval/oracle_reward_ref"), num("eval/class_accuracy"),
                    num("eval/class_accuracy_ref"), num("eval/appeal"), num("eval/appeal_ref"));
  else // a user's own pairs and no oracle_model: no judge, so no win rate
    text = tr("<b>%1</b> (%2, %3 steps): no oracle configured (oracle_model), so no win rate; the grids "
              "show the held-out captions from the reference and the tuned model with the same seeds")
               .arg(QFileInfo(m_runDir).fileName(), objective, num("steps", 0));
  if (s.contains("eval/implicit_acc"))
    text += tr(" · implicit accuracy %1 on %2 held-out pairs")
                .arg(num("eval/implicit_acc"), num("eval/pairs", 0));
  m_summary->setText(text);
}

void ImageSamplesView::loadSamples() {
  m_table->setSortingEnabled(false);
  m_table->setRowCount(0);
  for (const auto &o : core::RunReader(m_runDir.toStdString()).evalSamples()) {
    const int row = m_table->rowCount();
    m_table->insertRow(row);
    m_table->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(o.value("prompt", std::string()))));
    auto *seed = new QTableWidgetItem;
    seed->setData(Qt::DisplayRole, qlonglong(o.value("seed", 0.0)));
    m_table->setItem(row, 1, seed);
    int column = 2;
    for (const char *key : {"reward_ref", "reward", "class_prob_ref", "class_prob"}) {
      // three decimals; values in [0, 2) sort the same as text and as numbers
      auto *item = new QTableWidgetItem(QString::number(o.value(key, 0.0), 'f', 3));
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      m_table->setItem(row, column++, item);
    }
  }
  m_table->setSortingEnabled(true);
  // Without an oracle there are no scored samples: the grid takes the whole width.
  m_table->setVisible(m_table->rowCount() > 0);
}

QStringList ImageSamplesView::gridSteps() const {
  QStringList out;
  for (int i = 0; i < m_step->count(); ++i)
    out << m_step->itemText(i);
  return out;
}

QString ImageSamplesView::summaryText() const {
  QTextDocument doc;
  doc.setHtml(m_summary->text());
  return doc.toPlainText();
}

int ImageSamplesView::sampleRows() const {
  return m_table->rowCount();
}
QImage ImageSamplesView::shownImage() const {
  return m_shown;
}

} // namespace preflab::ui
