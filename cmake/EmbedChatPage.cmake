# Turns src/serve/chat_page.html into a C++ source at build time, so the page stays a real HTML
# file that is edited, linted and opened as one, and the binary still needs no file beside it.
# The generated source defines nlm::serve::chat_page_html() (the bytes) and chat_page_csp(): a
# Content-Security-Policy that lets the page run only its own inline <script> and <style>, named
# by their SHA-256 (CSP's 'sha256-BASE64'), and connect only to the server it came from.
#
# Run as: cmake -DINPUT=chat_page.html -DOUTPUT=chat_page_embed.cc -P EmbedChatPage.cmake

if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "EmbedChatPage.cmake needs -DINPUT=... and -DOUTPUT=...")
endif()

# The bytes between the <OPEN> tag, which must occur exactly once (comments included), and the
# following </CLOSE> tag.
function(element_text html open close out)
  string(FIND "${html}" "${open}" begin)
  string(FIND "${html}" "${open}" last REVERSE)
  if(begin EQUAL -1 OR NOT begin EQUAL last)
    message(FATAL_ERROR "${INPUT}: needs exactly one ${open} (the CSP hashes it), comments included")
  endif()
  string(LENGTH "${open}" open_len)
  math(EXPR begin "${begin} + ${open_len}")
  string(SUBSTRING "${html}" ${begin} -1 rest)
  string(FIND "${rest}" "${close}" end)
  if(end EQUAL -1)
    message(FATAL_ERROR "${INPUT}: no ${close} after ${open}")
  endif()
  string(SUBSTRING "${rest}" 0 ${end} text)
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Base64 (RFC 4648, padded) of the bytes given as lowercase hex digits.
function(hex_to_base64 hex out)
  set(alphabet "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
  string(LENGTH "${hex}" hex_len)
  set(result "")
  set(i 0)
  while(i LESS hex_len)
    math(EXPR left "${hex_len} - ${i}")
    if(left GREATER_EQUAL 6)
      set(group_len 6)
    else()
      set(group_len ${left})
    endif()
    string(SUBSTRING "${hex}" ${i} ${group_len} group)
    # Pad the group to three bytes; the missing ones become '=' below.
    if(group_len EQUAL 2)
      set(group "${group}0000")
      set(chars 2)
    elseif(group_len EQUAL 4)
      set(group "${group}00")
      set(chars 3)
    else()
      set(chars 4)
    endif()
    math(EXPR value "0x${group}")
    foreach(shift 18 12 6 0)
      if(chars GREATER 0)
        math(EXPR index "(${value} >> ${shift}) & 63")
        string(SUBSTRING "${alphabet}" ${index} 1 c)
        string(APPEND result "${c}")
        math(EXPR chars "${chars} - 1")
      else()
        string(APPEND result "=")
      endif()
    endforeach()
    math(EXPR i "${i} + 6")
  endwhile()
  set(${out} "${result}" PARENT_SCOPE)
endfunction()

function(csp_hash text out)
  string(SHA256 hex "${text}")
  hex_to_base64("${hex}" b64)
  set(${out} "'sha256-${b64}'" PARENT_SCOPE)
endfunction()

file(READ "${INPUT}" html)
element_text("${html}" "<script>" "</script>" script)
element_text("${html}" "<style>" "</style>" style)
csp_hash("${script}" script_hash)
csp_hash("${style}" style_hash)
set(csp "default-src 'none'; script-src ${script_hash}; style-src ${style_hash}; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")

# The bytes as an unsigned char array, 16 to a line (a string literal would need escaping and has length
# limits on some compilers).
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_len)
math(EXPR size "${hex_len} / 2")
string(REPEAT "[0-9a-f]" 32 line_of_hex)
string(REGEX REPLACE "(${line_of_hex})" "\\1\n" hex "${hex}")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")

file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by cmake/EmbedChatPage.cmake at build time; do not edit.
#include <string_view>

namespace nlm::serve {
namespace {
const unsigned char kChatPage[] = {
${bytes}0};
}  // namespace

std::string_view chat_page_html() { return {reinterpret_cast<const char*>(kChatPage), ${size}}; }

std::string_view chat_page_csp() {
  return \"${csp}\";
}

}  // namespace nlm::serve
")
# Replaced only when the text changed, so an unchanged page recompiles nothing.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
