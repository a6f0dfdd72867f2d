#ifndef GREFFIER_GENERATE_STR_UTIL_H_
#define GREFFIER_GENERATE_STR_UTIL_H_

#include <sstream>
#include <string>

namespace greffier::generate {

// Concatenates anything streamable. Used instead of absl::StrCat because
// Debian's Abseil has its own string_view that does not accept
// std::string_view arguments.
template <typename... Args>
std::string Cat(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

}  // namespace greffier::generate

#endif  // GREFFIER_GENERATE_STR_UTIL_H_
