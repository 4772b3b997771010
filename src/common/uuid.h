// Random identifiers: RFC 4122 version-4 UUIDs (data file names, commit and stream ids, names of
// temporary files). Thread-safe: each thread draws from its own generator, seeded from
// std::random_device.
#pragma once

#include <string>

namespace nobus {

// A random version-4 UUID in canonical lower-case form, e.g.
// "3b241101-e2bb-4255-8caf-4136c566a962".
std::string NewUuid();

}  // namespace nobus
