// jemalloc's options for nobusd and nobus, read once when the allocator starts (the MALLOC_CONF
// environment variable still overrides them). Linked only into those two executables, and only
// when they are linked with jemalloc (src/main/CMakeLists.txt).
//
// background_thread: a jemalloc thread returns freed memory to the system, not the thread that
// frees it. Without it, one stream at full speed (batches of megabytes allocated and freed by the
// commit workers) ingested 8 % fewer records per second than with glibc's malloc; with it, the
// same (doc/performance.md, "Many tables per node", allocator).
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true";
}
