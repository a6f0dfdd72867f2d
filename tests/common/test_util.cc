#include "tests/common/test_util.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace greffier::testing {

std::filesystem::path SharedDir() {
  const char* env = std::getenv("GREFFIER_SHARED_DIR");
  std::filesystem::path dir = env != nullptr ? env : GREFFIER_SHARED_DIR;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return {};
  return std::filesystem::weakly_canonical(dir, ec);
}

std::string CollapseWhitespace(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !out.empty() && out.back() == ' ') continue;
    out.push_back(c);
  }
  return out;
}

ScratchDir::ScratchDir() {
  static std::atomic<int> counter{0};
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::filesystem::path base = tmp != nullptr ? tmp : std::filesystem::temp_directory_path();
  path_ = base / absl::StrCat("greffier-test-", getpid(), "-", counter++);
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace greffier::testing
