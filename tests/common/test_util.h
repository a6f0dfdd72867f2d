#ifndef GREFFIER_TESTS_COMMON_TEST_UTIL_H_
#define GREFFIER_TESTS_COMMON_TEST_UTIL_H_

#include <filesystem>
#include <string>

namespace greffier::testing {

// Path of the read-only shared/ data directory (env GREFFIER_SHARED_DIR wins over the
// build-time default). Empty when the directory does not exist.
std::filesystem::path SharedDir();

// Skips the current test with a visible message when shared/ (or `sub` inside it) is absent.
#define GREFFIER_REQUIRE_SHARED(sub)                                                      \
  do {                                                                                    \
    auto greffier_shared_ = ::greffier::testing::SharedDir();                             \
    if (greffier_shared_.empty() || !std::filesystem::exists(greffier_shared_ / (sub))) { \
      GTEST_SKIP() << "shared data absent (" << (sub)                                     \
                   << "): set GREFFIER_SHARED_DIR or place ../shared beside the "         \
                      "project";                                                          \
    }                                                                                     \
  } while (0)

// Line breaks and runs of spaces become single spaces, as a reader sees a paragraph.
std::string CollapseWhitespace(const std::string& text);

// A fresh, empty directory under the test temp dir, removed when the object dies.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace greffier::testing

#endif  // GREFFIER_TESTS_COMMON_TEST_UTIL_H_
