// jemalloc's options for nobusd and nobus, read once when the allocator starts (the MALLOC_CONF
// environment variable still overrides them). Linked only into those two executables, and only
// when they are linked with jemalloc (src/main/CMakeLists.txt).
//
// background_thread: a jemalloc thread returns freed memory to the system, not the thread that
// frees it. Without it, one stream at full speed (batches of megabytes allocated and freed by the
// commit workers) ingested 8 % fewer records per second than with glibc's malloc; with it, the
// same (doc/performance.md, "Many tables per node", allocator).
//
// thp:always: jemalloc asks for transparent huge pages (2 MiB) on its mappings, where the kernel
// gives them on request (Debian's default `madvise` mode). A commit decodes up to
// flush_threshold_bytes of rows into fresh column buffers; with 4 KiB pages a fifth of a commit
// worker's time went to page faults (one per page), and one stream at full speed took 22 % less
// CPU per record with huge pages, for about 100 MB more peak RSS (doc/performance.md, "CPU per
// record").
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true,thp:always";
}
