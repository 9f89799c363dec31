// JSON text helpers shared by the commands' --json and --format json output.
#pragma once

#include <string>
#include <string_view>

namespace zcmedia::shell {

// `s` as a JSON string literal, quotes included: control characters escaped,
// bytes that are not valid UTF-8 replaced by U+FFFD (JSON text must be
// UTF-8; tags and paths need not be).
std::string JsonString(std::string_view s);

}  // namespace zcmedia::shell
