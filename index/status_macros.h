#ifndef GREFFIER_INDEX_STATUS_MACROS_H_
#define GREFFIER_INDEX_STATUS_MACROS_H_

// Early-return helpers for absl::Status / absl::StatusOr. Usable by every folder that may
// include index/ (index, ingest, service).

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define GREFFIER_CONCAT_INNER_(a, b) a##b
#define GREFFIER_CONCAT_(a, b) GREFFIER_CONCAT_INNER_(a, b)

#define GREFFIER_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status greffier_status_ = (expr);            \
    if (!greffier_status_.ok()) return greffier_status_; \
  } while (0)

#define GREFFIER_ASSIGN_OR_RETURN(lhs, expr) \
  GREFFIER_ASSIGN_OR_RETURN_IMPL_(GREFFIER_CONCAT_(greffier_or_, __LINE__), lhs, expr)

#define GREFFIER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                    \
  if (!tmp.ok()) return std::move(tmp).status();        \
  lhs = std::move(tmp).value()

#endif  // GREFFIER_INDEX_STATUS_MACROS_H_
