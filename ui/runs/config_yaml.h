// Reading a run's resolved config.yaml as flat "key: value" pairs for display and diffs.
#pragma once

#include <QMap>
#include <QString>

namespace preflab::ui {

// Flattens the resolved config that core writes through core::flattenConfigYaml (the run-folder
// reader's): nested blocks become dotted keys (`model:` + `n_layer: 3` → "model.n_layer" → "3"),
// an empty string shows as "" so the diff has something to show. A config that is not YAML gives
// an empty map.
QMap<QString, QString> parseConfigYaml(const QString &text);

// What the run list's Objective column says of a run's config: its loss_type, and for the online
// and mixing trainers what they are ("wro (h = logit)", "d2po (dpo)", "mpo").
QString runObjectiveLabel(const QMap<QString, QString> &config);

// True when two config values mean the same: equal text, or both numbers that compare equal
// ("0.10000000000000001" and "0.1" are the same double).
bool configValuesEqual(const QString &a, const QString &b);

} // namespace preflab::ui
