// The Kafka endpoint's listener: a net::FramedServer with Kafka's framing (spec kafka-produce.md
// 2.1: every request and response is an INT32 size, then that many bytes). The handler (the
// Broker) gets request frames without the size and answers response frames without it; the
// listener adds it. Thread-safety and lifecycle: net/framed_server.h.
#pragma once

#include <memory>

#include "net/framed_server.h"

namespace nobus::kafka {

using net::Answer;
using net::ConnectionContext;
using net::FrameHandler;
using net::Reply;

// A listener for Kafka clients; `options.protocol` and `options.framing` are set here.
std::unique_ptr<net::FramedServer> NewKafkaServer(net::FramedServerOptions options,
                                                  FrameHandler handler);

}  // namespace nobus::kafka
