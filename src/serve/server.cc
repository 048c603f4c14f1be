// The HTTP side of `nativelm serve` (declared in options.h): cpp-httplib routes onto Api, bearer
// key checks, body-size and queue limits, OpenAI-style errors for every 4xx, one access-log line
// per request on stderr, and a graceful stop on SIGINT/SIGTERM.
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <chrono>
#include <csignal>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>

#include <httplib.h>

#include "core/error.h"
#include "serve/api.h"
#include "serve/api_error.h"
#include "serve/chat_page.h"
#include "serve/options.h"

namespace nlm::serve {

namespace {

// Connections the kernel queues for accept() (it caps them at net.core.somaxconn).
constexpr int kListenBacklog = 1024;

constexpr const char* kJson = "application/json";

volatile std::sig_atomic_t g_stop_signal = 0;

// When the request being handled on this thread arrived: httplib routes, writes (streams
// included) and logs a request on one worker thread, so the access log can time it.
thread_local double t_request_start = 0;
double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
void on_serve_stop_signal(int) { g_stop_signal = 1; }

void send_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status;
  res.set_content(error_body(e), kJson);
}

// Compares in time independent of where the bytes differ, so a key cannot be found byte by byte
// from response timings (its length can; keys are long and random).
bool same_key(const std::string& given, const std::string& key) {
  if (key.empty() || given.size() != key.size()) return false;
  unsigned diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ key[i]);
  return diff == 0;
}

// Runs a handler: ApiError becomes its response, anything else a 500, never a crash.
template <class F>
void guarded(httplib::Response& res, F&& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    send_error(res, e);
  } catch (const std::exception& e) {
    send_error(res, ApiError(500, clean_message(e.what()), "", "internal_error", "server_error"));
  }
}

void set_reply(httplib::Response& res, Reply reply) {
  res.status = reply.status;
  if (!reply.stream) {
    res.set_content(reply.body, kJson);
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  auto stream = std::move(reply.stream);
  res.set_chunked_content_provider("text/event-stream", [stream](size_t, httplib::DataSink& sink) {
    try {  // nothing may escape into httplib's writer thread
      stream([&sink](const std::string& event) { return sink.is_writable() && sink.write(event.data(), event.size()); });
    } catch (...) {
    }
    sink.done();
    return true;
  });
}

}  // namespace

void run_serve(const ServeOptions& o) {
  httplib::Server svr;
  // The socket listens while the model loads: /health answers 503 {"status": "loading"} and
  // every other endpoint 503 until the engine is ready.
  std::atomic<Api*> ready{nullptr};
  std::atomic<Engine*> engine_ptr{nullptr};
  // Generation requests beyond `queue` are answered 429 by Engine::admit; a few more threads
  // keep /health, /metrics and the cheap endpoints responsive meanwhile.
  const size_t threads = static_cast<size_t>(std::max(o.queue, o.parallel)) + 4;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(o.max_body);
  svr.set_read_timeout(30, 0);
  svr.set_write_timeout(30, 0);

  svr.set_pre_routing_handler([&o](const httplib::Request& req, httplib::Response& res) {
    t_request_start = now_ms();
    if (o.api_key.empty() || req.path == "/health" || is_chat_page_path(req.path))
      return httplib::Server::HandlerResponse::Unhandled;
    std::string auth = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (auth.compare(0, prefix.size(), prefix) == 0 && same_key(auth.substr(prefix.size()), o.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    send_error(res, ApiError(401, auth.empty() ? "missing API key (send Authorization: Bearer KEY)" : "incorrect API key",
                             "", "invalid_api_key", "authentication_error"));
    return httplib::Server::HandlerResponse::Handled;
  });
  svr.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 413)
      send_error(res, ApiError(413, "the request body is larger than this server accepts (--max-body)", "", "request_too_large"));
    else if (res.status == 404)
      send_error(res, ApiError(404, "no endpoint " + req.method + " " + req.path, "", "not_found"));
    else
      send_error(res, ApiError(res.status, "bad request", "", ""));
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    send_error(res, ApiError(500, "internal error", "", "internal_error", "server_error"));
  });
  svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    // One line, written at once; the path is printed through printable() (no control bytes).
    char timing[64] = "";
    if (t_request_start > 0) std::snprintf(timing, sizeof timing, " in %.1f ms", now_ms() - t_request_start);
    t_request_start = 0;
    std::string line = "serve: " + req.remote_addr + " \"" + req.method + " " + printable(req.path, 200) + "\" " +
                       std::to_string(res.status) + timing + " (request body " + std::to_string(req.body.size()) +
                       " bytes" + (res.body.empty() ? "" : ", response " + std::to_string(res.body.size()) + " bytes") +
                       ")\n";
    std::fputs(line.c_str(), stderr);
  });

  // Routes that need the engine answer 503 while it loads.
  auto with_api = [&ready](httplib::Response& res, const std::function<void(Api&)>& fn) {
    Api* api = ready.load();
    if (!api) {
      send_error(res, ApiError(503, "the model is still loading", "", "model_loading", "server_error"));
      return;
    }
    guarded(res, [&] { fn(*api); });
  };
  svr.Get("/health", [&ready](const httplib::Request&, httplib::Response& res) {
    if (ready.load()) {
      res.set_content("{\"status\":\"ok\"}", kJson);
    } else {
      res.status = 503;
      res.set_content("{\"status\":\"loading\"}", kJson);
    }
  });
  svr.Get("/metrics", [&ready, &engine_ptr](const httplib::Request&, httplib::Response& res) {
    Engine* e = engine_ptr.load();
    if (!ready.load() || !e) {
      send_error(res, ApiError(503, "the model is still loading", "", "model_loading", "server_error"));
      return;
    }
    res.set_content(e->metrics().render(e->model_name()), "text/plain; version=0.0.4; charset=utf-8");
  });
  add_chat_page_routes(svr);  // GET / and /index.html: the chat page (chat_page.html)
  svr.Get("/v1/models", [&](const httplib::Request&, httplib::Response& res) {
    with_api(res, [&](Api& api) { set_reply(res, api.models()); });
  });
  svr.Post("/v1/completions", [&](const httplib::Request& req, httplib::Response& res) {
    with_api(res, [&](Api& api) { set_reply(res, api.generate(req.body, false)); });
  });
  svr.Post("/v1/chat/completions", [&](const httplib::Request& req, httplib::Response& res) {
    with_api(res, [&](Api& api) { set_reply(res, api.generate(req.body, true)); });
  });
  svr.Post("/tokenize", [&](const httplib::Request& req, httplib::Response& res) {
    with_api(res, [&](Api& api) { set_reply(res, api.tokenize(req.body)); });
  });
  svr.Post("/detokenize", [&](const httplib::Request& req, httplib::Response& res) {
    with_api(res, [&](Api& api) { set_reply(res, api.detokenize(req.body)); });
  });

  // Debian's httplib is a compiled library that listens with a backlog of 5. Clients that open a
  // connection per request (OpenAI clients without keep-alive, a load test's 32 streams) overflow
  // that queue whenever the accepting thread waits a moment for a core, and the kernel then
  // resets connections whose requests were sent already. The listening socket is noted as it is
  // made and listened on again with a deeper queue (Linux takes a second listen() as a resize).
  int listen_fd = -1;
  svr.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = sock;  // the last socket made is the one that bound
  });
  int port = o.port == 0 ? svr.bind_to_any_port(o.host) : (svr.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0)
    runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port), "serve",
                  "pick another --port or --host");
  if (listen_fd >= 0 && ::listen(listen_fd, kListenBacklog) != 0)
    std::fprintf(stderr, "nativelm serve: warning: could not deepen the listen queue (%s)\n", std::strerror(errno));
  // SIGINT/SIGTERM only set a flag (any thread may take them, BLAS and OpenMP ones included);
  // the main thread turns the flag into svr.stop(), which lets the requests in flight finish.
  g_stop_signal = 0;
  struct sigaction sa {}, old_int{}, old_term{};
  sa.sa_handler = on_serve_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  std::atomic<bool> listening_done{false};
  bool ok = true;
  std::thread listener([&] {
    ok = svr.listen_after_bind();
    listening_done = true;
  });
  auto shut_down = [&] {
    // stop() before the listener has started would be lost: wait until it runs (or gave up).
    while (!svr.is_running() && !listening_done) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    svr.stop();
    listener.join();
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  };
  std::unique_ptr<Engine> engine;
  std::unique_ptr<Api> api;
  try {
    engine = std::make_unique<Engine>(o);
    api = std::make_unique<Api>(*engine, RequestLimits{o.max_tokens, o.default_max_tokens, o.max_n});
  } catch (...) {
    shut_down();
    throw;
  }
  engine_ptr = engine.get();
  ready = api.get();
  std::fprintf(stderr, "nativelm serve: %s\n", engine->describe().c_str());
  std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  std::cout << "nativelm serve: listening on http://" << host << ":" << port << std::endl;
  while (!listening_done && !g_stop_signal) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (g_stop_signal) std::fputs("serve: stopping (finishing requests in flight)\n", stderr);
  shut_down();
  if (!ok) runtime_error("the server stopped unexpectedly", "serve");
}

}  // namespace nlm::serve
