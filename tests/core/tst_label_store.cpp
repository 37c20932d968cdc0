// Tests labeling without the app: candidate files (text, images, bad lines), the SQLite label
// store (import, decisions, undo as events, shown order, reopening, damaged and foreign files,
// decisions surviving SIGKILL of a real process), agreement statistics against hand-computed
// values, and exports read back by PrefLab's own readers.
#include "core/data/image_preference_reader.h"
#include "core/data/text_preference_reader.h"
#include "core/io/input_error.h"
#include "core/labels/label_agreement.h"
#include "core/labels/label_candidates.h"
#include "core/labels/label_export.h"
#include "core/labels/label_store.h"

#include "tests/core/test_files.h"
#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <sqlite3.h>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

using namespace preflab::core;
namespace fs = std::filesystem;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

void writeText(const fs::path &p, const std::string &text) {
  std::ofstream(p, std::ios::binary) << text;
}

// n text items "t1".."tn" with distinct candidates.
std::string textCandidates(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i)
    s += "{\"id\": \"t" + std::to_string(i) + "\", \"prompt\": \"p" + std::to_string(i) +
         "\", \"completion_a\": \" good " + std::to_string(i) + "\", \"completion_b\": \" bad " +
         std::to_string(i) + "\"}\n";
  return s;
}

// Decisions of annotators over items 1..n given as strings of f/s/t/b (first, second, tie, both
// bad) or '-' (no decision), one string per annotator.
std::vector<LabelEvent> decisions(const std::vector<std::pair<std::string, std::string>> &byAnnotator) {
  std::vector<LabelEvent> out;
  std::int64_t id = 0;
  for (const auto &[name, labels] : byAnnotator)
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == '-')
        continue;
      LabelEvent e;
      e.id = ++id;
      e.item = std::int64_t(i + 1);
      e.annotator = name;
      e.choice = labels[i] == 'f'   ? LabelChoice::First
                 : labels[i] == 's' ? LabelChoice::Second
                 : labels[i] == 't' ? LabelChoice::Tie
                                    : LabelChoice::BothBad;
      out.push_back(e);
    }
  return out;
}

} // namespace

class TestLabelStore : public QObject {
  Q_OBJECT

private Q_SLOTS:
  void readsTextAndImageCandidates() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeText(dir / "text.jsonl",
              textCandidates(2) + "\n{\"prompt\": \"q\", \"chosen\": \" x\", \"rejected\": \" y\"}\n");
    const auto text = readLabelCandidates((dir / "text.jsonl").string());
    QCOMPARE(text.size(), std::size_t(3));
    QCOMPARE(QString::fromStdString(text[0].id), QStringLiteral("t1"));
    QCOMPARE(QString::fromStdString(text[2].id), QStringLiteral("text-4")); // no id: stem and line
    QCOMPARE(QString::fromStdString(text[2].candidates[1]), QStringLiteral(" y"));
    // A preference file of another format is read by PrefLab's reader: HH-RLHF transcripts get
    // their shared prefix as the prompt.
    writeText(dir / "hh.jsonl", "{\"chosen\": \"\\n\\nHuman: hi\\n\\nAssistant: hello there\", "
                                "\"rejected\": \"\\n\\nHuman: hi\\n\\nAssistant: go away\"}\n");
    const auto hh = readLabelCandidates((dir / "hh.jsonl").string());
    QCOMPARE(hh.size(), std::size_t(1));
    QCOMPARE(QString::fromStdString(hh[0].prompt), QStringLiteral("\n\nHuman: hi\n\nAssistant:"));
    QCOMPARE(QString::fromStdString(hh[0].candidates[1]), QStringLiteral(" go away"));
    fs::copy_file(PREFLAB_TEST_DATA_DIR "/image_pairs/red.jpg", dir / "red.jpg");
    fs::copy_file(PREFLAB_TEST_DATA_DIR "/image_pairs/green.png", dir / "green.png");
    writeText(dir / "images.jsonl",
              "{\"caption\": \"a red square\", \"image_a\": \"red.jpg\", \"image_b\": \"green.png\"}\n");
    const auto images = readLabelCandidates((dir / "images.jsonl").string());
    QCOMPARE(QString::fromStdString(images[0].kind), QStringLiteral("image"));
    QVERIFY(fs::path(images[0].candidates[0]).is_absolute() && fs::exists(images[0].candidates[0]));
  }

  void badCandidateLinesNameFileLineAndKey() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    auto errorOf = [&](const std::string &content) {
      writeText(dir / "c.jsonl", content);
      return preflab::test::inputErrorOf([&] { readLabelCandidates((dir / "c.jsonl").string()); });
    };
    QVERIFY(errorOf(textCandidates(1) + "{not json\n").find("c.jsonl:2") != std::string::npos);
    QVERIFY(errorOf("{\"prompt\": \"p\", \"completion_a\": \" a\"}\n").find("completion_b") !=
            std::string::npos);
    QVERIFY(
        errorOf("{\"prompt\": \"p\", \"completion_a\": \" a\", \"completion_b\": \" a\"}\n").find("same") !=
        std::string::npos);
    QVERIFY(errorOf(textCandidates(1) + textCandidates(1)).find("appears twice") != std::string::npos);
    const auto missing =
        errorOf("{\"caption\": \"c\", \"image_a\": \"nope.png\", \"image_b\": \"n2.png\"}\n");
    QVERIFY2(missing.find("c.jsonl:1") != std::string::npos && missing.find("nope.png") != std::string::npos,
             missing.c_str());
    QVERIFY(errorOf("{\"prompt\": 3, \"completion_a\": \" a\", \"completion_b\": \" b\"}\n").find("prompt") !=
            std::string::npos);
    // With a list for them, bad lines are listed with their reasons and the rest is read.
    writeText(
        dir / "c.jsonl",
        textCandidates(2) + "[1, 2]\n{\"prompt\": \"p\", \"chosen\": \" s\", \"rejected\": \" s\"}\n" +
            "{\"id\": \"t9\", \"prompt\": \"q\", \"completion_a\": \" a\", \"completion_b\": \" b\"}\n");
    std::vector<SkippedCandidate> skipped;
    const auto kept = readLabelCandidates((dir / "c.jsonl").string(), &skipped);
    QCOMPARE(kept.size(), std::size_t(3));
    QCOMPARE(skipped.size(), std::size_t(2));
    QCOMPARE(skipped[0].line, std::int64_t(3));
    QVERIFY(skipped[1].reason.find("c.jsonl:4") != std::string::npos &&
            skipped[1].reason.find("same") != std::string::npos);
  }

  void storeKeepsItemsDecisionsAndUndos() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeText(dir / "c.jsonl", textCandidates(4));
    const auto path = (dir / "p.preflab-labels").string();
    std::vector<std::int64_t> keys;
    {
      LabelStore store(path);
      const auto n = store.addItems(readLabelCandidates((dir / "c.jsonl").string()));
      QCOMPARE(n.added, std::int64_t(4));
      QCOMPARE(store.addItems(readLabelCandidates((dir / "c.jsonl").string())).alreadyThere, std::int64_t(4));
      for (const auto &s : store.items())
        keys.push_back(s.key);
      store.decide(keys[0], "ann", LabelChoice::First, false, "clear", 2.5);
      store.decide(keys[1], "ann", LabelChoice::Second, true);
      store.decide(keys[1], "bob", LabelChoice::Tie, false);
      store.decide(keys[2], "ann", LabelChoice::Skip, false);
      store.decide(keys[3], "ann", LabelChoice::BothBad, false);
      QVERIFY(store.undo("ann") > 0);                           // the both-bad on item 4
      store.decide(keys[0], "ann", LabelChoice::Second, false); // changes her mind
    }
    LabelStore store(path); // reopened
    const auto current = store.currentDecisions();
    QCOMPARE(current.size(), std::size_t(3)); // ann: items 1 and 2, bob: item 2 (skip and undone left out)
    QCOMPARE(current[0].item, keys[0]);
    QCOMPARE(current[0].choice, LabelChoice::Second);
    QVERIFY(current[1].swapped && current[1].annotator == "ann");
    QCOMPARE(store.events().size(), std::size_t(7)); // nothing overwritten
    QCOMPARE(QString::fromStdString(store.events()[0].note), QStringLiteral("clear"));
    QCOMPARE(store.events()[0].seconds, 2.5);
    QCOMPARE(store.annotators(), (std::vector<std::string>{"ann", "bob"}));
    // Undo as deep as the session, then nothing left.
    int undone = 0;
    while (store.undo("bob") > 0)
      ++undone;
    QCOMPARE(undone, 1);
    QVERIFY(preflab::test::inputErrorOf([&] {
              store.decide(999, "ann", LabelChoice::First, false);
            }).find("item") != std::string::npos);
    QVERIFY(preflab::test::inputErrorOf([&] {
              store.decide(keys[0], "", LabelChoice::First, false);
            }).find("annotator") != std::string::npos);
  }

  // changesByOthers moves when another connection commits, not for the store's own commits.
  void changesByOthersSeesOtherConnections() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeText(dir / "c.jsonl", textCandidates(2));
    const auto path = (dir / "p.preflab-labels").string();
    LabelStore mine(path), theirs(path);
    mine.addItems(readLabelCandidates((dir / "c.jsonl").string()));
    const auto before = mine.changesByOthers();
    mine.decide(mine.items()[0].key, "me", LabelChoice::First, false);
    QCOMPARE(mine.changesByOthers(), before);
    theirs.decide(theirs.items()[1].key, "them", LabelChoice::Second, false);
    QVERIFY(mine.changesByOthers() != before);
    QCOMPARE(mine.currentDecisions().size(), std::size_t(2));
  }

  void shownOrderIsAFixedCoinPerItemAndAnnotator() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeText(dir / "c.jsonl", textCandidates(200));
    LabelStore store((dir / "p.preflab-labels").string());
    store.addItems(readLabelCandidates((dir / "c.jsonl").string()));
    int swapped = 0, differ = 0;
    for (const auto &s : store.items()) {
      QCOMPARE(store.shownSwapped(s.key, "ann"), store.shownSwapped(s.key, "ann"));
      swapped += store.shownSwapped(s.key, "ann");
      differ += store.shownSwapped(s.key, "ann") != store.shownSwapped(s.key, "bob");
    }
    QVERIFY2(swapped > 70 && swapped < 130, qPrintable(QString::number(swapped))); // about half of 200
    QVERIFY(differ > 50);
  }

  void foreignDamagedAndNewerStoresAreRefused() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeText(dir / "junk.preflab-labels", std::string(4096, 'x'));
    auto e = preflab::test::inputErrorOf([&] { LabelStore s((dir / "junk.preflab-labels").string()); });
    QVERIFY2(e.find("junk.preflab-labels") != std::string::npos, e.c_str());
    QCOMPARE(fs::file_size(dir / "junk.preflab-labels"), std::uintmax_t(4096)); // left as it was
    sqlite3 *db = nullptr;
    sqlite3_open((dir / "other.db").string().c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE t (x INTEGER)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    e = preflab::test::inputErrorOf([&] { LabelStore s((dir / "other.db").string()); });
    QVERIFY2(e.find("not a PrefLab label store") != std::string::npos, e.c_str());
    const auto newer = (dir / "newer.preflab-labels").string();
    { LabelStore s(newer); }
    sqlite3_open(newer.c_str(), &db);
    sqlite3_exec(db, "UPDATE meta SET value = '7' WHERE key = 'format_version'", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    e = preflab::test::inputErrorOf([&] { LabelStore s(newer); });
    QVERIFY2(e.find("newer PrefLab") != std::string::npos && e.find("format 7") != std::string::npos,
             e.c_str());
    // A store cut short (a disk that lost its tail): a clear error, not a crash.
    const auto cut = (dir / "cut.preflab-labels").string();
    {
      writeText(dir / "c.jsonl", textCandidates(300));
      LabelStore s(cut);
      s.addItems(readLabelCandidates((dir / "c.jsonl").string()));
    }
    fs::remove(cut + "-wal");
    fs::remove(cut + "-shm");
    fs::resize_file(cut, fs::file_size(cut) / 3);
    e = preflab::test::inputErrorOf([&] {
      LabelStore s(cut);
      s.items();
    });
    QVERIFY2(e.find("cut.preflab-labels") != std::string::npos, e.c_str());
  }

  // A real process labels and reports each decision once decide() returned; it is killed with
  // SIGKILL at an arbitrary moment; every reported decision is in the store when it is reopened.
  void decisionsSurviveSigkill() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeText(dir / "c.jsonl", textCandidates(50));
    const auto path = (dir / "p.preflab-labels").string();
    std::vector<std::int64_t> keys;
    {
      LabelStore store(path);
      store.addItems(readLabelCandidates((dir / "c.jsonl").string()));
      for (const auto &s : store.items())
        keys.push_back(s.key);
    }
    std::set<std::int64_t> reported;
    for (int round = 0; round < 3; ++round) {
      int fds[2];
      QCOMPARE(pipe(fds), 0);
      const pid_t child = fork();
      QVERIFY(child >= 0);
      if (child == 0) { // the labeller: decide, then say it is saved
        close(fds[0]);
        LabelStore store(path);
        for (std::size_t i = 0;; ++i) {
          const auto id = store.decide(keys[i % keys.size()], "ann" + std::to_string(round),
                                       i % 2 ? LabelChoice::First : LabelChoice::Second, false);
          if (write(fds[1], &id, sizeof id) != sizeof id)
            _exit(3);
        }
      }
      close(fds[1]);
      std::int64_t id = 0;
      const int wanted = 15 + 10 * round;
      for (int k = 0; k < wanted && read(fds[0], &id, sizeof id) == sizeof id; ++k)
        reported.insert(id);
      kill(child, SIGKILL);
      int status = 0;
      waitpid(child, &status, 0);
      QVERIFY(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
      close(fds[0]);
    }
    LabelStore store(path); // opens cleanly after the kills
    std::set<std::int64_t> stored;
    for (const auto &e : store.events())
      stored.insert(e.id);
    QCOMPARE(reported.size(), std::size_t(15 + 25 + 35));
    for (auto id : reported)
      QVERIFY2(stored.count(id),
               qPrintable(QStringLiteral("event %1 was reported saved but is gone").arg(id)));
    QVERIFY(store.decide(keys[0], "after", LabelChoice::Tie, false) > *reported.rbegin());
  }

  void agreementMatchesHandComputedValues() {
    // Two annotators, ten items, agree on 6: p_o 0.6, chance 0.5, so κ = 0.2. Coincidences:
    // o_ff = o_ss = 6, o_fs = o_sf = 4, n_f = n_s = 10, n = 20: α = 1 − 19·8/200 = 0.24.
    // Fleiss (m = 2): P̄ 0.6, P̄e 0.5, κ 0.2.
    auto a = computeAgreement(decisions({{"ann", "fffffsssss"}, {"bob", "fffsssssff"}}));
    QCOMPARE(a.pairs.size(), std::size_t(1));
    QCOMPARE(a.pairs[0].items, 10);
    QVERIFY(std::abs(a.pairs[0].observed - 0.6) < 1e-12);
    QVERIFY(std::abs(a.pairs[0].cohenKappa - 0.2) < 1e-12);
    QVERIFY(std::abs(a.krippendorffAlpha - 0.24) < 1e-12);
    QVERIFY(a.fleissKappa && std::abs(*a.fleissKappa - 0.2) < 1e-12);
    // Three annotators, three items: fff, ffs, sst. Fleiss: P_i 1, 1/3, 1/3 → P̄ 5/9; shares
    // 5/9, 3/9, 1/9 → P̄e 35/81; κ = 10/46. Krippendorff: D_o 4 of n 9, Σ n_c n_k 46:
    // α = 1 − 8·4/46 = 14/46.
    a = computeAgreement(decisions({{"a", "ffs"}, {"b", "ffs"}, {"c", "fst"}}));
    QVERIFY(a.fleissKappa && std::abs(*a.fleissKappa - 10.0 / 46.0) < 1e-12);
    QVERIFY(std::abs(a.krippendorffAlpha - 14.0 / 46.0) < 1e-12);
    QCOMPARE(a.items.size(), std::size_t(3));
    QVERIFY(a.items[0].majority && *a.items[0].majority == LabelChoice::First && a.items[0].share == 1.0);
    QVERIFY(std::abs(a.items[1].share - 2.0 / 3.0) < 1e-12);
    // Different numbers of annotators per item: no Fleiss; a level item has no majority.
    a = computeAgreement(decisions({{"a", "fs"}, {"b", "f-"}, {"c", "t-"}}));
    QVERIFY(!a.fleissKappa);
    QCOMPARE(a.itemsWithTwoOrMore, 1);
    QVERIFY(!a.items[0].majority || *a.items[0].majority == LabelChoice::First);
    a = computeAgreement(decisions({{"a", "f"}, {"b", "s"}}));
    QVERIFY(!a.items[0].majority);
    // Both always say the same single thing: chance agreement 1, κ undefined.
    a = computeAgreement(decisions({{"a", "ff"}, {"b", "ff"}}));
    QVERIFY(std::isnan(a.pairs[0].cohenKappa) && std::isnan(a.krippendorffAlpha));
  }

  void exportsReadBackWithPrefLabsReaders() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    writeText(dir / "c.jsonl", textCandidates(4));
    LabelStore store((dir / "p.preflab-labels").string());
    store.addItems(readLabelCandidates((dir / "c.jsonl").string()));
    const auto items = store.items();
    // t1: 2 first, 1 second; t2: 1 second, 1 tie; t3: both bad ×2; t4: unlabelled.
    store.decide(items[0].key, "a", LabelChoice::First, false);
    store.decide(items[0].key, "b", LabelChoice::First, true);
    store.decide(items[0].key, "c", LabelChoice::Second, false);
    store.decide(items[1].key, "a", LabelChoice::Second, false);
    store.decide(items[1].key, "b", LabelChoice::Tie, false);
    store.decide(items[2].key, "a", LabelChoice::BothBad, false);
    store.decide(items[2].key, "b", LabelChoice::BothBad, false);
    const auto trlPath = (dir / "pairs.jsonl").string();
    auto n = exportLabels(store, trlPath, {});
    QCOMPARE(n.written, std::int64_t(2));
    QCOMPARE(n.unlabelled, std::int64_t(1));
    QCOMPARE(n.bothBad, std::int64_t(1));
    auto trl = readTextPreferences(trlPath);
    QCOMPARE(trl.pairs.size(), std::size_t(2));
    QCOMPARE(QString::fromStdString(trl.pairs[0].chosen), QStringLiteral(" good 1"));
    QVERIFY(std::abs(*trl.pairs[0].raterFraction - 2.0 / 3.0) < 1e-12);
    QCOMPARE(*trl.pairs[0].raterCount, 3);
    QCOMPARE(QString::fromStdString(trl.pairs[1].chosen), QStringLiteral(" bad 2")); // second, tie left out
    QCOMPARE(*trl.pairs[1].raterFraction, 1.0);
    LabelExportOptions half;
    half.tiesCountHalf = true;
    exportLabels(store, trlPath, half);
    trl = readTextPreferences(trlPath);
    QVERIFY(std::abs(*trl.pairs[1].raterFraction - 0.75) < 1e-12);
    QCOMPARE(*trl.pairs[1].raterCount, 2);
    LabelExportOptions kto;
    kto.format = LabelExportFormat::Kto;
    const auto ktoPath = (dir / "kto.jsonl").string();
    n = exportLabels(store, ktoPath, kto);
    const auto unpaired = readTextPreferences(ktoPath).unpaired;
    QCOMPARE(unpaired.size(), std::size_t(4)); // t1 (a pair), t3 (both bad); t2 is level
    QVERIFY(unpaired[0].desirable && !unpaired[1].desirable);
    QVERIFY(!unpaired[2].desirable && !unpaired[3].desirable);
    QCOMPARE(n.tied, std::int64_t(1));
  }

  void imageExportIsAPickAPicManifest() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    fs::create_directories(dir / "imgs");
    fs::copy_file(PREFLAB_TEST_DATA_DIR "/image_pairs/red.jpg", dir / "imgs/red.jpg");
    fs::copy_file(PREFLAB_TEST_DATA_DIR "/image_pairs/green.png", dir / "imgs/green.png");
    fs::copy_file(PREFLAB_TEST_DATA_DIR "/image_pairs/blue.webp", dir / "imgs/blue.webp");
    writeText(dir / "imgs/c.jsonl",
              "{\"caption\": \"red\", \"image_a\": \"red.jpg\", \"image_b\": \"green.png\"}\n"
              "{\"caption\": \"blue\", \"image_a\": \"green.png\", \"image_b\": \"blue.webp\"}\n");
    fs::create_directories(dir / "project");
    LabelStore store((dir / "project/p.preflab-labels").string());
    store.addItems(readLabelCandidates((dir / "imgs/c.jsonl").string()));
    const auto items = store.items();
    QVERIFY(!items[0].candidateHash[0].empty() && items[0].candidateHash[0] != items[0].candidateHash[1]);
    QVERIFY(fs::exists(items[0].item.candidates[0])); // stored relative to the store, read back absolute
    store.decide(items[0].key, "a", LabelChoice::First, false);
    store.decide(items[1].key, "a", LabelChoice::Second, false);
    fs::create_directories(dir / "out");
    LabelExportOptions o;
    o.format = LabelExportFormat::PickAPic;
    QCOMPARE(exportLabels(store, (dir / "out/manifest.jsonl").string(), o).written, std::int64_t(2));
    ImageReadOptions read;
    read.loadImages = false;
    const auto manifest = readImagePreferences((dir / "out/manifest.jsonl").string(), read);
    QCOMPARE(manifest.pairs.size(), std::size_t(2));
    QVERIFY(fs::equivalent(manifest.pairs[0].path0, dir / "imgs/red.jpg"));
    QVERIFY(manifest.pairs[1].swapped); // label_0 0: the second image was preferred
    QVERIFY(fs::equivalent(manifest.pairs[1].path0, dir / "imgs/blue.webp"));
  }
};

PREFLAB_TEST_MAIN(TestLabelStore)

} // namespace preflab_tests
#include "tst_label_store.moc"
