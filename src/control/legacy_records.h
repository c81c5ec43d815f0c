#ifndef KILN_CONTROL_LEGACY_RECORDS_H_
#define KILN_CONTROL_LEGACY_RECORDS_H_

// Internal to kiln_control: the upgrade from the records kiln kept before job records
// (job_records.h) — one meta entry per replica ("replicas/<job>/<task>", with its folder and
// shim), "grant/<job>" and "outcome/<job>" — to one JobRecord per job, whose runtime handle
// comes from Runtime::FindJob (the runtime describes such a job's folder itself). Run once at
// reconciler start; afterwards no old entry is left, so it is a no-op.

#include "absl/status/status.h"
#include "runtime/runtime.h"
#include "store/store.h"

namespace kiln::control {

// Returns how many jobs were upgraded through `upgraded` (may be null).
absl::Status UpgradeLegacyRecords(store::Store& store, runtime::Runtime& runtime, int* upgraded);

}  // namespace kiln::control

#endif  // KILN_CONTROL_LEGACY_RECORDS_H_
