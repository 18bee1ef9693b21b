// The shared fixture of the service tests: a service::Service over the
// parameterised test store with a fake clock, and NewUser() to create a user
// the way the CLI does (no acting admin) and return its Principal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tessera/base/clock.h"
#include "tessera/base/ids.h"
#include "tessera/base/status.h"
#include "tessera/domain/types.h"
#include "tessera/service/auth.h"
#include "tessera/service/service.h"
#include "tessera/store/store_conformance.h"

namespace tessera::service {

class ServiceTestBase : public store::StoreTestBase {
 protected:
  ServiceTestBase() = default;
  // For fixtures whose clock starts at a particular time.
  explicit ServiceTestBase(absl::Time start) : clock_(start) {}

  void SetUp() override {
    StoreTestBase::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    TS_ASSERT_OK(InitCrypto());
    service_ = std::make_unique<Service>(store(), clock_);
  }
  void TearDown() override {
    service_.reset();
    StoreTestBase::TearDown();
  }

  Service& svc() { return *service_; }

  // A new user `name` (password "password-123") with `roles`.
  absl::StatusOr<Principal> NewUser(const std::string& name,
                                    const std::vector<std::string>& roles) {
    TS_ASSIGN_OR_RETURN(
        json u, svc().CreateUser(std::nullopt, {{"username", name},
                                                {"password", "password-123"},
                                                {"roles", roles}}));
    Principal p;
    p.id = UserId(u["id"].get<int64_t>());
    p.username = name;
    for (const json& r : u["roles"]) {
      TS_ASSIGN_OR_RETURN(domain::Role role,
                          domain::ParseRole(r.get<std::string>(), "roles"));
      p.roles.push_back(role);
    }
    return p;
  }

  // `n` new annotators named prefix0, prefix1, ...
  absl::StatusOr<std::vector<Principal>> NewAnnotators(
      const std::string& prefix, int n) {
    std::vector<Principal> out;
    for (int i = 0; i < n; ++i) {
      TS_ASSIGN_OR_RETURN(Principal a,
                          NewUser(absl::StrCat(prefix, i), {"annotator"}));
      out.push_back(std::move(a));
    }
    return out;
  }

  FakeClock clock_;

 private:
  std::unique_ptr<Service> service_;
};

}  // namespace tessera::service
