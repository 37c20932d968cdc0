// Tests data parallel: launcher variables, a two-rank Gloo group in one process (sums, the step's
// gradient and metric reduction, announcements, a rank that leaves), and the loop's refusals.
#include "core/runtime/launch_env.h"
#include "core/train/data_parallel.h"

#include "tests/test_main.h"

#include <QtTest/QtTest>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>
#include <stdexcept>
#include <thread>

using namespace preflab::core;

namespace preflab_tests { // one per test file (test_main.h)

namespace {

using Vars = std::map<std::string, std::string>;

LaunchEnv fromVars(const Vars &vars) {
  return launchEnvFromEnvironment([&](const std::string &name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  });
}

QString errorOf(const Vars &vars) {
  try {
    fromVars(vars);
  } catch (const std::invalid_argument &e) {
    return QString::fromStdString(e.what());
  }
  return {};
}

// A TCP port nobody listens on now (the kernel's pick for port 0).
int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

LaunchEnv rankOf(int rank, int world, int port) {
  LaunchEnv env;
  env.rank = rank;
  env.worldSize = world;
  env.masterPort = port;
  env.launcher = "torchrun";
  return env;
}

// Both ranks of a two-process group, joined from two threads (rank 0 hosts the store).
struct Pair {
  std::unique_ptr<DataParallelGroup> zero, one;
};

Pair joinPair(std::chrono::seconds collective = std::chrono::seconds(20)) {
  const int port = freePort();
  auto second = std::async(std::launch::async, [&] {
    return std::make_unique<DataParallelGroup>(rankOf(1, 2, port), collective, std::chrono::seconds(20));
  });
  Pair pair;
  pair.zero = std::make_unique<DataParallelGroup>(rankOf(0, 2, port), collective, std::chrono::seconds(20));
  pair.one = second.get();
  return pair;
}

} // namespace

class TestDataParallel : public QObject {
  Q_OBJECT
private Q_SLOTS:
  void noLauncherIsOneProcess() {
    const auto env = fromVars({});
    QCOMPARE(env.worldSize, 1);
    QVERIFY(!env.distributed());
    QCOMPARE(describe(env), std::string("one process"));
  }

  void torchrunVariables() {
    const auto env = fromVars({{"RANK", "3"},
                               {"WORLD_SIZE", "4"},
                               {"LOCAL_RANK", "1"},
                               {"MASTER_ADDR", "10.0.0.7"},
                               {"MASTER_PORT", "29611"}});
    QCOMPARE(env.rank, 3);
    QCOMPARE(env.worldSize, 4);
    QCOMPARE(env.localRank, 1);
    QCOMPARE(env.masterAddr, std::string("10.0.0.7"));
    QCOMPARE(env.masterPort, 29611);
    QCOMPARE(env.launcher, std::string("torchrun"));
    QCOMPARE(describe(env), std::string("rank 3 of 4 (torchrun, rendezvous 10.0.0.7:29611)"));
    QCOMPARE(env.collectiveTimeoutSeconds, 300);
    QCOMPARE(env.waitTimeoutSeconds, 3600);
    const auto timed = fromVars({{"RANK", "0"},
                                 {"WORLD_SIZE", "2"},
                                 {"MASTER_ADDR", "h"},
                                 {"PREFLAB_DIST_TIMEOUT", "20"},
                                 {"PREFLAB_DIST_WAIT_TIMEOUT", "90"}});
    QCOMPARE(timed.collectiveTimeoutSeconds, 20);
    QCOMPARE(timed.waitTimeoutSeconds, 90);
  }

  void slurmVariables() {
    const auto env = fromVars({{"SLURM_PROCID", "1"},
                               {"SLURM_NTASKS", "2"},
                               {"SLURM_LOCALID", "0"},
                               {"SLURM_LAUNCH_NODE_IPADDR", "192.168.1.5"}});
    QCOMPARE(env.rank, 1);
    QCOMPARE(env.worldSize, 2);
    QCOMPARE(env.masterAddr, std::string("192.168.1.5"));
    QCOMPARE(env.masterPort, 29500);
    QCOMPARE(env.launcher, std::string("slurm"));
  }

  void torchrunTakesPrecedenceOverSlurm() { // torchrun started inside an srun allocation
    const auto env = fromVars({{"SLURM_PROCID", "0"},
                               {"SLURM_NTASKS", "1"},
                               {"RANK", "1"},
                               {"WORLD_SIZE", "2"},
                               {"MASTER_ADDR", "127.0.0.1"}});
    QCOMPARE(env.launcher, std::string("torchrun"));
    QCOMPARE(env.worldSize, 2);
  }

  void openMpiVariables() {
    const auto env = fromVars(
        {{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "0"}});
    QCOMPARE(env.launcher, std::string("openmpi"));
    QCOMPARE(env.masterAddr, std::string("127.0.0.1"));
  }

  void malformedVariablesAreNamed_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    QTest::newRow("rank not a number") << "RANK"
                                       << "one"
                                       << "RANK='one'";
    QTest::newRow("rank outside the world") << "RANK"
                                            << "2"
                                            << "RANK='2': expected a whole number from 0 to 1";
    QTest::newRow("negative rank") << "RANK"
                                   << "-1"
                                   << "RANK='-1'";
    QTest::newRow("trailing text") << "WORLD_SIZE"
                                   << "2x"
                                   << "WORLD_SIZE='2x'";
    QTest::newRow("port too large") << "MASTER_PORT"
                                    << "70000"
                                    << "MASTER_PORT='70000'";
    QTest::newRow("timeout not seconds") << "PREFLAB_DIST_TIMEOUT"
                                         << "5m"
                                         << "PREFLAB_DIST_TIMEOUT='5m'";
    QTest::newRow("wait timeout zero") << "PREFLAB_DIST_WAIT_TIMEOUT"
                                       << "0"
                                       << "PREFLAB_DIST_WAIT_TIMEOUT='0'";
  }
  void malformedVariablesAreNamed() {
    QFETCH(QString, name);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    Vars vars{{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}};
    vars[name.toStdString()] = value.toStdString();
    const auto error = errorOf(vars);
    QVERIFY2(error.contains(expected), qPrintable(error));
  }

  void unpairedVariablesAreRefused() {
    QVERIFY(errorOf({{"RANK", "0"}}).contains("RANK is set without WORLD_SIZE"));
    QVERIFY(errorOf({{"SLURM_NTASKS", "2"}}).contains("SLURM_NTASKS is set without SLURM_PROCID"));
    QVERIFY(errorOf({{"RANK", "1"}, {"WORLD_SIZE", "2"}}).contains("MASTER_ADDR is not set"));
  }

  void sumAddsEveryRanksTensor() {
    auto pair = joinPair();
    auto a = torch::tensor({1.0f, 2.0f, 3.0f}), b = torch::tensor({10.0f, 20.0f, 30.0f});
    auto other = std::async(std::launch::async, [one = pair.one.get(), &b] { one->sum(b); });
    pair.zero->sum(a);
    other.get();
    QVERIFY(torch::equal(a, torch::tensor({11.0f, 22.0f, 33.0f})));
    QVERIFY(torch::equal(a, b));
  }

  void stepSumCoversGradientsUnusedParametersAndMetrics() {
    auto pair = joinPair();
    auto make = [](float g) {
      auto used = torch::zeros({2, 3}, torch::requires_grad());
      auto unused = torch::zeros({4}, torch::requires_grad());
      auto half = torch::zeros({2}, torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true));
      used.mutable_grad() = torch::full({2, 3}, g);
      half.mutable_grad() = torch::full({2}, double(g) * 2, torch::kFloat64);
      return std::vector<torch::Tensor>{used, unused, half};
    };
    auto p0 = make(1.0f), p1 = make(3.0f);
    std::map<std::string, torch::Tensor> m0{{"loss", torch::tensor(0.25)},
                                            {"rewards/margins", torch::tensor(1.0)}};
    std::map<std::string, torch::Tensor> m1{{"loss", torch::tensor(0.5)},
                                            {"rewards/margins", torch::tensor(-2.0)}};
    auto other = std::async(std::launch::async,
                            [one = pair.one.get(), &p1, &m1] { sumStepAcrossRanks(*one, p1, m1); });
    sumStepAcrossRanks(*pair.zero, p0, m0);
    other.get();
    for (const auto *params : {&p0, &p1}) {
      QVERIFY(torch::equal((*params)[0].grad(), torch::full({2, 3}, 4.0f)));
      QVERIFY((*params)[1].grad().defined()); // an undefined gradient counts as zeros
      QVERIFY(torch::equal((*params)[1].grad(), torch::zeros({4})));
      QVERIFY(torch::equal((*params)[2].grad(), torch::full({2}, 8.0, torch::kFloat64)));
    }
    QCOMPARE(m0.at("loss").item<double>(), 0.75);
    QCOMPARE(m1.at("rewards/margins").item<double>(), -1.0);
  }

  void differentMetricNamesAreRefused() {
    auto pair = joinPair();
    std::vector<torch::Tensor> none;
    std::map<std::string, torch::Tensor> m0{{"loss", torch::tensor(1.0)}}, m1{{"kl", torch::tensor(1.0)}};
    auto other = std::async(std::launch::async,
                            [one = pair.one.get(), &none, &m1] { sumStepAcrossRanks(*one, none, m1); });
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, sumStepAcrossRanks(*pair.zero, none, m0));
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, other.get());
  }

  void announcementsCarryRankZerosFailure() {
    auto pair = joinPair();
    QVERIFY(!pair.one->announced("prepared"));
    pair.zero->announce("prepared");
    pair.one->awaitAnnouncement("prepared"); // returns: rank 0 said ok
    QVERIFY(pair.one->announced("prepared"));
    pair.zero->announce("second", "train_file: no such file");
    try {
      pair.one->awaitAnnouncement("second");
      QFAIL("a failure announced by rank 0 must be rethrown");
    } catch (const std::runtime_error &e) {
      QCOMPARE(std::string(e.what()),
               std::string("data parallel (rank 1 of 2): rank 0 failed: train_file: no such file"));
    }
  }

  void aRankThatLeavesStopsTheOtherQuickly() {
    auto pair = joinPair(std::chrono::seconds(60));
    pair.one.reset(); // the process is gone: its connections close
    auto t = torch::ones({8});
    const auto started = std::chrono::steady_clock::now();
    try {
      pair.zero->sum(t);
      QFAIL("a sum with a rank gone must fail");
    } catch (const std::runtime_error &e) {
      QVERIFY2(QString(e.what()).startsWith("data parallel (rank 0 of 2): "), e.what());
    }
    const auto waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    QVERIFY2(waited < 30, qPrintable(QString("waited %1 s, not the closed connection").arg(waited)));
  }

  void noRendezvousWithinTheWaitIsReported() {
    const int port = freePort();
    try {
      DataParallelGroup lonely(rankOf(1, 2, port), std::chrono::seconds(1), std::chrono::seconds(1));
      QFAIL("a rank with no rank 0 must not join");
    } catch (const std::runtime_error &e) {
      const QString what = e.what();
      QVERIFY2(what.contains("no rendezvous at 127.0.0.1:" + QString::number(port)), e.what());
      QVERIFY2(what.contains("MASTER_PORT"), e.what());
    }
  }
};

PREFLAB_TEST_MAIN(TestDataParallel)

} // namespace preflab_tests
#include "tst_data_parallel.moc"
