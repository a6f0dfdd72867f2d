#include "service/auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace greffier::service {

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Open(const std::string& file) {
  auto auth = std::make_unique<Authenticator>();
  if (file.empty()) return auth;
  std::ifstream in(file);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read tokens file ", file));
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (fields.empty()) continue;
    if (fields.size() < 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line_no, ": expected '<token> <identity> [labels] [admin]'"));
    }
    Caller c;
    c.identity = fields[1];
    for (size_t i = 2; i < fields.size(); ++i) {
      if (fields[i] == "admin") {
        c.admin = true;
      } else {
        for (auto l : absl::StrSplit(fields[i], ',', absl::SkipEmpty())) c.labels.emplace_back(l);
      }
    }
    auth->tokens_[fields[0]] = std::move(c);
  }
  return auth;
}

absl::StatusOr<Caller> Authenticator::Identify(const grpc::ServerContext& context) const {
  const bool loopback = absl::StartsWith(context.peer(), "ipv4:127.") ||
                        absl::StartsWith(context.peer(), "ipv6:[::1]") ||
                        absl::StartsWith(context.peer(), "unix:");
  if (tokens_.empty()) return Caller{"anonymous", {}, loopback};
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata");
  }
  std::string value(it->second.data(), it->second.size());
  if (!absl::StartsWith(value, "Bearer ")) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  auto found = tokens_.find(value.substr(7));
  if (found == tokens_.end()) return absl::UnauthenticatedError("unknown token");
  return found->second;
}

}  // namespace greffier::service
