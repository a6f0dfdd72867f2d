#ifndef GREFFIER_SERVICE_HEALTH_CLIENT_H_
#define GREFFIER_SERVICE_HEALTH_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace greffier::service {

// Calls the standard grpc.health.v1.Health/Check for `service` ("" = the whole server)
// and returns whether it is SERVING. Errors when the server cannot be reached in time.
absl::StatusOr<bool> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                 const std::string& service, std::chrono::milliseconds timeout);

}  // namespace greffier::service

#endif  // GREFFIER_SERVICE_HEALTH_CLIENT_H_
