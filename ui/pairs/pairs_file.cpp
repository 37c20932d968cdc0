// PairsFile: line-by-line JSON parsing of per-pair analysis files with file:line errors.
#include "ui/pairs/pairs_file.h"

#include "core/api/datasets.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

namespace preflab::ui {

namespace {

class LineParser {
public:
  LineParser(const QString &path, int line, const QJsonObject &object)
      : m_path(path.toStdString()), m_line(line), m_object(object) {}

  [[noreturn]] void fail(const QString &key, const QString &problem) const {
    throw core::InputError(m_path, m_line, key.toStdString(), problem.toStdString());
  }

  std::optional<double> number(const QString &key) const {
    const QJsonValue v = m_object.value(key);
    if (v.isUndefined() || v.isNull())
      return std::nullopt;
    if (!v.isDouble())
      fail(key, QStringLiteral("expected a number"));
    return v.toDouble();
  }

  std::optional<bool> boolean(const QString &key) const {
    const QJsonValue v = m_object.value(key);
    if (v.isUndefined() || v.isNull())
      return std::nullopt;
    if (!v.isBool())
      fail(key, QStringLiteral("expected true or false"));
    return v.toBool();
  }

  std::optional<QString> text(const QString &key) const {
    const QJsonValue v = m_object.value(key);
    if (v.isUndefined() || v.isNull())
      return std::nullopt;
    if (!v.isString())
      fail(key, QStringLiteral("expected a string"));
    return v.toString();
  }

  QString id() const {
    const QJsonValue v = m_object.value(QStringLiteral("id"));
    if (v.isString())
      return v.toString();
    if (v.isDouble())
      return QString::number(v.toDouble(), 'g', 17);
    fail(QStringLiteral("id"),
         v.isUndefined() ? QStringLiteral("missing") : QStringLiteral("expected a string or a number"));
  }

  std::map<double, bool> idealized() const {
    std::map<double, bool> out;
    const QString key = QStringLiteral("idealized_correct");
    const QJsonValue v = m_object.value(key);
    if (v.isUndefined() || v.isNull())
      return out;
    if (!v.isObject())
      fail(key, QStringLiteral("expected an object {beta: true|false}"));
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) {
      bool ok = false;
      const double beta = it.key().toDouble(&ok);
      if (!ok || !it.value().isBool())
        fail(key, QStringLiteral("entry '%1' is not a beta with true/false").arg(it.key()));
      out[beta] = it.value().toBool();
    }
    return out;
  }

private:
  std::string m_path;
  int m_line;
  const QJsonObject &m_object;
};

PairRecord parseRecord(const QString &path, int line, const QJsonObject &object) {
  const LineParser p(path, line, object);
  PairRecord r;
  r.line = line;
  r.id = p.id();
  r.implicitRewardMargin = p.number(QStringLiteral("implicit_reward_margin"));
  r.logpMargin = p.number(QStringLiteral("logp_margin"));
  r.c = p.number(QStringLiteral("c"));
  r.difficulty = p.number(QStringLiteral("difficulty"));
  r.raterFraction = p.number(QStringLiteral("rater_fraction"));
  r.rankedCorrectly = p.boolean(QStringLiteral("ranked_correctly"));
  r.rankedCorrectlyLenNorm = p.boolean(QStringLiteral("ranked_correctly_len_norm"));
  r.refRankedCorrectly = p.boolean(QStringLiteral("ref_ranked_correctly"));
  r.idealizedCorrect = p.idealized();
  const auto prompt = p.text(QStringLiteral("prompt"));
  const auto chosen = p.text(QStringLiteral("chosen"));
  const auto rejected = p.text(QStringLiteral("rejected"));
  r.hasTexts = prompt || chosen || rejected;
  r.prompt = prompt.value_or(QString());
  r.chosen = chosen.value_or(QString());
  r.rejected = rejected.value_or(QString());
  return r;
}

} // namespace

PairsFile PairsFile::read(const QString &path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly))
    throw core::InputError(path.toStdString(), 0, {}, "cannot open: " + file.errorString().toStdString());
  PairsFile out;
  out.path = path;
  int lineNumber = 0;
  while (!file.atEnd()) {
    const QByteArray line = file.readLine().trimmed();
    ++lineNumber;
    if (line.isEmpty()) {
      ++out.blankLines;
      continue;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(line, &error);
    if (error.error != QJsonParseError::NoError)
      throw core::InputError(path.toStdString(), lineNumber, {},
                             "invalid JSON at column " + std::to_string(error.offset + 1) + ": " +
                                 error.errorString().toStdString());
    if (!doc.isObject())
      throw core::InputError(path.toStdString(), lineNumber, {}, "expected a JSON object per line");
    out.records.push_back(parseRecord(path, lineNumber, doc.object()));
  }
  if (out.records.empty())
    throw core::InputError(path.toStdString(), 0, {}, "no pairs in the file");
  return out;
}

} // namespace preflab::ui
