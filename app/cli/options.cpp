#include "cli/options.h"

#include <sstream>

#include "core/errors.h"

namespace cascade::cli {

Options::Options(const std::vector<OptionSpec>& specs, const std::vector<std::string>& args) {
  for (const auto& s : specs) defaults_[s.name] = s.default_value;
  auto find = [&](const std::string& name) -> const OptionSpec* {
    for (const auto& s : specs)
      if (s.name == name) return &s;
    return nullptr;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--") {
      positional_.insert(positional_.end(), args.begin() + static_cast<long>(i) + 1, args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-' || (arg[1] != '-' && arg != "-h")) {
      positional_.push_back(arg);
      continue;
    }
    if (arg == "-h") arg = "--help";
    std::optional<std::string> inline_value;
    if (const auto eq = arg.find('='); eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const OptionSpec* spec = find(arg);
    if (!spec) throw UsageError("unknown option " + arg + " (see --help)");
    if (spec->value_name.empty()) {
      if (inline_value) throw UsageError(arg + " takes no value");
      flags_[arg] = true;
    } else if (inline_value) {
      values_[arg] = *inline_value;
    } else {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value " + spec->value_name);
      values_[arg] = args[++i];
    }
  }
}

std::optional<std::string> Options::value(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Options::value_or(const std::string& name, const std::string& fallback) const {
  return value(name).value_or(fallback);
}

namespace {

// Parses the whole string with `parse` (std::stod / std::stol) or throws a UsageError naming the option.
template <class T, class Parse>
T parse_whole(const std::string& name, const std::string& text, Parse parse, const char* expected) {
  try {
    size_t used = 0;
    const T x = parse(text, &used);
    if (used == text.size()) return x;
  } catch (const std::exception&) {
  }
  throw UsageError(name + " expects " + expected + ", got '" + text + "'");
}

}  // namespace

double Options::number(const std::string& name, double fallback) const {
  const auto v = value(name);
  if (!v) return fallback;
  return parse_whole<double>(name, *v, [](const std::string& t, size_t* used) { return std::stod(t, used); },
                             "a number");
}

std::string Options::value_or_default(const std::string& name) const {
  if (const auto v = value(name)) return *v;
  const auto d = defaults_.find(name);
  if (d == defaults_.end()) throw std::logic_error("option " + name + " is not declared");
  return d->second;
}

double Options::number(const std::string& name) const {
  const std::string text = value_or_default(name);
  return parse_whole<double>(name, text, [](const std::string& t, size_t* used) { return std::stod(t, used); },
                             "a number");
}

long Options::integer(const std::string& name) const {
  const std::string text = value_or_default(name);
  return parse_whole<long>(name, text, [](const std::string& t, size_t* used) { return std::stol(t, used, 10); },
                           "a whole number");
}

long Options::integer(const std::string& name, long fallback) const {
  const auto v = value(name);
  if (!v) return fallback;
  return parse_whole<long>(name, *v, [](const std::string& t, size_t* used) { return std::stol(t, used, 10); },
                           "a whole number");
}

std::string format_help(const std::string& usage, const std::string& description,
                        const std::vector<OptionSpec>& specs) {
  std::ostringstream out;
  out << "usage: " << usage << "\n\n" << description << "\n\noptions:\n";
  for (const auto& s : specs) {
    std::string left = "  " + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
    if (left.size() < 26) left.resize(26, ' ');
    else left += "\n" + std::string(26, ' ');
    out << left << s.help;
    if (!s.default_value.empty()) out << " (default: " << s.default_value << ")";
    out << "\n";
  }
  return out.str();
}

}  // namespace cascade::cli
