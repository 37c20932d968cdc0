// Tests of the IDX reader (plain and gzip, bad headers, sizes) and of the Fashion-MNIST loader.
#include "core/data/fashion_mnist.h"
#include "core/data/idx_reader.h"
#include "core/io/input_error.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

using Bytes = std::vector<std::uint8_t>;

// An IDX file of unsigned bytes: magic, big-endian dims, then `data` (taken as is, so a test can
// make it shorter or longer than the dims say).
Bytes idxBytes(const std::vector<std::uint32_t> &dims, const Bytes &data, std::uint8_t dtype = 0x08) {
  Bytes bytes{0, 0, dtype, std::uint8_t(dims.size())};
  for (std::uint32_t dim : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      bytes.push_back(std::uint8_t(dim >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

Bytes counting(std::size_t size) {
  Bytes data(size);
  for (std::size_t i = 0; i < size; ++i)
    data[i] = std::uint8_t(i * 7 + 3);
  return data;
}

void writePlain(const std::string &path, const Bytes &bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}

void writeGzip(const std::string &path, const Bytes &bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  QVERIFY(file != nullptr);
  QCOMPARE(gzwrite(file, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
  QCOMPARE(gzclose(file), Z_OK);
}

std::string errorOf(const std::string &path) {
  try {
    readIdxFile(path);
  } catch (const InputError &error) {
    return error.what();
  }
  return {};
}

std::string errorOfSplit(const std::string &split, const std::string &directory) {
  try {
    loadFashionMnist(split, directory);
  } catch (const InputError &error) {
    return error.what();
  }
  return {};
}

} // namespace

class TestIdxReader : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QVERIFY(m_dir.isValid()); }
  void roundTrip_data();
  void roundTrip();
  void badFilesNameTheFile_data();
  void badFilesNameTheFile();
  void truncatedGzipIsAnError();
  void classNamesAndPrompts();
  void directoryOverride();
  void missingFilesNameDirectoryAndPackage();
  void wrongShapeNamesTheFile();
  void installedTestSplit();

private:
  std::string path(const QString &name) const { return m_dir.filePath(name).toStdString(); }
  // A fake Fashion-MNIST directory with `count` images of 28×28 and labels i % 10.
  std::string fakeDataset(const QString &name, std::uint32_t count, std::uint32_t side = 28);
  QTemporaryDir m_dir;
};

std::string TestIdxReader::fakeDataset(const QString &name, std::uint32_t count, std::uint32_t side) {
  QDir(m_dir.path()).mkpath(name);
  const std::string directory = path(name);
  Bytes labels(count);
  for (std::uint32_t i = 0; i < count; ++i)
    labels[i] = std::uint8_t(i % 10);
  writeGzip(directory + "/t10k-images-idx3-ubyte.gz",
            idxBytes({count, side, side}, counting(count * side * side)));
  writePlain(directory + "/t10k-labels-idx1-ubyte", idxBytes({count}, labels)); // uncompressed also works
  return directory;
}

void TestIdxReader::roundTrip_data() {
  QTest::addColumn<bool>("gzip");
  QTest::addColumn<QVector<std::uint32_t>>("dims");
  QTest::newRow("plain 3-d") << false << QVector<std::uint32_t>{3, 2, 4};
  QTest::newRow("gzip 3-d") << true << QVector<std::uint32_t>{3, 2, 4};
  QTest::newRow("plain 1-d") << false << QVector<std::uint32_t>{5};
  QTest::newRow("gzip, larger than one read chunk") << true << QVector<std::uint32_t>{3, 700, 700};
  QTest::newRow("empty first dim") << false << QVector<std::uint32_t>{0, 28, 28};
}

void TestIdxReader::roundTrip() {
  QFETCH(bool, gzip);
  QFETCH(QVector<std::uint32_t>, dims);
  std::size_t size = 1;
  for (std::uint32_t dim : dims)
    size *= dim;
  const Bytes data = counting(size);
  const std::string file = path(QString("round-%1.idx").arg(QTest::currentDataTag()));
  const Bytes bytes = idxBytes(std::vector<std::uint32_t>(dims.begin(), dims.end()), data);
  gzip ? writeGzip(file, bytes) : writePlain(file, bytes);
  const IdxArray array = readIdxFile(file);
  QCOMPARE(array.dims, std::vector<std::int64_t>(dims.begin(), dims.end()));
  QCOMPARE(array.count(), std::int64_t(dims.front()));
  QVERIFY(array.data == data);
}

void TestIdxReader::badFilesNameTheFile_data() {
  QTest::addColumn<QByteArray>("content");
  QTest::addColumn<QString>("expected"); // what() after "FILE: "
  const auto raw = [](const Bytes &bytes) {
    return QByteArray(reinterpret_cast<const char *>(bytes.data()), int(bytes.size()));
  };
  QTest::newRow("bad magic") << raw({0x1F, 0x00, 0x08, 0x01, 0, 0, 0, 1, 9})
                             << "key 'magic': not an IDX file (the first two bytes are not zero)";
  QTest::newRow("short header") << raw({0x00, 0x00})
                                << "key 'magic': the file has 2 bytes, too short for an IDX header";
  QTest::newRow("float data")
      << raw(idxBytes({2}, counting(8), 0x0D))
      << "key 'dtype': unsupported element type 0x0D (float32); only 0x08 (unsigned byte) is read";
  QTest::newRow("no dims") << raw({0x00, 0x00, 0x08, 0x00}) << "key 'dims': 0 dimensions; 1 to 8 are read";
  QTest::newRow("cut in the dims") << raw({0x00, 0x00, 0x08, 0x02, 0, 0, 0, 3, 0})
                                   << "key 'dims': the file ends inside the list of 2 dims";
  QTest::newRow("truncated data") << raw(idxBytes({2, 3}, counting(5)))
                                  << "key 'data': truncated: dims 2x3 need 6 bytes of data, the file has 5";
  QTest::newRow("more data than dims")
      << raw(idxBytes({2, 3}, counting(7)))
      << "key 'dims': dims 2x3 do not match the size: the file has more than 6 bytes of data";
  QTest::newRow("absurd dims") << raw(idxBytes({0xFFFFFFFF, 0xFFFFFFFF}, {}))
                               << "key 'dims': dims 4294967295x4294967295 describe more than 2^40 bytes";
}

void TestIdxReader::badFilesNameTheFile() {
  QFETCH(QByteArray, content);
  QFETCH(QString, expected);
  for (bool gzip : {false, true}) {
    const std::string file = path(QString("bad-%1%2").arg(QTest::currentDataTag()).arg(gzip ? ".gz" : ""));
    const Bytes bytes(content.begin(), content.end());
    gzip ? writeGzip(file, bytes) : writePlain(file, bytes);
    QCOMPARE(QString::fromStdString(errorOf(file)), QString::fromStdString(file) + ": " + expected);
  }
  const std::string missing = path("no-such.idx");
  QCOMPARE(errorOf(missing), missing + ": key 'file': no such file");
}

void TestIdxReader::truncatedGzipIsAnError() {
  const std::string whole = path("whole.gz");
  writeGzip(whole, idxBytes({4, 100, 100}, counting(40000)));
  std::ifstream input(whole, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  const std::string cut = path("cut.gz");
  std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const std::string message = errorOf(cut);
  QVERIFY2(message.find(cut + ": key 'data': ") == 0, message.c_str());
}

void TestIdxReader::classNamesAndPrompts() {
  const std::vector<std::string> &names = fashionMnistClassNames();
  QCOMPARE(names.size(), std::size_t(10));
  QCOMPARE(names.front(), std::string("T-shirt/top"));
  QCOMPARE(names.back(), std::string("Ankle boot"));
  QCOMPARE(fashionMnistPrompt(0), std::string("a photo of a t-shirt"));
  QCOMPARE(fashionMnistPrompt(1), std::string("a photo of a pair of trousers"));
  QCOMPARE(fashionMnistPrompt(7), std::string("a photo of a sneaker"));
  QCOMPARE(fashionMnistPrompt(9), std::string("a photo of an ankle boot"));
  QVERIFY_THROWS_EXCEPTION(std::out_of_range, fashionMnistNoun(10));
}

void TestIdxReader::directoryOverride() {
  const std::string directory = fakeDataset("fake", 12);
  const FashionMnistSplit split = loadFashionMnist("test", directory);
  QCOMPARE(split.directory, directory);
  QCOMPARE(split.count, std::int64_t(12));
  QCOMPARE(split.images.size(), std::size_t(12 * 28 * 28));
  QCOMPARE(split.labels[11], std::uint8_t(1));
  QCOMPARE(*split.image(1), std::uint8_t(28 * 28 * 7 + 3)); // counting() at index 784

  const QByteArray saved = qgetenv("PREFLAB_FASHION_MNIST_DIR");
  qputenv("PREFLAB_FASHION_MNIST_DIR", QByteArray::fromStdString(directory));
  QCOMPARE(fashionMnistDirectory(), directory);
  QVERIFY(fashionMnistAvailable("test"));
  QVERIFY(!fashionMnistAvailable("train"));
  QCOMPARE(loadFashionMnist("test").count, std::int64_t(12));
  QCOMPARE(fashionMnistDirectory("/elsewhere"), std::string("/elsewhere")); // a parameter wins
  saved.isNull() ? qunsetenv("PREFLAB_FASHION_MNIST_DIR") : qputenv("PREFLAB_FASHION_MNIST_DIR", saved);
}

void TestIdxReader::missingFilesNameDirectoryAndPackage() {
  const std::string directory = path("empty-dir");
  QDir().mkpath(QString::fromStdString(directory));
  const std::string message = errorOfSplit("train", directory);
  QVERIFY2(message.find(directory + ": Fashion-MNIST file train-images-idx3-ubyte.gz is missing") == 0,
           message.c_str());
  QVERIFY2(message.find("dataset-fashion-mnist") != std::string::npos, message.c_str());
  QVERIFY2(message.find("PREFLAB_FASHION_MNIST_DIR") != std::string::npos, message.c_str());
  QCOMPARE(errorOfSplit("valid", directory),
           std::string("key 'split': unknown Fashion-MNIST split 'valid'; use 'train' or 'test'"));
}

void TestIdxReader::wrongShapeNamesTheFile() {
  const std::string directory = fakeDataset("wrong-side", 2, 27);
  QCOMPARE(errorOfSplit("test", directory),
           directory +
               "/t10k-images-idx3-ubyte.gz: key 'dims': expected N x 28 x 28 images, the file holds 2x27x27");
}

void TestIdxReader::installedTestSplit() {
  if (!fashionMnistAvailable("test", kFashionMnistDefaultDir))
    QSKIP("dataset-fashion-mnist is not installed");
  const FashionMnistSplit split = loadFashionMnist("test", kFashionMnistDefaultDir);
  QCOMPARE(split.count, std::int64_t(10000));
  QCOMPARE(split.images.size(), std::size_t(10000) * 28 * 28);
  QCOMPARE(split.labels.size(), std::size_t(10000));
  std::vector<int> perClass(10, 0);
  for (std::uint8_t label : split.labels)
    ++perClass.at(label);
  QCOMPARE(perClass, std::vector<int>(10, 1000)); // the test split is balanced
}

PREFLAB_TEST_MAIN(TestIdxReader)

} // namespace preflab_tests
#include "tst_idx_reader.moc"
