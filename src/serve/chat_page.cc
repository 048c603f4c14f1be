// Serves the embedded chat page with its security headers; kept out of server.cc so the routes
// there stay one line.
#include "serve/chat_page.h"

#include <httplib.h>

namespace nlm::serve {

bool is_chat_page_path(const std::string& path) { return path == "/" || path == "/index.html"; }

void add_chat_page_routes(httplib::Server& svr) {
  auto page = [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", std::string(chat_page_csp()));
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::string(chat_page_html()), "text/html; charset=utf-8");
  };
  svr.Get("/", page);
  svr.Get("/index.html", page);
}

}  // namespace nlm::serve
