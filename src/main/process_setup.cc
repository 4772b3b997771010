#include "main/process_setup.h"

#include "absl/synchronization/mutex.h"

namespace nobus {

void SetUpProcess() { absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore); }

}  // namespace nobus
