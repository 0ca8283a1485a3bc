// libFuzzer target over edgecap's options (apps/edgecap/options.h): with the
// first byte even, the rest is a TOML config file given as --config; odd,
// the rest is a command line (arguments separated by NUL bytes). Checks
// besides the sanitizers: an error is one line (unless it quotes a newline
// from the input), and an error about the config
// file starts "FILE:LINE: " so an operator finds the line.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "apps/edgecap/options.h"

namespace {

const std::string& ConfigPath() {
  static const std::string* path = [] {
    const char* dir = std::getenv("TMPDIR");
    auto* p = new std::string(absl::StrCat(dir != nullptr ? dir : "/tmp",
                                           "/edgecap-config-fuzz-", getpid(),
                                           ".toml"));
    std::atexit([] { std::remove(ConfigPath().c_str()); });
    return p;
  }();
  return *path;
}

void CheckFileError(std::string_view m, const std::string& path) {
  if (!m.starts_with(path) || m.size() <= path.size() ||
      m[path.size()] != ':') {
    return;  // not about the file (e.g. "nothing to read")
  }
  const std::string_view rest = m.substr(path.size() + 1);
  const size_t colon = rest.find(':');
  int line = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(std::string(rest.substr(0, colon)), &line) ||
      line < 1) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<std::string> args = {"edgecap"};
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const bool file = (data[0] & 1) == 0;
  if (file) {
    FILE* f = std::fopen(ConfigPath().c_str(), "wb");
    if (f == nullptr) __builtin_trap();
    std::fwrite(rest.data(), 1, rest.size(), f);
    std::fclose(f);
    args.push_back("--config");
    args.push_back(ConfigPath());
  } else {
    size_t start = 0;
    while (start <= rest.size()) {
      size_t end = rest.find('\0', start);
      if (end == std::string::npos) end = rest.size();
      args.push_back(rest.substr(start, end - start));
      start = end + 1;
    }
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  auto o = edgecap::app::ParseCommandLine(static_cast<int>(args.size()),
                                          argv.data());
  if (!o.ok()) {
    const std::string m(o.status().message());
    // Messages quote what they refuse; a newline there comes from the input.
    if (m.empty() || (m.find('\n') != std::string_view::npos &&
                      rest.find_first_of("\r\n") == std::string::npos)) {
      __builtin_trap();
    }
    if (file) CheckFileError(m, ConfigPath());
    return 0;
  }
  if (o->workers > 64) __builtin_trap();
  if (!(o->thresholds.min_failure_ratio > 0) ||
      o->thresholds.min_failure_ratio > 1) {
    __builtin_trap();
  }
  return 0;
}
