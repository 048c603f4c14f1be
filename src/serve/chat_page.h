// The built-in chat page of `nativelm serve` (GET / and /index.html): one self-contained HTML file,
// src/serve/chat_page.html, embedded at build time by cmake/EmbedChatPage.cmake.
#pragma once
#include <string>
#include <string_view>

namespace httplib {
class Server;
}

namespace nlm::serve {

// The page's bytes (UTF-8 HTML), and a Content-Security-Policy that allows only the page's own
// inline script and style (by SHA-256) and connections to the server it came from. Both are
// defined in the generated chat_page_embed.cc.
std::string_view chat_page_html();
std::string_view chat_page_csp();

// True for the paths the page is served at; they need no API key (the page holds no data and asks
// the user for the key, which it then sends on its API calls).
bool is_chat_page_path(const std::string& path);

// Adds GET / and GET /index.html.
void add_chat_page_routes(httplib::Server& svr);

}  // namespace nlm::serve
