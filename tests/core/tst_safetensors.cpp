// Tests for the safetensors reader and writer: round trips, corrupt files, the reference layout.
#include "core/io/input_error.h"
#include "core/io/safetensors.h"

#include <torch/torch.h>

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <sys/stat.h>

#include <cstring>
#include <initializer_list>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

QByteArray lengthPrefix(quint64 n) {
  QByteArray out(8, '\0');
  for (int i = 0; i < 8; ++i)
    out[i] = char((n >> (8 * i)) & 0xff);
  return out;
}

// A safetensors file: little-endian header length, header text, data buffer.
QByteArray fileBytes(const QByteArray &header, const QByteArray &data = {}) {
  return lengthPrefix(quint64(header.size())) + header + data;
}

QByteArray floatBytes(std::initializer_list<float> values) {
  QByteArray out;
  for (float v : values) {
    quint32 bits;
    std::memcpy(&bits, &v, 4);
    for (int i = 0; i < 4; ++i)
      out.append(char((bits >> (8 * i)) & 0xff));
  }
  return out;
}

QByteArray int64Bytes(std::initializer_list<qint64> values) {
  QByteArray out;
  for (qint64 v : values)
    for (int i = 0; i < 8; ++i)
      out.append(char((quint64(v) >> (8 * i)) & 0xff));
  return out;
}

QByteArray readAll(const QString &path) {
  QFile file(path);
  return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

bool writeAll(const QString &path, const QByteArray &bytes) {
  QFile file(path);
  return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// Random values that `type` represents exactly, so a round trip must reproduce them bit for bit.
torch::Tensor sampleTensor(torch::ScalarType type, const std::vector<std::int64_t> &shape) {
  if (type == torch::kBool)
    return torch::randint(0, 2, shape).to(torch::kBool);
  if (type == torch::kUInt8)
    return torch::randint(0, 256, shape).to(type);
  if (c10::isIntegralType(type, /*includeBool=*/false))
    return torch::randint(-128, 128, shape).to(type);
  return torch::randn(shape).to(type);
}

} // namespace

class TestSafetensors : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void init() { torch::manual_seed(7); }

  void roundTrip_data();
  void roundTrip();
  void emptyFileRoundTrip();
  void writerLayout();
  void writerRejectsUnsupported();
  void referenceLayoutBytesExact();
  void referenceLayoutMixedDtypes();
  void missingFile();
  void notARegularFile();
  void corrupt_data();
  void corrupt();

private:
  QTemporaryDir m_dir;
};

void TestSafetensors::roundTrip_data() {
  QTest::addColumn<int>("dtype");
  QTest::addColumn<QList<qint64>>("shape");
  QTest::addColumn<bool>("transposed");
  const QList<qint64> shape{3, 5};
  QTest::newRow("F32") << int(torch::kFloat32) << shape << false;
  QTest::newRow("F16") << int(torch::kFloat16) << shape << false;
  QTest::newRow("BF16") << int(torch::kBFloat16) << shape << false;
  QTest::newRow("F64") << int(torch::kFloat64) << shape << false;
  QTest::newRow("I64") << int(torch::kInt64) << shape << false;
  QTest::newRow("I32") << int(torch::kInt32) << shape << false;
  QTest::newRow("I16") << int(torch::kInt16) << shape << false;
  QTest::newRow("I8") << int(torch::kInt8) << shape << false;
  QTest::newRow("U8") << int(torch::kUInt8) << shape << false;
  QTest::newRow("BOOL") << int(torch::kBool) << shape << false;
  QTest::newRow("0-rank F32") << int(torch::kFloat32) << QList<qint64>{} << false;
  QTest::newRow("empty [0] F32") << int(torch::kFloat32) << QList<qint64>{0} << false;
  QTest::newRow("empty [2,0,3] I64") << int(torch::kInt64) << QList<qint64>{2, 0, 3} << false;
  QTest::newRow("non-contiguous F32") << int(torch::kFloat32) << QList<qint64>{4, 6} << true;
}

void TestSafetensors::roundTrip() {
  QFETCH(int, dtype);
  QFETCH(QList<qint64>, shape);
  QFETCH(bool, transposed);
  auto tensor = sampleTensor(torch::ScalarType(dtype), {shape.begin(), shape.end()});
  if (transposed)
    tensor = tensor.t();
  const auto other = torch::arange(6, torch::kInt32).view({2, 3});
  const std::string path = m_dir.filePath("round_trip.safetensors").toStdString();
  writeSafetensors(path, {{"tensor", tensor}, {"other", other}}, {{"format", "pt"}});

  std::map<std::string, std::string> metadata{{"stale", "entry"}};
  const auto read = readSafetensors(path, &metadata);
  QCOMPARE(read.size(), std::size_t(2));
  const auto &back = read.at("tensor");
  QCOMPARE(int(back.scalar_type()), dtype);
  QCOMPARE(back.sizes().vec(), tensor.sizes().vec());
  QVERIFY(back.is_contiguous());
  QVERIFY2(torch::equal(back, tensor), "values changed in the round trip");
  QVERIFY(torch::equal(read.at("other"), other));
  QCOMPARE(metadata, (std::map<std::string, std::string>{{"format", "pt"}}));
  // Without an out-parameter the metadata is simply not returned.
  QCOMPARE(readSafetensors(path).size(), std::size_t(2));
}

void TestSafetensors::emptyFileRoundTrip() {
  const std::string path = m_dir.filePath("empty.safetensors").toStdString();
  writeSafetensors(path, {});
  QCOMPARE(readAll(QString::fromStdString(path)), fileBytes("{}      "));
  std::map<std::string, std::string> metadata{{"stale", "entry"}};
  QVERIFY(readSafetensors(path, &metadata).empty());
  QVERIFY(metadata.empty());
}

void TestSafetensors::writerLayout() {
  const QString path = m_dir.filePath("layout.safetensors");
  writeSafetensors(path.toStdString(), {{"zeta", torch::ones({3}, torch::kInt8)},
                                        {"alpha", torch::ones({2, 2})},
                                        {"mid", torch::ones({5}, torch::kFloat16)}});
  const QByteArray bytes = readAll(path);
  quint64 n = 0;
  for (int i = 7; i >= 0; --i)
    n = (n << 8) | quint8(bytes[i]);
  QCOMPARE(n % 8, quint64(0));
  QCOMPARE(bytes[8], '{');
  const QByteArray header = bytes.mid(8, int(n));
  QVERIFY2(header.trimmed().endsWith('}'), header.constData());
  QCOMPARE(quint64(bytes.size()), 8 + n + 16 + 10 + 3);
  // Data in name order: alpha, mid, zeta.
  QVERIFY2(header.contains(R"("alpha":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})"),
           header.constData());
  QVERIFY(header.contains(R"("mid":{"dtype":"F16","shape":[5],"data_offsets":[16,26]})"));
  QVERIFY(header.contains(R"("zeta":{"dtype":"I8","shape":[3],"data_offsets":[26,29]})"));
}

void TestSafetensors::writerRejectsUnsupported() {
  const std::string path = m_dir.filePath("rejected.safetensors").toStdString();
  QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                           writeSafetensors(path, {{"c", torch::zeros({2}, torch::kComplexFloat)}}));
  QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                           writeSafetensors(path, {{"__metadata__", torch::zeros({2})}}));
  QVERIFY(!QFile::exists(QString::fromStdString(path)));
}

// The bytes the reference writer produces for {"bias": F32[2], "weight": F32[2,2]} with
// metadata {"format": "pt"}, written out by hand: the writer must match them and the reader
// must read them.
void TestSafetensors::referenceLayoutBytesExact() {
  QByteArray header = R"({"__metadata__":{"format":"pt"},)"
                      R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]}})";
  QCOMPARE(header.size(), 149);
  header.append(3, ' '); // padded to 152 = 19 * 8
  const QByteArray expected = fileBytes(header, floatBytes({0.5f, -1.0f, 1, 2, 3, 4}));

  const QString path = m_dir.filePath("reference.safetensors");
  QVERIFY(writeAll(path, expected));
  std::map<std::string, std::string> metadata;
  const auto read = readSafetensors(path.toStdString(), &metadata);
  QVERIFY(torch::equal(read.at("bias"), torch::tensor({0.5f, -1.0f})));
  QVERIFY(torch::equal(read.at("weight"), torch::tensor({1.f, 2.f, 3.f, 4.f}).view({2, 2})));
  QCOMPARE(metadata.at("format"), std::string("pt"));

  const QString ours = m_dir.filePath("ours.safetensors");
  writeSafetensors(ours.toStdString(), read, metadata);
  QCOMPARE(readAll(ours), expected);
}

// A reader may not assume name order: the reference writer puts wider dtypes first.
void TestSafetensors::referenceLayoutMixedDtypes() {
  const QByteArray header = R"({"b_ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},)"
                            R"("a_w":{"dtype":"F32","shape":[1,2],"data_offsets":[16,24]},)"
                            R"("c_mask":{"dtype":"BOOL","shape":[3],"data_offsets":[24,27]}})";
  const QByteArray data =
      int64Bytes({-3, 1LL << 40}) + floatBytes({1.5f, -2.25f}) + QByteArray("\x01\x00\x01", 3);
  const QString path = m_dir.filePath("mixed.safetensors");
  QVERIFY(writeAll(path, fileBytes(header, data)));
  const auto read = readSafetensors(path.toStdString());
  QVERIFY(torch::equal(read.at("b_ids"), torch::tensor({std::int64_t(-3), std::int64_t(1) << 40})));
  QVERIFY(torch::equal(read.at("a_w"), torch::tensor({1.5f, -2.25f}).view({1, 2})));
  QVERIFY(torch::equal(read.at("c_mask"), torch::tensor({true, false, true})));
}

void TestSafetensors::missingFile() {
  const std::string path = m_dir.filePath("absent.safetensors").toStdString();
  try {
    readSafetensors(path);
    QFAIL("no InputError for a missing file");
  } catch (const InputError &e) {
    QCOMPARE(e.file(), path);
    QVERIFY2(QString(e.what()).contains("no such file"), e.what());
  }
}

// A folder or FIFO in place of the weights: named as such, and the FIFO must not block the open.
void TestSafetensors::notARegularFile() {
  const std::string dir = m_dir.filePath("model.safetensors").toStdString();
  QVERIFY(QDir().mkpath(QString::fromStdString(dir)));
  try {
    readSafetensors(dir);
    QFAIL("a directory was read as weights");
  } catch (const InputError &e) {
    QVERIFY2(QString(e.what()).contains("is a directory"), e.what());
  }
  const std::string fifo = m_dir.filePath("fifo.safetensors").toStdString();
  QCOMPARE(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    readSafetensors(fifo);
    QFAIL("a FIFO was read as weights");
  } catch (const InputError &e) {
    QVERIFY2(QString(e.what()).contains("not a regular file"), e.what());
  }
}

void TestSafetensors::corrupt_data() {
  QTest::addColumn<QByteArray>("bytes");
  QTest::addColumn<QString>("key");
  QTest::addColumn<QString>("fragment");
  const QByteArray four = floatBytes({1});
  const QByteArray eight = floatBytes({1, 2});
  const QByteArray twelve = floatBytes({1, 2, 3});
  auto f32 = [](const char *name, const char *shape, int begin, int end) {
    return QByteArray("\"") + name + R"(":{"dtype":"F32","shape":)" + shape + R"(,"data_offsets":[)" +
           QByteArray::number(begin) + "," + QByteArray::number(end) + "]}";
  };

  // One row per line, so the rows read as a table.
  // clang-format off
  QTest::newRow("shorter than 8 bytes") << QByteArray("\x05\x00\x00", 3) << "" << "fewer than the 8-byte";
  QTest::newRow("header length beyond the file") << lengthPrefix(1000) + "{}" << "" << "larger than the file";
  QTest::newRow("header length over the limit") << lengthPrefix(100000001) + "{}" << "" << "exceeds the limit";
  QTest::newRow("header not JSON") << fileBytes(R"({"a":{"dtype":"F32",)") << "" << "not valid JSON";
  QTest::newRow("header is an array") << fileBytes("[1,2]") << "" << "does not start with '{'";
  QTest::newRow("header starts with a space") << fileBytes(" {}") << "" << "does not start with '{'";
  QTest::newRow("header with invalid UTF-8") << fileBytes("{\"\xff\":1}") << "" << "not valid JSON";
  QTest::newRow("entry not an object") << fileBytes(R"({"a":3})") << "a" << "must be an object";
  QTest::newRow("missing dtype") << fileBytes(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", four) << "a" << "no \"dtype\"";
  QTest::newRow("missing shape") << fileBytes(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", four) << "a" << "no \"shape\"";
  QTest::newRow("missing data_offsets") << fileBytes(R"({"a":{"dtype":"F32","shape":[1]}})", four) << "a" << "no \"data_offsets\"";
  QTest::newRow("unknown dtype") << fileBytes(R"({"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}})", four) << "a" << "unknown dtype 'F17'";
  QTest::newRow("unsupported dtype U16") << fileBytes(R"({"a":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}})", four) << "a" << "dtype 'U16' is not supported";
  QTest::newRow("unsupported dtype F8_E4M3") << fileBytes(R"({"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", four) << "a" << "dtype 'F8_E4M3' is not supported";
  QTest::newRow("offsets past the buffer") << fileBytes("{" + f32("a", "[2]", 0, 8) + "}", four) << "a" << "run past the end";
  QTest::newRow("begin after end") << fileBytes("{" + f32("a", "[1]", 8, 4) + "}", twelve) << "a" << "is after end";
  QTest::newRow("byte size != numel * itemsize") << fileBytes("{" + f32("a", "[3]", 0, 8) + "}", eight) << "a" << "needs 12";
  QTest::newRow("overlapping buffers") << fileBytes("{" + f32("a", "[2]", 0, 8) + "," + f32("b", "[2]", 4, 12) + "}", twelve) << "b" << "overlaps";
  QTest::newRow("hole between tensors") << fileBytes("{" + f32("a", "[1]", 0, 4) + "," + f32("b", "[1]", 8, 12) + "}", twelve) << "b" << "hole";
  QTest::newRow("trailing bytes") << fileBytes("{" + f32("a", "[1]", 0, 4) + "}", eight) << "" << "belong to no tensor";
  QTest::newRow("negative dimension") << fileBytes("{" + f32("a", "[-1]", 0, 4) + "}", four) << "a" << "negative dimension -1";
  QTest::newRow("fractional dimension") << fileBytes("{" + f32("a", "[1.5]", 0, 4) + "}", four) << "a" << "non-negative integers";
  QTest::newRow("shape overflows") << fileBytes("{" + f32("a", "[4294967296,4294967296,16]", 0, 4) + "}", four) << "a" << "overflows";
  QTest::newRow("offsets not a pair") << fileBytes(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4]}})", four) << "a" << "two non-negative integers";
  QTest::newRow("negative offset") << fileBytes("{" + f32("a", "[1]", -4, 0) + "}", four) << "a" << "two non-negative integers";
  QTest::newRow("duplicate tensor key") << fileBytes("{" + f32("a", "[1]", 0, 4) + "," + f32("a", "[1]", 0, 4) + "}", four) << "a" << "duplicate key";
  QTest::newRow("duplicate field in entry") << fileBytes(R"({"a":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})", four) << "dtype" << "duplicate key";
  QTest::newRow("metadata value not a string") << fileBytes(R"({"__metadata__":{"epoch":1}})") << "__metadata__.epoch" << "must be strings";
  QTest::newRow("BOOL byte other than 0/1") << fileBytes(R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})",
                   QByteArray("\x01\x02", 2))
      << "m"
      << "only 0 and 1";
  // clang-format on
}

void TestSafetensors::corrupt() {
  QFETCH(QByteArray, bytes);
  QFETCH(QString, key);
  QFETCH(QString, fragment);
  const QString path = m_dir.filePath("corrupt.safetensors");
  QVERIFY(writeAll(path, bytes));
  try {
    readSafetensors(path.toStdString());
    QFAIL("no InputError for a corrupt file");
  } catch (const InputError &e) {
    const QString what = QString::fromUtf8(e.what());
    QCOMPARE(QString::fromStdString(e.file()), path);
    QVERIFY2(what.contains(path), qPrintable(what));
    QCOMPARE(QString::fromStdString(e.key()), key);
    QVERIFY2(what.contains(fragment), qPrintable(what));
  }
}

PREFLAB_TEST_MAIN(TestSafetensors)

} // namespace preflab_tests
#include "tst_safetensors.moc"
