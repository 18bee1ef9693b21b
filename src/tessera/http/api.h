// The v1 JSON API, health and metrics endpoints, task media and the web app's
// static files, registered on a Router. Handlers are thin: parse, call one
// service function, format.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "tessera/http/metrics.h"
#include "tessera/http/router.h"
#include "tessera/service/service.h"

namespace tessera::http {

struct ApiOptions {
  std::string media_root;  // task images are served from here; "" = none
  std::string web_root;    // built web app (index.html); "" = built-in page
  // Checks the database for /readyz; OK when ready.
  std::function<absl::Status()> ready_check;
};

// Registers every route. `service` and `metrics` must outlive the router.
void RegisterApi(Router& router, service::Service& service, Metrics& metrics,
                 ApiOptions options);

}  // namespace tessera::http
