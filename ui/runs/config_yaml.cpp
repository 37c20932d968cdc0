// parseConfigYaml: indentation-aware flattening of core's config.yaml.
#include "ui/runs/config_yaml.h"

#include <QStringList>

namespace preflab::ui {

QMap<QString, QString> parseConfigYaml(const QString &text) {
  QMap<QString, QString> values;
  QString block; // the open parent key, while indented lines follow it
  for (const QString &rawLine : text.split(QLatin1Char('\n'))) {
    QString line = rawLine;
    if (line.endsWith(QLatin1Char('\r')))
      line.chop(1);
    const QString trimmed = line.trimmed();
    if (trimmed.isEmpty() || trimmed.startsWith(QLatin1Char('#')))
      continue;
    const bool indented = line.front().isSpace();
    const qsizetype colon = trimmed.indexOf(QLatin1Char(':'));
    if (colon <= 0)
      continue;
    const QString key = trimmed.left(colon).trimmed();
    const QString value = trimmed.mid(colon + 1).trimmed();
    if (!indented)
      block.clear();
    if (value.isEmpty()) {
      if (!indented)
        block = key; // `model:` opens a nested block
      continue;
    }
    values.insert(indented && !block.isEmpty() ? block + QLatin1Char('.') + key : key, value);
  }
  return values;
}

bool configValuesEqual(const QString &a, const QString &b) {
  if (a == b)
    return true;
  bool okA = false, okB = false;
  const double x = a.toDouble(&okA);
  const double y = b.toDouble(&okB);
  return okA && okB && x == y;
}

} // namespace preflab::ui
