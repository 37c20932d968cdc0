// parseConfigYaml: core's config flattening (RunReader) as Qt strings for the run browser.
#include "ui/runs/config_yaml.h"

#include "core/api/run_reader.h"

#include <QStringList>

namespace preflab::ui {

QMap<QString, QString> parseConfigYaml(const QString &text) {
  QMap<QString, QString> values;
  for (const auto &[key, value] : core::flattenConfigYaml(text.toStdString()))
    values.insert(QString::fromStdString(key),
                  value.empty() ? QStringLiteral("\"\"") : QString::fromStdString(value));
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
