// Golden-file tests of the image preference manifest reader and of image loading (decode, resize, crop).
#include "core/data/image_file.h"
#include "core/data/image_preference_reader.h"
#include "core/io/input_error.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <fstream>
#include <string>

using namespace preflab::core;

// tests/data/image_pairs/ holds tiny images and manifests; its README.md says what each one is.
// Tests that decode images skip in a build without OpenCV, where one test checks the error instead.

namespace preflab_tests { // one per test file (test_main.h)

namespace {

const std::string kPairsDir = std::string(PREFLAB_TEST_DATA_DIR) + "/image_pairs";

std::string pairsFile(const char *name) {
  return kPairsDir + "/" + name;
}

std::string fileName(const std::string &path) {
  return path.substr(path.find_last_of('/') + 1);
}

// Reads with the options and returns the InputError's what(), or "" when nothing was thrown.
std::string errorOf(const std::string &path, const ImageReadOptions &options) {
  try {
    readImagePreferences(path, options);
  } catch (const InputError &error) {
    return error.what();
  }
  return {};
}

ImageReadOptions manifestOnly() {
  ImageReadOptions options;
  options.loadImages = false;
  return options;
}

#define REQUIRE_DECODING()                                                                                   \
  do {                                                                                                       \
    if (!imageDecodingAvailable())                                                                           \
      QSKIP("this build reads no image files (PREFLAB_WITH_OPENCV=OFF)");                                    \
  } while (false)

} // namespace

class TestImagePreferenceReader : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void initTestCase() { QVERIFY(m_dir.isValid()); }
  void goldenManifestDropsTies();
  void keptTieCarriesHalfLabel();
  void swapMovesWinnerFirst();
  void missingAndCorruptImagesAreListed();
  void eachFormatDecodes_data();
  void eachFormatDecodes();
  void resizeAndCentreCrop_data();
  void resizeAndCentreCrop();
  void grayscaleOption();
  void withoutOpenCvImagesAreAnError();
  void goldenErrorsNameFileLineKey_data();
  void goldenErrorsNameFileLineKey();
  void skipInvalidListsBadLines();
  void recordErrors_data();
  void recordErrors();
  void fileLevelErrors();

private:
  std::string writeManifest(const std::string &content);
  QTemporaryDir m_dir;
  int m_files = 0;
};

std::string TestImagePreferenceReader::writeManifest(const std::string &content) {
  const std::string path = m_dir.filePath(QString("m%1.jsonl").arg(++m_files)).toStdString();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

void TestImagePreferenceReader::goldenManifestDropsTies() {
  REQUIRE_DECODING();
  ImageReadOptions options;
  options.resolution = 6;
  const ImagePreferenceData data = readImagePreferences(pairsFile("manifest.jsonl"), options);
  QCOMPARE(data.records, std::int64_t(6));
  QCOMPARE(data.blankLines, std::int64_t(1));
  QCOMPARE(data.tiesDropped, std::int64_t(1));
  QCOMPARE(data.swappedPairs, std::int64_t(1));
  QCOMPARE(data.skipped.size(), std::size_t(0));
  QCOMPARE(data.pairs.size(), std::size_t(2));
  const ImagePair &first = data.pairs[0];
  QCOMPARE(first.id, std::string("p1"));
  QCOMPARE(first.line, std::int64_t(1));
  QCOMPARE(first.caption, std::string("a red photo beats a black and white one"));
  QCOMPARE(first.path0, pairsFile("red.jpg"));
  QCOMPARE(first.label0, 1.0);
  QVERIFY(!first.swapped);
  QCOMPARE(first.raterFraction.value_or(-1), 0.75);
  QCOMPARE(first.raterCount.value_or(-1), 4);
  for (const ImageBuffer *image : {&first.image0, &first.image1}) {
    QCOMPARE(image->width, 6);
    QCOMPARE(image->height, 6);
    QCOMPARE(image->channels, 3);
    QCOMPARE(image->pixels.size(), std::size_t(6 * 6 * 3));
  }
}

void TestImagePreferenceReader::keptTieCarriesHalfLabel() {
  ImageReadOptions options = manifestOnly();
  options.ties = TiePolicy::Keep;
  const ImagePreferenceData data = readImagePreferences(pairsFile("manifest.jsonl"), options);
  QCOMPARE(data.tiesDropped, std::int64_t(0));
  QCOMPARE(data.pairs.size(), std::size_t(6)); // no image is read, so none is skipped
  const ImagePair &tie = data.pairs[2];
  QCOMPARE(tie.line, std::int64_t(3));
  QCOMPARE(tie.label0, 0.5);
  QVERIFY(!tie.swapped);
  QCOMPARE(fileName(tie.path0), std::string("green.png"));
  QCOMPARE(tie.id, std::string("3"));
  QVERIFY(tie.image0.empty());

  if (!imageDecodingAvailable())
    return;
  options.loadImages = true;
  const ImagePreferenceData loaded = readImagePreferences(pairsFile("manifest.jsonl"), options);
  QCOMPARE(loaded.pairs.size(), std::size_t(3));
  QCOMPARE(loaded.pairs[2].label0, 0.5);
  QVERIFY(!loaded.pairs[2].image1.empty());
}

void TestImagePreferenceReader::swapMovesWinnerFirst() {
  const ImagePreferenceData data = readImagePreferences(pairsFile("manifest.jsonl"), manifestOnly());
  const ImagePair &pair = data.pairs[1];
  QCOMPARE(pair.id, std::string("7"));
  QVERIFY(pair.swapped);
  QCOMPARE(pair.label0, 1.0);
  QCOMPARE(fileName(pair.path0), std::string("blue.webp")); // jpg_1 won
  QCOMPARE(fileName(pair.path1), std::string("halves.png"));
  QCOMPARE(pair.raterFraction.value_or(-1), 0.75); // raters preferring image0 after the swap
}

void TestImagePreferenceReader::missingAndCorruptImagesAreListed() {
  REQUIRE_DECODING();
  const ImagePreferenceData data = readImagePreferences(pairsFile("manifest.jsonl"));
  QCOMPARE(data.skippedImages.size(), std::size_t(3));
  const struct {
    std::int64_t line;
    const char *file;
    const char *reason;
  } expected[] = {{5, "does_not_exist.png", "no such file"},
                  {6, "truncated_halves.png", "cannot be decoded"},
                  {7, "truncated_red.jpg", "truncated JPEG"}};
  for (std::size_t i = 0; i < 3; ++i) {
    const SkippedImagePair &skip = data.skippedImages[i];
    QCOMPARE(skip.line, expected[i].line);
    QCOMPARE(skip.path, pairsFile(expected[i].file));
    QVERIFY2(skip.reason.find(expected[i].reason) != std::string::npos, skip.reason.c_str());
  }
  // Only kept pairs count as swapped: line 7 was swapped, then skipped for its image.
  QCOMPARE(data.swappedPairs, std::int64_t(1));
}

void TestImagePreferenceReader::eachFormatDecodes_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<int>("red");
  QTest::addColumn<int>("green");
  QTest::addColumn<int>("blue");
  QTest::addColumn<int>("tolerance");
  QTest::newRow("PNG") << "green.png" << 0 << 255 << 0 << 0;
  QTest::newRow("JPEG (lossy)") << "red.jpg" << 255 << 0 << 0 << 6;
  QTest::newRow("WebP (lossless)") << "blue.webp" << 0 << 0 << 255 << 0;
}

void TestImagePreferenceReader::eachFormatDecodes() {
  REQUIRE_DECODING();
  QFETCH(QString, file);
  QFETCH(int, red);
  QFETCH(int, green);
  QFETCH(int, blue);
  QFETCH(int, tolerance);
  const ImageBuffer image = loadImageFile(kPairsDir + "/" + file.toStdString(), 0);
  QVERIFY(image.width > 0 && image.height > 0);
  QCOMPARE(image.channels, 3);
  const int expected[] = {red, green, blue}; // RGB order, not OpenCV's BGR
  for (int channel = 0; channel < 3; ++channel)
    QVERIFY2(std::abs(int(image.at(image.width / 2, image.height / 2, channel)) - expected[channel]) <=
                 tolerance,
             qPrintable(QString("channel %1 is %2")
                            .arg(channel)
                            .arg(image.at(image.width / 2, image.height / 2, channel))));
}

void TestImagePreferenceReader::resizeAndCentreCrop_data() {
  QTest::addColumn<int>("resolution");
  QTest::addColumn<QByteArray>("row"); // expected luminance along one row, 0 or 255
  // 8×6, black for x < 4: no resize, the crop drops column 0 and column 7.
  QTest::newRow("crop only") << 6 << QByteArray("\x00\x00\x00\xff\xff\xff", 6);
  // Halved by INTER_AREA to 4×3 (each output averages 2×2 equal pixels), then columns 0..2 kept.
  QTest::newRow("shrink") << 3 << QByteArray("\x00\x00\xff", 3);
  // Enlarged to 16×12: the edge between the halves blends, the outer columns stay pure.
  QTest::newRow("enlarge") << 12 << QByteArray();
}

void TestImagePreferenceReader::resizeAndCentreCrop() {
  REQUIRE_DECODING();
  QFETCH(int, resolution);
  QFETCH(QByteArray, row);
  const ImageBuffer image = loadImageFile(pairsFile("halves.png"), resolution);
  QCOMPARE(image.width, resolution);
  QCOMPARE(image.height, resolution);
  QCOMPARE(image.pixels.size(), std::size_t(resolution * resolution * 3));
  for (int y = 0; y < resolution; ++y)
    for (int x = 0; x < row.size(); ++x)
      for (int channel = 0; channel < 3; ++channel)
        QCOMPARE(int(image.at(x, y, channel)), int(std::uint8_t(row[x])));
  if (row.isEmpty()) {
    QCOMPARE(int(image.at(0, 0)), 0);
    QCOMPARE(int(image.at(resolution - 1, resolution - 1)), 255);
  }
  // A portrait image keeps its middle rows: 12×16 green becomes 6×8, then rows 1..6.
  const ImageBuffer portrait = loadImageFile(pairsFile("green.png"), 6);
  QCOMPARE(portrait.width, 6);
  QCOMPARE(portrait.height, 6);
  QCOMPARE(int(portrait.at(5, 5, 1)), 255);
}

void TestImagePreferenceReader::grayscaleOption() {
  REQUIRE_DECODING();
  ImageReadOptions options;
  options.resolution = 6;
  options.channels = 1;
  const ImagePreferenceData data = readImagePreferences(pairsFile("manifest.jsonl"), options);
  const ImageBuffer &halves = data.pairs[0].image1;
  QCOMPARE(halves.channels, 1);
  QCOMPARE(halves.pixels.size(), std::size_t(36));
  QCOMPARE(int(halves.at(0, 0)), 0);
  QCOMPARE(int(halves.at(5, 0)), 255);
  const int red = data.pairs[0].image0.at(3, 3); // luminance of pure red: 0.299 * 255
  QVERIFY2(std::abs(red - 76) <= 4, qPrintable(QString::number(red)));
}

void TestImagePreferenceReader::withoutOpenCvImagesAreAnError() {
  if (imageDecodingAvailable())
    QSKIP("this build decodes images (PREFLAB_WITH_OPENCV=ON)");
  const std::string message = errorOf(pairsFile("manifest.jsonl"), ImageReadOptions{});
  QVERIFY2(message.find("PREFLAB_WITH_OPENCV=ON") != std::string::npos, message.c_str());
  QVERIFY_THROWS_EXCEPTION(InputError, loadImageFile(pairsFile("halves.png"), 6));
}

void TestImagePreferenceReader::goldenErrorsNameFileLineKey_data() {
  QTest::addColumn<QString>("file");
  QTest::addColumn<QString>("expected");
  QTest::newRow("malformed JSON") << "malformed.jsonl"
                                  << "malformed.jsonl:2: invalid JSON";
  QTest::newRow("missing key") << "missing_key.jsonl"
                               << "missing_key.jsonl:2: key 'jpg_1': missing";
}

void TestImagePreferenceReader::goldenErrorsNameFileLineKey() {
  QFETCH(QString, file);
  QFETCH(QString, expected);
  const std::string message = errorOf(kPairsDir + "/" + file.toStdString(), manifestOnly());
  QVERIFY2(message.find(kPairsDir + "/" + expected.toStdString()) == 0, message.c_str());
}

void TestImagePreferenceReader::skipInvalidListsBadLines() {
  ImageReadOptions options = manifestOnly();
  options.skipInvalid = true;
  const ImagePreferenceData data = readImagePreferences(pairsFile("malformed.jsonl"), options);
  QCOMPARE(data.pairs.size(), std::size_t(2));
  QCOMPARE(data.skipped.size(), std::size_t(1));
  QCOMPARE(data.skipped[0].line, std::int64_t(2));
  QVERIFY(data.skipped[0].reason.find("invalid JSON") == 0);
  const ImagePreferenceData missing = readImagePreferences(pairsFile("missing_key.jsonl"), options);
  QCOMPARE(missing.pairs.size(), std::size_t(1));
  QCOMPARE(missing.skipped.at(0).reason, std::string("key 'jpg_1': missing"));
}

void TestImagePreferenceReader::recordErrors_data() {
  QTest::addColumn<QString>("record");
  QTest::addColumn<QString>("expected"); // what() after "FILE:1: "
  const QString base = R"("caption": "c", "jpg_0": "a.png", "jpg_1": "b.png")";
  QTest::newRow("label 2") << "{" + base + R"(, "label_0": 2})"
                           << "key 'label_0': must be 1, 0 or 0.5, not 2";
  QTest::newRow("label string") << "{" + base + R"(, "label_0": "1"})"
                                << "key 'label_0': must be a number (1, 0 or 0.5), not string";
  QTest::newRow("no label") << "{" + base + "}"
                            << "key 'label_0': missing";
  QTest::newRow("caption number") << R"({"caption": 3, "jpg_0": "a.png", "jpg_1": "b.png", "label_0": 1})"
                                  << "key 'caption': must be a string, not number";
  QTest::newRow("empty path") << R"({"caption": "c", "jpg_0": "", "jpg_1": "b.png", "label_0": 1})"
                              << "key 'jpg_0': the image path is empty";
  QTest::newRow("fraction 1.5") << "{" + base + R"(, "label_0": 1, "rater_fraction": 1.5})"
                                << "key 'rater_fraction': must lie in [0, 1], not 1.5";
  QTest::newRow("count 2.5") << "{" + base + R"(, "label_0": 1, "rater_count": 2.5})"
                             << "key 'rater_count': must be a whole number, not 2.5";
  QTest::newRow("count 0") << "{" + base + R"(, "label_0": 1, "rater_count": 0})"
                           << "key 'rater_count': must be at least 1, not 0";
  QTest::newRow("id bool") << "{" + base + R"(, "label_0": 1, "id": true})"
                           << "key 'id': must be a string or an integer, not boolean";
  QTest::newRow("array") << "[1, 2]"
                         << "each line must be a JSON object, not array";
}

void TestImagePreferenceReader::recordErrors() {
  QFETCH(QString, record);
  QFETCH(QString, expected);
  const std::string path = writeManifest(record.toStdString() + "\n");
  QCOMPARE(QString::fromStdString(errorOf(path, manifestOnly())),
           QString::fromStdString(path) + ":1: " + expected);
}

void TestImagePreferenceReader::fileLevelErrors() {
  const std::string missing = m_dir.filePath("nothing.jsonl").toStdString();
  QCOMPARE(errorOf(missing, manifestOnly()), missing + ": no such file");
  const std::string blank = writeManifest("\n  \n");
  QVERIFY(errorOf(blank, manifestOnly()).find(blank + ": no records") == 0);
  ImageReadOptions badChannels = manifestOnly();
  badChannels.channels = 4;
  QCOMPARE(errorOf(blank, badChannels), blank + ": key 'channels': must be 1 or 3, not 4");
  ImageReadOptions skipAll = manifestOnly();
  skipAll.skipInvalid = true;
  const std::string allBad = writeManifest("{}\nnot json\n");
  QVERIFY(errorOf(allBad, skipAll).find("no valid records: all 2") != std::string::npos);
}

PREFLAB_TEST_MAIN(TestImagePreferenceReader)

} // namespace preflab_tests
#include "tst_image_preference_reader.moc"
