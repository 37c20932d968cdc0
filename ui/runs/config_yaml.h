// Reading a run's resolved config.yaml as flat "key: value" pairs for display and diffs.
#pragma once

#include <QMap>
#include <QString>

namespace preflab::ui {

// Flattens the resolved config that core writes: top-level `key: value` lines and one level of
// nested blocks (`model:` followed by indented `n_layer: 3` becomes "model.n_layer" → "3").
// Comments and blank lines are skipped; values are kept as written (quotes included), so the
// display shows the file's own text. Lines it cannot read are skipped: this is a viewer for
// files core wrote, not a YAML parser (yaml-cpp is core's private dependency).
QMap<QString, QString> parseConfigYaml(const QString &text);

// True when two config values mean the same: equal text, or both numbers that compare equal
// ("0.10000000000000001" and "0.1" are the same double).
bool configValuesEqual(const QString &a, const QString &b);

} // namespace preflab::ui
