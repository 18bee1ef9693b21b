// The demo: users with printed passwords, a project with budget, and an image
// pool plus pairwise, rating and rewrite pools filled from the repo's demo/.
#pragma once

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "tessera/service/service.h"

namespace tessera::cli {

// Seeds the demo into a database with no users yet (kFailedPrecondition if it
// already has some). `demo_dir` holds image_tasks.jsonl and the text task
// files. Prints the accounts and passwords to `out`.
absl::Status SeedDemo(service::Service& service, const std::string& demo_dir,
                      std::ostream& out);

// The demo folder: `hint` if non-empty, else ./demo or the one beside the
// executable's build directory. Empty when none exists.
std::string FindDemoDir(const std::string& hint, const std::string& argv0);

}  // namespace tessera::cli
