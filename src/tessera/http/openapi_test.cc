// Checks docs/openapi.yaml against the server: it documents exactly the routes
// RegisterApi registers, a 400 on write routes that take input, a 401 on
// authenticated routes, and its public routes are the ones needing no token.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tessera/base/clock.h"
#include "tessera/http/api.h"
#include "tessera/http/metrics.h"
#include "tessera/http/router.h"
#include "tessera/service/service.h"
#include "tessera/store/sqlite/sqlite_database.h"
#include "tessera/store/store.h"

#ifndef TESSERA_OPENAPI_PATH
#error "TESSERA_OPENAPI_PATH must name docs/openapi.yaml"
#endif

namespace tessera::http {
namespace {

namespace fs = std::filesystem;

// One operation of the spec's `paths:` section.
struct SpecOperation {
  std::string method;               // upper-case, e.g. "POST"
  std::string path;                 // e.g. "/api/v1/pools/{id}/claims"
  std::set<std::string> responses;  // status keys as written: "200", "4XX"
  bool is_public = false;           // has `security: []`
  bool has_body = false;            // has a requestBody
  int line = 0;                     // where the method key is
};

std::string Unquote(std::string s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') &&
      s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

// A line-based reader of the `paths:` section, for the layout this repo's
// spec uses: path keys at 2-space indent, method keys at 4, operation fields
// (security, requestBody, responses) at 6, status codes at 8. Block scalars
// (`description: |`) are skipped. Returns the operations in file order; a
// read failure is reported through gtest and yields an empty list.
std::vector<SpecOperation> ReadSpecOperations(const std::string& file) {
  static const std::set<std::string> kMethods = {
      "get", "put", "post", "delete", "patch", "head", "options", "trace"};
  std::ifstream in(file);
  if (!in) {
    ADD_FAILURE() << "cannot open " << file;
    return {};
  }
  std::vector<SpecOperation> ops;
  std::string path;
  bool in_paths = false;
  bool in_operation = false;  // between a method key and the next 2/4 key
  bool in_responses = false;
  int block_indent = -1;  // indent of the key owning a block scalar
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    size_t indent = raw.find_first_not_of(' ');
    if (indent == std::string::npos) continue;  // blank
    if (block_indent >= 0) {
      if (static_cast<int>(indent) > block_indent) continue;
      block_indent = -1;
    }
    std::string text = raw.substr(indent);
    if (text[0] == '#' || text[0] == '-') continue;
    size_t colon = text.find(':');
    if (colon == std::string::npos) continue;
    std::string key =
        Unquote(std::string(absl::StripAsciiWhitespace(text.substr(0, colon))));
    std::string value(absl::StripAsciiWhitespace(text.substr(colon + 1)));
    if (!value.empty() && (value[0] == '|' || value[0] == '>')) {
      block_indent = static_cast<int>(indent);
    }
    if (indent == 0) {
      in_paths = key == "paths";
      continue;
    }
    if (!in_paths) continue;
    if (indent == 2) {
      path = key;
      in_operation = in_responses = false;
    } else if (indent == 4) {
      in_responses = false;
      // Other 4-indent keys are path-level (parameters) and own no operation.
      in_operation = kMethods.count(key) > 0;
      if (in_operation) {
        SpecOperation op;
        op.method = absl::AsciiStrToUpper(key);
        op.path = path;
        op.line = line_no;
        ops.push_back(std::move(op));
      }
    } else if (indent == 6 && in_operation) {
      in_responses = key == "responses";
      if (key == "requestBody") ops.back().has_body = true;
      if (key == "security" && value == "[]") ops.back().is_public = true;
    } else if (indent == 8 && in_operation && in_responses) {
      ops.back().responses.insert(key);
    }
  }
  return ops;
}

std::string Describe(const SpecOperation& op) {
  return absl::StrCat(op.method, " ", op.path, " (docs/openapi.yaml line ",
                      op.line, ")");
}

class OpenApiSpec : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (fs::temp_directory_path() / "tessera-openapi-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << "mkdtemp failed";
    dir_ = tmpl;
    store::sqlite::SqliteOptions options;
    options.path = (fs::path(dir_) / "tessera.db").string();
    options.durability = store::sqlite::Durability::kNormal;
    auto db = store::sqlite::OpenSqlite(options);
    ASSERT_TRUE(db.ok()) << db.status();
    store_ = store::MakeSqlStore(std::move(*db));
    ASSERT_TRUE(store_->Migrate().ok());
    service_ = std::make_unique<service::Service>(*store_, clock_);
    RegisterApi(router_, *service_, metrics_, ApiOptions{});
    ops_ = ReadSpecOperations(TESSERA_OPENAPI_PATH);
    ASSERT_FALSE(ops_.empty())
        << "no operations read from " << TESSERA_OPENAPI_PATH;
  }

  void TearDown() override {
    // The router's handlers refer to the service, which refers to the store.
    router_ = Router();
    service_.reset();
    if (store_) store_->Close();
    store_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      fs::remove_all(dir_, ec);
    }
  }

  // Dispatches `method path` with no Authorization header and an empty JSON
  // object as body.
  Response DispatchAnonymous(const std::string& method,
                             const std::string& path) {
    Request req;
    req.method = method;
    req.path = absl::StrReplaceAll(path, {{"{id}", "1"}});
    req.target = req.path;
    req.body = "{}";
    req.headers.emplace_back("content-type", "application/json");
    return router_.Dispatch(req);
  }

  std::string dir_;
  RealClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<service::Service> service_;
  Metrics metrics_;
  Router router_;
  std::vector<SpecOperation> ops_;
};

TEST_F(OpenApiSpec, DocumentsExactlyTheRegisteredRoutes) {
  std::set<std::pair<std::string, std::string>> routes;
  for (const auto& route : router_.Routes()) {
    EXPECT_TRUE(routes.insert(route).second)
        << "route registered twice: " << route.first << " " << route.second;
  }
  std::map<std::pair<std::string, std::string>, int> spec;
  for (const SpecOperation& op : ops_) {
    auto [it, inserted] = spec.emplace(std::pair(op.method, op.path), op.line);
    EXPECT_TRUE(inserted) << "documented twice: " << Describe(op)
                          << " and line " << it->second;
  }

  std::vector<std::string> undocumented;
  for (const auto& [method, path] : routes) {
    if (!spec.count({method, path})) {
      undocumented.push_back(absl::StrCat("  ", method, " ", path));
    }
  }
  std::vector<std::string> unserved;
  for (const auto& [route, line] : spec) {
    if (!routes.count(route)) {
      unserved.push_back(absl::StrCat("  ", route.first, " ", route.second,
                                      " (line ", line, ")"));
    }
  }
  EXPECT_TRUE(undocumented.empty())
      << "registered by RegisterApi but missing from docs/openapi.yaml:\n"
      << absl::StrJoin(undocumented, "\n");
  EXPECT_TRUE(unserved.empty())
      << "documented in docs/openapi.yaml but not registered by RegisterApi:\n"
      << absl::StrJoin(unserved, "\n");
  EXPECT_EQ(spec.size(), routes.size());
}

// A write route that takes input (a body or a path id) can reject it.
TEST_F(OpenApiSpec, WriteRoutesWithInputDocument400) {
  int checked = 0;
  for (const SpecOperation& op : ops_) {
    if (op.method == "GET" || op.method == "HEAD") continue;
    bool takes_input = op.has_body || op.path.find('{') != std::string::npos;
    if (!takes_input) continue;
    ++checked;
    EXPECT_TRUE(op.responses.count("400"))
        << Describe(op) << " takes input but documents no 400 response";
  }
  EXPECT_GT(checked, 10) << "the reader found too few write operations";
}

TEST_F(OpenApiSpec, AuthenticatedRoutesDocument401) {
  int checked = 0;
  for (const SpecOperation& op : ops_) {
    if (op.is_public) continue;
    ++checked;
    EXPECT_TRUE(op.responses.count("401"))
        << Describe(op) << " needs a bearer token but documents no 401";
  }
  EXPECT_GT(checked, 20) << "the reader found too few authenticated operations";
}

// The spec's `security: []` marks exactly the routes that work without a
// token: the others answer 401 to an anonymous request.
TEST_F(OpenApiSpec, SecurityMatchesTheHandlers) {
  int public_ops = 0;
  for (const SpecOperation& op : ops_) {
    Response resp = DispatchAnonymous(op.method, op.path);
    if (op.is_public) {
      ++public_ops;
      EXPECT_NE(resp.status, 401)
          << Describe(op) << " is documented as public (security: []) but "
          << "answered 401 without a token: " << resp.body;
    } else {
      EXPECT_EQ(resp.status, 401)
          << Describe(op) << " is documented as needing a bearer token but "
          << "answered " << resp.status << " without one: " << resp.body;
    }
  }
  EXPECT_GE(public_ops, 5) << "login, /healthz, /readyz, /metrics, GET /api/v1";
}

}  // namespace
}  // namespace tessera::http
