#pragma once
// A small, strict command-line parser: every option is declared, unknown ones are usage errors.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cascade::cli {

struct OptionSpec {
  std::string name;        // "--tau"
  std::string value_name;  // "T" for options with a value; "" for flags
  std::string help;
  std::string default_value;  // shown in --help and, where it is a value, what value()/number()/integer() fall back to
};

class Options {
 public:
  // Parses args (without the command name). Throws UsageError on unknown options or a missing value.
  Options(const std::vector<OptionSpec>& specs, const std::vector<std::string>& args);

  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> value(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  double number(const std::string& name, double fallback) const;
  long integer(const std::string& name, long fallback) const;
  // The same with the option's declared default (its spec's default_value), so that the default
  // shown by --help and the one used are one declaration.
  std::string value_or_default(const std::string& name) const;
  double number(const std::string& name) const;
  long integer(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::map<std::string, bool> flags_;
  std::vector<std::string> positional_;
  std::map<std::string, std::string> defaults_;
};

std::string format_help(const std::string& usage, const std::string& description,
                        const std::vector<OptionSpec>& specs);

}  // namespace cascade::cli
