// main() of the test executables: picks the registered Qt Test class named on the command line.
#include "tests/test_main.h"

#include <QtTest/QtTest>

#ifdef PREFLAB_TEST_GUI
#include <QApplication>
#endif

#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace preflab::test {

namespace {

std::map<std::string, TestFactory> &registry() {
  static std::map<std::string, TestFactory> tests;
  return tests;
}

std::string nameOf(const char *file) {
  std::string name = file;
  const auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos)
    name = name.substr(slash + 1);
  if (name.rfind("tst_", 0) == 0)
    name = name.substr(4);
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(0, dot);
}

} // namespace

int registerTest(const char *file, TestFactory factory) {
  registry()[nameOf(file)] = std::move(factory);
  return int(registry().size());
}

int runRegisteredTest(int argc, char **argv) {
  if (argc < 2 || std::strcmp(argv[1], "--list") == 0) {
    std::printf("usage: %s NAME [QTest options]; NAME is one of:\n", argc > 0 ? argv[0] : "tests");
    for (const auto &entry : registry())
      std::printf("  %s\n", entry.first.c_str());
    return argc < 2 ? 2 : 0;
  }
  const auto it = registry().find(argv[1]);
  if (it == registry().end()) {
    std::fprintf(stderr, "no test named '%s' (--list shows them)\n", argv[1]);
    return 2;
  }
  std::vector<char *> args{argv[0]};
  for (int i = 2; i < argc; ++i)
    args.push_back(argv[i]);
  int qtArgc = int(args.size());
#ifdef PREFLAB_TEST_GUI
  QApplication app(qtArgc, args.data());
#else
  QCoreApplication app(qtArgc, args.data());
#endif
  app.setAttribute(Qt::AA_Use96Dpi, true);
  const auto object = it->second();
  return QTest::qExec(object.get(), int(args.size()), args.data());
}

} // namespace preflab::test

int main(int argc, char **argv) {
  return preflab::test::runRegisteredTest(argc, argv);
}
