// GoogleTest main for the GUI suites: one QApplication on Qt's offscreen platform (no display).
#include <QApplication>

#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  setenv("XDG_RUNTIME_DIR", "/tmp", 0);
  QApplication app(argc, argv);
  QApplication::setOrganizationName("CascadeLensTests");  // never touches the user's settings
  QApplication::setApplicationName("cascadelens-tests");
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
