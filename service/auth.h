#ifndef GREFFIER_SERVICE_AUTH_H_
#define GREFFIER_SERVICE_AUTH_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace greffier::service {

// Who is calling and which access labels they hold.
struct Caller {
  std::string identity;
  std::vector<std::string> labels;
  bool admin = false;
};

// Maps bearer tokens to callers. The tokens file has one caller per line:
//   <token> <identity> [label,label,...] [admin]
// ('#' starts a comment). Without a tokens file every caller is "anonymous" with no labels
// (documents that require a label stay invisible) and is allowed admin calls only from
// loopback. Thread-safe after construction.
class Authenticator {
 public:
  static absl::StatusOr<std::unique_ptr<Authenticator>> Open(const std::string& tokens_file);
  absl::StatusOr<Caller> Identify(const grpc::ServerContext& context) const;
  bool enabled() const { return !tokens_.empty(); }

 private:
  std::map<std::string, Caller> tokens_;
};

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_AUTH_H_
