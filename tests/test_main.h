// One test executable per folder (core, ui): each tst_<name>.cpp registers its Qt Test class under
// <name>; `preflab_core_tests <name> [QTest options]` runs it, and ctest runs one class per test
// ("core.<name>"), each in its own process. One executable instead of one per class: one link of
// LibTorch and Qt, one moc compilation.
#pragma once

#include <QObject>

#include <functional>
#include <memory>

namespace preflab::test {

using TestFactory = std::function<std::unique_ptr<QObject>()>;
// Registers the class built by `factory` under the name taken from `file` (tst_<name>.cpp).
int registerTest(const char *file, TestFactory factory);
// Runs the class named by argv[1] with the remaining arguments; "--list" prints the names.
int runRegisteredTest(int argc, char **argv);

} // namespace preflab::test

// A core test file's helpers and class live in `namespace preflab_tests { ... }`. The unity build
// of the core tests (tests/CMakeLists.txt) defines preflab_tests to a value of its own per file,
// so two files' helpers of the same name do not meet; built one file at a time it is just a
// namespace. moc and the test output see the name as written.

#define PREFLAB_TEST_MAIN(TestClass)                                                                         \
  static const int preflab_test_registered_##TestClass =                                                     \
      ::preflab::test::registerTest(__FILE__, [] { return std::unique_ptr<QObject>(new TestClass); });
