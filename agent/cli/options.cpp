#include "auditship/cli/options.h"

#include <cstdio>

namespace auditship::cli {

Options::Options(const std::vector<std::string>& args, const char* usage_line, std::vector<OptionSpec> specs)
    : usage_line_(usage_line), specs_(std::move(specs)) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      usage(stdout);
      exit_code_ = 0;
      return;
    }
    std::string inline_value;
    bool has_inline = false;
    if (auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline = true;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs_)
      if (arg == std::string("--") + s.name || (s.short_name && arg == std::string("-") + s.short_name)) spec = &s;
    if (!spec) {
      std::fprintf(stderr, "error: unknown option '%s'\n", args[i].c_str());
      usage(stderr);
      exit_code_ = 2;
      return;
    }
    if (!spec->takes_value) {
      values_[spec->name] = "true";
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "error: option '%s' needs a value\n", arg.c_str());
        usage(stderr);
        exit_code_ = 2;
        return;
      }
      inline_value = args[++i];
    }
    values_[spec->name] = inline_value;
  }
}

std::string Options::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

void Options::usage(std::FILE* out) const {
  std::fprintf(out, "usage: %s\n\noptions:\n", usage_line_);
  for (const auto& s : specs_) {
    std::string flag = s.short_name ? std::string("-") + s.short_name + ", " : "    ";
    flag += std::string("--") + s.name + (s.takes_value ? " VALUE" : "");
    std::fprintf(out, "  %-28s %s\n", flag.c_str(), s.help);
  }
  std::fprintf(out, "  %-28s %s\n", "-h, --help", "show this help");
}

}  // namespace auditship::cli
