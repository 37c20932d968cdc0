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

QString runObjectiveLabel(const QMap<QString, QString> &config) {
  const QString trainer = config.value(QStringLiteral("trainer"));
  const QString loss = config.value(QStringLiteral("loss_type"));
  if (trainer == QLatin1String("wro"))
    return QStringLiteral("wro (h = %1)")
        .arg(config.value(QStringLiteral("wro.h"), QStringLiteral("identity")));
  if (trainer == QLatin1String("d2po"))
    return QStringLiteral("d2po (%1)").arg(loss);
  if (trainer == QLatin1String("mpo"))
    return QStringLiteral("mpo");
  return loss;
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
