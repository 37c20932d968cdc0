// Tests the YAML config: TRL key names, unknown keys, overrides, round trip of the resolved config.
#include "core/io/input_error.h"
#include "core/runtime/autocast.h"
#include "core/train/image_train_config.h"
#include "core/train/text_train_config.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

class TestTrainConfig : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void readsTrlNames() {
    const auto c =
        textTrainConfigFromYaml("beta: 0.25\nlearning_rate: 1.0e-5\nper_device_train_batch_size: 8\n"
                                "loss_type: ipo\nmodel:\n  n_layer: 2\n",
                                "c.yaml");
    QCOMPARE(c.beta, 0.25);
    QCOMPARE(c.learningRate, 1e-5);
    QCOMPARE(c.perDeviceTrainBatchSize, std::int64_t(8));
    QCOMPARE(c.lossType, std::string("ipo"));
    QCOMPARE(c.model.nLayer, std::int64_t(2));
  }

  // bf16 (TRL's key): on by default, and its guard switches CUDA autocast to bfloat16 for CUDA
  // devices only, nested, restoring the state it found. (Whether kernels then run in bf16 needs a
  // GPU; this checks the state LibTorch's dispatcher reads.)
  void bf16AutocastGuard() {
    QVERIFY(TextTrainConfig{}.bf16);
    QVERIFY(!textTrainConfigFromYaml("bf16: false\n", "c.yaml").bf16);
    QVERIFY(!cudaAutocastEnabled());
    {
      const CudaAutocastGuard cpu(c10::Device(c10::DeviceType::CPU), true);
      QVERIFY(!cpu.active() && !cudaAutocastEnabled());
      const CudaAutocastGuard off(c10::Device(c10::DeviceType::CUDA), false);
      QVERIFY(!off.active() && !cudaAutocastEnabled());
    }
    const std::string before = cudaAutocastDtypeName();
    {
      const CudaAutocastGuard outer(c10::Device(c10::DeviceType::CUDA), true);
      QVERIFY(outer.active() && cudaAutocastEnabled());
      QCOMPARE(std::string(cudaAutocastDtypeName()), std::string("BFloat16"));
      {
        const CudaAutocastGuard inner(c10::Device(c10::DeviceType::CUDA), true);
        QVERIFY(cudaAutocastEnabled());
      }
      QVERIFY(cudaAutocastEnabled()); // the inner guard restores the outer's state
    }
    QVERIFY(!cudaAutocastEnabled());
    QCOMPARE(std::string(cudaAutocastDtypeName()), before);
  }

  void errorsNameFileLineAndKey_data() {
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown key") << "beta: 0.1\nbetta: 0.2\n"
                                 << "c.yaml:2: key 'betta'";
    QTest::newRow("unknown nested key") << "model:\n  n_layers: 2\n"
                                        << "key 'model.n_layers'";
    QTest::newRow("wrong type") << "max_steps: many\n"
                                << "key 'max_steps'";
    QTest::newRow("list value") << "beta: [1, 2]\n"
                                << "key 'beta'";
    QTest::newRow("syntax") << "beta: [1,\n"
                            << "c.yaml:";
    QTest::newRow("duplicate key") << "beta: 0.1\nseed: 1\nbeta: 0.3\n"
                                   << "c.yaml:3: key 'beta': set twice (first on line 1)";
    QTest::newRow("duplicate nested key") << "model:\n  n_layer: 2\n  n_layer: 3\n"
                                          << "key 'model.n_layer': set twice";
    QTest::newRow("infinite learning rate") << "learning_rate: .inf\n"
                                            << "key 'learning_rate': is '.inf', must be a finite number";
    QTest::newRow("nan beta") << "beta: .nan\n"
                              << "key 'beta'";
  }
  void errorsNameFileLineAndKey() {
    QFETCH(QString, yaml);
    QFETCH(QString, expected);
    try {
      textTrainConfigFromYaml(yaml.toStdString(), "c.yaml");
      QFAIL("no error");
    } catch (const InputError &e) {
      QVERIFY2(QString(e.what()).contains(expected), e.what());
    }
  }

  void overridesAndValidation() {
    TextTrainConfig c;
    c.trainFile = "x.jsonl";
    applyOverride(c, "model.n_embd=32");
    applyOverride(c, "loss_type=simpo");
    QCOMPARE(c.model.nEmbd, std::int64_t(32));
    QVERIFY_THROWS_EXCEPTION(InputError, applyOverride(c, "nope=1"));
    QVERIFY_THROWS_EXCEPTION(InputError, applyOverride(c, "beta"));
    c.validate();
    c.lossType = "unknown";
    QVERIFY_THROWS_EXCEPTION(InputError, c.validate());
  }

  // Values that used to pass validation and then meant something else, or exhausted the machine.
  void rangesAreChecked_data() {
    QTest::addColumn<QString>("assignment");
    QTest::addColumn<QString>("expected");
    QTest::newRow("max_steps 0") << "max_steps=0" << "key 'max_steps': is 0, must be > 0, or -1";
    QTest::newRow("max_steps -5") << "max_steps=-5" << "key 'max_steps'";
    QTest::newRow("save_steps -1") << "save_steps=-1" << "key 'save_steps'";
    QTest::newRow("save_total_limit -3") << "save_total_limit=-3" << "key 'save_total_limit'";
    QTest::newRow("adam_beta1 1") << "adam_beta1=1.0" << "key 'adam_beta1': is 1, must be in [0, 1)";
    QTest::newRow("threads 1000") << "threads=1000" << "key 'threads': is 1000, this machine has";
    QTest::newRow("accumulation 1e9") << "gradient_accumulation_steps=1000000000"
                                      << "key 'gradient_accumulation_steps': is 1000000000, must be in 1..65536";
    QTest::newRow("batch 1e9") << "per_device_train_batch_size=1000000000"
                               << "key 'per_device_train_batch_size'";
    QTest::newRow("batch beyond memory") << "per_device_train_batch_size=60000"
                                         << "GiB, this machine has";
    QTest::newRow("model beyond memory") << "model.n_embd=60000" << "GiB to train, and this machine has";
    QTest::newRow("task with train_file") << "task=sentiment" << "key 'train_file': is not read by task: sentiment";
  }
  void rangesAreChecked() {
    QFETCH(QString, assignment);
    QFETCH(QString, expected);
    TextTrainConfig c;
    c.trainFile = "x.jsonl";
    c.maxLength = 128;
    c.model.blockSize = 128;
    c.validate(); // the base is valid
    applyOverride(c, assignment.toStdString());
    try {
      c.validate();
      QFAIL("accepted");
    } catch (const InputError &e) {
      QVERIFY2(QString(e.what()).contains(expected), e.what());
    }
  }

  // Every key of both kinds of run explains itself: a default and a one-line meaning.
  void everyKeyHasADefaultAndAMeaning() {
    for (const auto &keys : {textTrainConfigHelp(), imageTrainConfigHelp()}) {
      QVERIFY(keys.size() >= 40);
      for (const auto &k : keys)
        QVERIFY2(k.help.size() > 10, k.key.c_str());
    }
    QCOMPARE(textTrainConfigHelp().size(), textTrainConfigKeys().size());
    // Range errors give the actual bound and say what it is.
    TextTrainConfig c;
    c.task = "sentiment";
    c.model.blockSize = 64;
    c.maxLength = 80;
    try {
      c.validate();
      QFAIL("max_length over the block size was accepted");
    } catch (const InputError &e) {
      QCOMPARE(e.key(), std::string("max_length"));
      QVERIFY2(e.message().find("2..64") != std::string::npos &&
                   e.message().find("block_size") != std::string::npos,
               e.message().c_str());
    }
  }

  void resolvedYamlRoundTrips() {
    TextTrainConfig c;
    c.beta = 0.123456789;
    c.outputDir = "runs/x y";
    c.task = "sentiment";
    c.sentiment.raters = 7;
    const auto back = textTrainConfigFromYaml(toYaml(c), "resolved");
    QCOMPARE(toYaml(back), toYaml(c));
    QCOMPARE(back.beta, 0.123456789);
    QCOMPARE(back.sentiment.raters, std::int64_t(7));
    QCOMPARE(back.outputDir, std::string("runs/x y"));
  }
};

PREFLAB_TEST_MAIN(TestTrainConfig)

} // namespace preflab_tests
#include "tst_train_config.moc"
