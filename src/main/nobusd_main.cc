// Entry point of nobusd, the ingestion server; everything else lives in src/server.
#include "server/server.h"

int main(int argc, char** argv) { return nobus::server::RunNobusd(argc, argv); }
