#ifndef GREFFIER_SERVICE_CLI_ARGS_H_
#define GREFFIER_SERVICE_CLI_ARGS_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace greffier::service {

// Parsed command line: `--name value`, `--name=value`, boolean `--name`, and positionals.
struct CliArgs {
  std::map<std::string, std::string> flags;
  std::vector<std::string> positionals;

  std::string Get(const std::string& name, const std::string& fallback = "") const;
  bool Has(const std::string& name) const { return flags.count(name) > 0; }
  absl::StatusOr<int> GetInt(const std::string& name, int fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;
};

// Parses argv[first..argc). `value_flags` take a value; `bool_flags` do not; anything else
// starting with "--" is an error that names the flag.
absl::StatusOr<CliArgs> ParseArgs(int argc, char** argv, int first,
                                  const std::set<std::string>& value_flags,
                                  const std::set<std::string>& bool_flags);

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_CLI_ARGS_H_
