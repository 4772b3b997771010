// Entry point of nobusd, the ingestion server; everything else lives in src/server.
#include <malloc.h>

#include <cstdlib>

#include "main/process_setup.h"
#include "server/server.h"

int main(int argc, char** argv) {
  nobus::SetUpProcess();
#ifndef NOBUS_WITH_JEMALLOC
  // Without jemalloc (sanitizer and fuzz builds; CMakeLists.txt), two glibc malloc arenas: the
  // commit workers (table/ingest_service.h commit_threads) each build and free batches of up to
  // flush_threshold_bytes, and glibc's default of an arena per thread kept those freed batches in
  // up to eight arenas (peak RSS 817 MB instead of 562 MB at full speed on one table;
  // doc/performance.md "Many tables per node"). MALLOC_ARENA_MAX in the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
#endif
  return nobus::server::RunNobusd(argc, argv);
}
