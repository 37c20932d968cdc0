// Tests NewRunDialog: every objective offered, core's validation shown per field, the resolved config.
#include "core/api/objectives.h"
#include "ui/main_window.h"
#include "ui/training/new_run_dialog.h"

#include "tests/test_main.h"
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QPushButton>

#include <QtTest/QtTest>

#include <nlohmann/json.hpp>

#include <fstream>

using preflab::ui::NewRunDialog;

namespace {

// GPT-2's byte-to-character table: the vocabulary of a byte-level BPE without merges.
nlohmann::json byteLevelVocab() {
  nlohmann::json vocab = nlohmann::json::object();
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    const char32_t c = printable ? char32_t(b) : char32_t(256 + extra++);
    vocab[QString::fromUcs4(&c, 1).toStdString()] = b;
  }
  return vocab;
}

// A Hugging Face folder as a user has one: the qwen3 test model (300 ids) with a byte-level
// tokenizer.json and a tokenizer_config.json carrying ChatML.
QString qwen3Folder(const QTemporaryDir &tmp) {
  const QString dir = tmp.filePath("qwen3-chat");
  QDir().mkpath(dir);
  for (const char *file : {"config.json", "model.safetensors"})
    QFile::copy(PREFLAB_TEST_DATA_DIR "/hf_llama/qwen3/" + QString(file), dir + "/" + file);
  const nlohmann::json tokenizer = {
      {"version", "1.0"},
      {"added_tokens",
       {{{"id", 256},
         {"content", "<|im_end|>"},
         {"single_word", false},
         {"lstrip", false},
         {"rstrip", false},
         {"normalized", false},
         {"special", true}}}},
      {"normalizer", nullptr},
      {"pre_tokenizer",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"post_processor", nullptr},
      {"decoder",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"model", {{"type", "BPE"}, {"vocab", byteLevelVocab()}, {"merges", nlohmann::json::array()}}}};
  std::ofstream((dir + "/tokenizer.json").toStdString()) << tokenizer.dump();
  QFile chatml(PREFLAB_TEST_DATA_DIR "/chat_templates/chatml.jinja");
  chatml.open(QIODevice::ReadOnly);
  const nlohmann::json config = {{"eos_token", "<|im_end|>"},
                                 {"chat_template", chatml.readAll().toStdString()}};
  std::ofstream((dir + "/tokenizer_config.json").toStdString()) << config.dump();
  return dir;
}

} // namespace

class TestNewRunDialog : public QObject {
  Q_OBJECT

private slots:
  void embeddedTaskIsValidAsLoaded() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    const auto c = d.config();
    QCOMPARE(QString::fromStdString(c.task), QStringLiteral("sentiment"));
    QCOMPARE(QString::fromStdString(c.lossType), QStringLiteral("dpo"));
    QVERIFY(QString::fromStdString(c.outputDir).startsWith(QDir::tempPath()));
  }

  void everyRegisteredObjectiveIsOffered() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    auto *combo = d.findChildren<QComboBox *>().at(0);
    QStringList offered;
    for (auto *c : d.findChildren<QComboBox *>())
      for (int i = 0; i < c->count(); ++i)
        offered << c->itemData(i).toString();
    for (const auto &info : preflab::core::objectiveInfos(preflab::core::Modality::Text))
      QVERIFY2(offered.contains(QString::fromStdString(info.name)), info.name.c_str());
    Q_UNUSED(combo);
  }

  // Text-to-image runs: the image objectives with their β, Fashion-MNIST or a manifest, an oracle.
  void startsImageRuns() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    QVERIFY(!d.isImage());
    d.setField("task", "image:fashion-mnist");
    QVERIFY(d.isImage());
    QStringList offered;
    for (auto *c : d.findChildren<QComboBox *>())
      for (int i = 0; i < c->count(); ++i)
        offered << c->itemData(i).toString();
    for (const auto &info : preflab::core::objectiveInfos(preflab::core::Modality::Image))
      QVERIFY2(offered.contains(QString::fromStdString(info.name)), info.name.c_str());
    QVERIFY(!offered.contains("dpo")); // text objectives cannot train a diffusion model
    d.setField("max_steps", "40");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    auto c = d.imageConfig();
    QCOMPARE(QString::fromStdString(c.trainFile), QStringLiteral("fashion-mnist"));
    QCOMPARE(QString::fromStdString(c.lossType), QStringLiteral("diffusion-dpo"));
    QCOMPARE(c.beta,
             preflab::core::objectiveInfo("diffusion-dpo", preflab::core::Modality::Image).defaultBeta());
    QCOMPARE(c.maxSteps, std::int64_t(40));
    d.setField("loss_type", "dspo");
    QCOMPARE(d.imageConfig().beta,
             preflab::core::objectiveInfo("dspo", preflab::core::Modality::Image).defaultBeta());
    // A manifest: the file must exist, an oracle is optional and must be an oracle folder.
    d.setField("task", "image:manifest");
    QVERIFY(d.errors().contains("train_file"));
    d.setField("train_file", PREFLAB_TEST_DATA_DIR "/image_pairs/manifest.jsonl");
    d.setField("oracle_model", "/nonexistent");
    QVERIFY(d.errors().contains("oracle_model"));
    d.setField("oracle_model", "fashion");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    QCOMPARE(QString::fromStdString(d.imageConfig().oracleModel), QStringLiteral("fashion"));
    // Back to text: the text objectives return.
    d.setField("task", "sentiment");
    QVERIFY(!d.isImage());
    QCOMPARE(QString::fromStdString(d.config().lossType), QStringLiteral("dpo"));
  }

  // Online D2PO on the embedded task: its settings appear, core's checks apply to them.
  void startsD2poRuns() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField("trainer", "d2po");
    d.setField("max_steps", "16");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    auto c = d.config();
    QCOMPARE(QString::fromStdString(c.trainer), QStringLiteral("d2po"));
    QCOMPARE(QString::fromStdString(c.task), QStringLiteral("sentiment"));
    QCOMPARE(c.maxSteps, std::int64_t(16));
    d.setField("d2po.gold_budget", "40");
    d.setField("d2po.initial_gold", "60");
    QVERIFY(d.errors().contains("d2po.initial_gold"));
    QVERIFY(!d.isValid());
    d.setField("d2po.initial_gold", "8");
    d.setField("d2po.gold_per_round", "2");
    d.setField("d2po.prompts_per_round", "12");
    d.setField("d2po.gold_selection", "random");
    d.setField("d2po.silver", "false");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    c = d.config();
    QCOMPARE(c.d2po.goldBudget, std::int64_t(40));
    QCOMPARE(c.d2po.initialGold, std::int64_t(8));
    QCOMPARE(c.d2po.goldPerRound, std::int64_t(2));
    QCOMPARE(c.d2po.promptsPerRound, std::int64_t(12));
    QCOMPARE(QString::fromStdString(c.d2po.goldSelection), QStringLiteral("random"));
    QVERIFY(!c.d2po.silver);
    QVERIFY(QString::fromStdString(c.outputDir).contains("d2po-dpo"));
    d.setField("task", "sentiment"); // back to offline pairs
    QCOMPARE(QString::fromStdString(d.config().trainer), QStringLiteral("offline"));
  }

  void startsWroRuns() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField("trainer", "wro");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    auto c = d.config();
    QCOMPARE(QString::fromStdString(c.trainer), QStringLiteral("wro"));
    QCOMPARE(QString::fromStdString(c.task), QStringLiteral("sentiment"));
    QVERIFY(c.maxSteps > 0); // steps, not epochs
    d.setField("wro.h", "logit");
    d.setField("wro.samples_per_prompt", "6");
    d.setField("wro.competitors", "3");
    d.setField("wro.prompts_per_step", "5");
    d.setField("wro.judge", "reward_model");
    QVERIFY(d.errors().contains("wro.reward_model")); // none chosen yet
    QTemporaryDir empty, rm;
    d.setField("wro.reward_model", empty.path());
    QVERIFY(d.errors().value("wro.reward_model").contains("config.json"));
    QFile(rm.filePath("config.json")).open(QIODevice::WriteOnly);
    d.setField("wro.reward_model", rm.path());
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    c = d.config();
    QCOMPARE(QString::fromStdString(c.wro.h), QStringLiteral("logit"));
    QCOMPARE(QString::fromStdString(c.wro.judge), QStringLiteral("reward_model"));
    QCOMPARE(QString::fromStdString(c.wro.rewardModel), rm.path());
    QCOMPARE(c.wro.samplesPerPrompt, std::int64_t(6));
    QCOMPARE(c.wro.competitors, std::int64_t(3));
    QCOMPARE(c.wro.promptsPerStep, std::int64_t(5));
    QVERIFY(QString::fromStdString(c.outputDir).contains("wro-logit")); // named by h
  }

  // Screenshot driver, off by default: PREFLAB_DIALOG_SCREENSHOT=out.png shows the dialog set up
  // for a text-to-image run on the image-pair test manifest with the embedded oracle (other tasks
  // and fields: PREFLAB_DIALOG_TASK, PREFLAB_DIALOG_ORACLE, PREFLAB_DIALOG_SET). Run under
  // xvfb-run -a -s '-screen 0 1400x1000x24' with QT_QPA_PLATFORM=xcb.
  void screenshot() {
    const QString out = qEnvironmentVariable("PREFLAB_DIALOG_SCREENSHOT");
    if (out.isEmpty())
      QSKIP("set PREFLAB_DIALOG_SCREENSHOT=<png>");
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField("task", qEnvironmentVariable("PREFLAB_DIALOG_TASK", "image:manifest"));
    d.setField("train_file", PREFLAB_TEST_DATA_DIR "/image_pairs/manifest.jsonl");
    d.setField("oracle_model", qEnvironmentVariable("PREFLAB_DIALOG_ORACLE", "fashion"));
    d.setField("max_steps", "200");
    // PREFLAB_DIALOG_SET="loss_type=kto;desirable_weight=-1": more fields, in order.
    for (const QString &assignment :
         qEnvironmentVariable("PREFLAB_DIALOG_SET").split(';', Qt::SkipEmptyParts))
      d.setField(assignment.section('=', 0, 0), assignment.section('=', 1));
    d.show();
    QTest::qWait(500);
    QVERIFY(d.grab().save(out));
  }

  // The chosen objective's own parameters (its declaration) appear as rows and reach the config.
  void objectiveParametersFollowTheObjective() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    const auto rowKeys = [&d] {
      QStringList keys;
      for (auto *spin : d.findChildren<QDoubleSpinBox *>())
        if (!spin->toolTip().isEmpty())
          keys << spin->toolTip().section(';', 0, 0);
      for (auto *check : d.findChildren<QCheckBox *>())
        if (check->objectName() !=
            QLatin1String("d2po.silver")) // a row of the D2PO task, not of the objective
          keys << check->text();
      return keys;
    };
    d.setField("loss_type", "kto");
    QCOMPARE(rowKeys().size(), 2); // desirable_weight, undesirable_weight
    d.setField("desirable_weight", "1.5");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    QCOMPARE(d.config().objectiveParams.at("desirable_weight"), 1.5);
    d.setField("loss_type", "robust");
    QCOMPARE(rowKeys().size(), 1);        // label_smoothing only
    d.setField("label_smoothing", "0.5"); // robust needs it below 0.5: core's rule, shown beside it
    QVERIFY(d.errors().contains("label_smoothing"));
    d.setField("label_smoothing", "0.2");
    QVERIFY(d.isValid());
    QCOMPARE(d.config().objectiveParams.at("label_smoothing"), 0.2);
    d.setField("loss_type", "simper");
    QCOMPARE(rowKeys().size(), 0);
    d.setField("task", "image:fashion-mnist");
    d.setField("max_steps", "10");
    d.setField("loss_type", "dspo");
    d.setField("detach_target", "true");
    QCOMPARE(d.imageConfig().objectiveParams.at("detach_target"), 1.0);
    d.setField("loss_type", "dspo-sdxl-path"); // its detach_target must stay off: no row for it
    for (auto *check : d.findChildren<QCheckBox *>())
      QCOMPARE(check->objectName(), QStringLiteral("d2po.silver")); // the D2PO task's row only
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
  }

  void invalidFieldsShowTheirReason_data() {
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("errorKey");
    QTest::addColumn<QString>("reasonContains");
    QTest::newRow("learning rate not a number") << "learning_rate"
                                                << "fast"
                                                << "learning_rate"
                                                << "number";
    QTest::newRow("learning rate zero") << "learning_rate"
                                        << "0"
                                        << "learning_rate"
                                        << "> 0";
    QTest::newRow("batch size zero") << "per_device_train_batch_size"
                                     << "0"
                                     << "per_device_train_batch_size"
                                     << "must be in 1..";
    QTest::newRow("missing dataset") << "task"
                                     << ""
                                     << "train_file"
                                     << "JSONL";
    QTest::newRow("empty name") << "name"
                                << ""
                                << "name"
                                << "name";
    QTest::newRow("model folder missing") << "model_name_or_path"
                                          << "/nonexistent/model"
                                          << "model_name_or_path"
                                          << "folder";
  }
  void invalidFieldsShowTheirReason() {
    QFETCH(QString, key);
    QFETCH(QString, value);
    QFETCH(QString, errorKey);
    QFETCH(QString, reasonContains);
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField(key, value);
    QVERIFY(!d.isValid());
    QVERIFY2(d.errors().contains(errorKey), qPrintable(QStringList(d.errors().keys()).join(",")));
    QVERIFY2(d.errors().value(errorKey).contains(reasonContains), qPrintable(d.errors().value(errorKey)));
    QPushButton *start = nullptr;
    for (auto *b : d.findChildren<QPushButton *>())
      if (b->text() == QStringLiteral("Start"))
        start = b;
    QVERIFY(start);
    QVERIFY(!start->isEnabled());
  }

  // A Hugging Face folder, typed or dropped, is described under the field; LoRA reaches the config.
  void hfFolderIsDescribed() {
    QTemporaryDir tmp;
    const QString dir = qwen3Folder(tmp);
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField("task", "");
    d.setField("model_name_or_path", dir);
    const QString summary = d.modelSummary();
    for (const char *part : {"qwen3", "Hugging Face", "2 layers", "width 32", "vocabulary 300",
                             "tokenizer.json, 257 ids", "chat template ("})
      QVERIFY2(summary.contains(part), qPrintable(part + QStringLiteral(" not in: ") + summary));
    QVERIFY(!d.errors().contains("model_name_or_path"));
    d.setField("lora_r", "8");
    QVERIFY(d.config().usePeft);
    QCOMPARE(d.config().loraR, std::int64_t(8));
    QCOMPARE(QString::fromStdString(d.config().modelNameOrPath), dir);
    // A folder PrefLab cannot train: core's reason beside the field.
    QFile::remove(dir + "/config.json");
    std::ofstream((dir + "/config.json").toStdString()) << R"({"model_type": "gemma3"})";
    d.setField("model_name_or_path", tmp.path());
    QVERIFY(d.errors().value("model_name_or_path").contains("not a model folder"));
    // Dropping the folder fills the field; dropping a file fills the training data.
    d.setField("train_file", "");
    d.dropPaths({dir, PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl"});
    QCOMPARE(QString::fromStdString(d.config().modelNameOrPath), dir);
    QCOMPARE(QString::fromStdString(d.config().trainFile), PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl");
    QVERIFY2(d.errors().value("model_name_or_path").contains("gemma3"),
             qPrintable(d.errors().value("model_name_or_path")));
  }

  void aDatasetRunIsValidWithAnExistingFile() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField("task", "");
    d.setField("train_file", PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl");
    d.setField("loss_type", "simpo");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    const auto c = d.config();
    QVERIFY(c.task.empty());
    QCOMPARE(QString::fromStdString(c.lossType), QStringLiteral("simpo"));
    QCOMPARE(c.beta, preflab::core::objectiveInfo("simpo").defaultBeta()); // the objective's default
  }

  // Enter starts the run from any field (the keyboard path of Train on these labels).
  void enterStartsTheRun() {
    NewRunDialog d(preflab::ui::MainWindow::embeddedConfig(), QDir::tempPath());
    d.setField("task", "");
    d.setField("train_file", PREFLAB_TEST_DATA_DIR "/tiny_train/pairs.jsonl");
    d.setField("name", "from-labels");
    QVERIFY2(d.isValid(), qPrintable(QStringList(d.errors().values()).join("; ")));
    d.show();
    QVERIFY(QTest::qWaitForWindowExposed(&d));
    QWidget *focus = QApplication::focusWidget();
    QVERIFY(focus);
    QTest::keyClick(focus, Qt::Key_Return);
    QCOMPARE(d.result(), int(QDialog::Accepted));
  }
};

PREFLAB_TEST_MAIN(TestNewRunDialog)
#include "tst_new_run_dialog.moc"
