// Tests the TensorBoard event writer's framing: CRC-32C against its published check value, the
// masked form, and the records of a file read back by length and checksum.
#include "core/io/input_error.h"
#include "core/io/tensorboard_events.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <cstring>
#include <fstream>
#include <iterator>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

class TestTensorBoardEvents : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void crc32cMatchesItsCheckValue() {
    // The CRC-32C check value of "123456789" (RFC 3720, appendix B.4).
    QCOMPARE(crc32c("123456789", 9), std::uint32_t(0xE3069283u));
    QCOMPARE(crc32c("", 0), std::uint32_t(0));
    const std::uint32_t c = crc32c("abc", 3);
    QCOMPARE(maskedCrc32c("abc", 3), std::uint32_t(((c >> 15) | (c << 17)) + 0xa282ead8u));
  }

  // Every record: its length, the masked CRC of the length, the payload, the masked CRC of the
  // payload; the first is the file_version event, non-finite metrics are left out.
  void recordsAreFramedAndChecksummed() {
    QTemporaryDir dir;
    std::string path;
    {
      EventFileWriter w(dir.path().toStdString());
      path = w.path();
      QVERIFY(QFileInfo(QString::fromStdString(path)).fileName().startsWith("events.out.tfevents."));
      w.writeScalars(3, 1.5e9, {{"loss", 0.69}, {"bad", std::nan("")}});
      w.writeScalars(4, 1.5e9, {{"bad", std::nan("")}}); // nothing finite: no event
      w.writeSessionStart(2, 1.5e9);
    }
    std::ifstream in(path, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> payloads;
    for (std::size_t i = 0; i < data.size();) {
      QVERIFY(i + 12 <= data.size());
      std::uint64_t length = 0;
      std::uint32_t crcLength = 0, crcData = 0;
      std::memcpy(&length, data.data() + i, 8);
      std::memcpy(&crcLength, data.data() + i + 8, 4);
      QCOMPARE(crcLength, maskedCrc32c(data.data() + i, 8));
      QVERIFY(i + 16 + length <= data.size());
      std::memcpy(&crcData, data.data() + i + 12 + length, 4);
      QCOMPARE(crcData, maskedCrc32c(data.data() + i + 12, length));
      payloads.push_back(data.substr(i + 12, length));
      i += 16 + length;
    }
    QCOMPARE(payloads.size(), std::size_t(3));
    QVERIFY(payloads[0].find("brain.Event:2") != std::string::npos);
    QVERIFY(payloads[1].find("loss") != std::string::npos);
    QVERIFY(payloads[1].find("bad") == std::string::npos);
  }

  // Another tool's file (tests/data/tensorboard/write_events.py, an independent writer): its
  // simple_value and TensorFlow 2 tensor scalars, the text skipped; a record still being written
  // is left for later; a damaged record is named by its byte offset.
  void readsOtherToolsScalars() {
    const std::string path = PREFLAB_TEST_DATA_DIR
        "/tensorboard/trl_logdir/runs/Dec04_00-00-00_host/events.out.tfevents.1764806400.host.1.0";
    std::ifstream in(path, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t offset = 0;
    const auto all = readEventScalars(data, offset, path);
    QCOMPARE(offset, data.size());
    QCOMPARE(all.size(), std::size_t(10));
    QCOMPARE(all[0].tag, std::string("train/loss"));
    QCOMPARE(all[0].step, std::int64_t(1));
    QCOMPARE(all[0].value, double(0.6931f));
    QCOMPARE(all[0].wallTime, 1764806401.0);
    QCOMPARE(all[8].tag, std::string("train/rewards/accuracies"));
    QCOMPARE(all[8].value, 1.0);
    QCOMPARE(all[9].tag, std::string("eval/loss")); // the TensorFlow 2 scalar
    QCOMPARE(all[9].step, std::int64_t(3));
    QCOMPARE(all[9].value, double(0.6612f));
    // Cut inside the last record: the others are read, the offset stops before it.
    const auto cut = data.substr(0, data.size() - 5);
    std::size_t partial = 0;
    QCOMPARE(readEventScalars(cut, partial, path).size(), std::size_t(9));
    QVERIFY(partial < cut.size());
    std::size_t rest = partial;
    QCOMPARE(readEventScalars(data, rest, path).size(), std::size_t(1)); // read on from there
    // One flipped payload byte.
    auto damaged = data;
    damaged[40] ^= 0x01;
    std::size_t at = 0;
    try {
      readEventScalars(damaged, at, path);
      QFAIL("a damaged record must be refused");
    } catch (const InputError &e) {
      QVERIFY2(std::string(e.what()).find("record at byte") != std::string::npos, e.what());
      QVERIFY2(std::string(e.what()).find("events.out.tfevents") != std::string::npos, e.what());
    }
    // Not an event file at all.
    std::size_t none = 0;
    QVERIFY_THROWS_EXCEPTION(InputError, readEventScalars(std::string(64, 'x'), none, "f"));
  }

  // The text plugin's and the image summary's messages, byte for byte from event.proto,
  // summary.proto, tensor.proto and tensor_shape.proto (field numbers and wire types).
  void textAndImageEventsAreEncodedAsTheProtosSay() {
    QTemporaryDir dir;
    std::string path;
    {
      EventFileWriter w(dir.path().toStdString());
      path = w.path();
      w.writeText(5, 0.0, "t", "hi");
      w.writeImage(7, 0.0, "g", "PNG", 2, 3, 1);
    }
    std::ifstream in(path, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> payloads;
    for (std::size_t i = 0; i + 12 <= data.size();) {
      std::uint64_t length = 0;
      std::memcpy(&length, data.data() + i, 8);
      payloads.push_back(data.substr(i + 12, length));
      i += 16 + length;
    }
    QCOMPARE(payloads.size(), std::size_t(3));
    const std::string zeroTime(8, '\0');
    // Event { wall_time = 1: 0.0; step = 2: 5; summary = 5 { value = 1 { tag = 1 "t";
    // metadata = 9 { plugin_data = 1 { plugin_name = 1 "text" } }; tensor = 8 { dtype = 1: 7;
    // tensor_shape = 2 { dim = 2 { size = 1: 1 } }; string_val = 8 "hi" } } } }
    const std::string text = "\x09" + zeroTime + std::string("\x10\x05\x2a\x1d\x0a\x1b", 6) +
                             std::string("\x0a\x01t\x4a\x08\x0a\x06\x0a\x04text", 13) +
                             std::string("\x42\x0c\x08\x07\x12\x04\x12\x02\x08\x01\x42\x02hi", 14);
    QCOMPARE(payloads[1], text);
    // Event { step = 2: 7; summary = 5 { value = 1 { tag = 1 "g"; image = 4 { height = 1: 2;
    // width = 2: 3; colorspace = 3: 1; encoded_image_string = 4 "PNG" } } } }
    const std::string image = "\x09" + zeroTime + std::string("\x10\x07\x2a\x12\x0a\x10", 6) +
                              std::string("\x0a\x01g\x22\x0b\x08\x02\x10\x03\x18\x01\x22\x03PNG", 16);
    QCOMPARE(payloads[2], image);
  }
};

PREFLAB_TEST_MAIN(TestTensorBoardEvents)

} // namespace preflab_tests
#include "tst_tensorboard_events.moc"
