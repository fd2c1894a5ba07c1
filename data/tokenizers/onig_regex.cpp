// Oniguruma, UTF-8, its default (Ruby) syntax: as the onig crate compiles HF's patterns.
#include "data/tokenizers/onig_regex.h"

#include <oniguruma.h>

#include <mutex>

#include "core/errors.h"
#include "data/tokenizers/unicode_props.h"

namespace cascade::data {
namespace {

void initialize_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

}  // namespace

OnigRegex::OnigRegex(const std::string& pattern, const std::string& source) : pattern_(pattern) {
  initialize_once();
  regex_t* reg = nullptr;
  OnigErrorInfo info;
  const auto* p = reinterpret_cast<const OnigUChar*>(pattern.data());
  const int rc = onig_new(&reg, p, p + pattern.size(), ONIG_OPTION_CAPTURE_GROUP, ONIG_ENCODING_UTF8,
                          ONIG_SYNTAX_DEFAULT, &info);
  if (rc != ONIG_NORMAL) {
    OnigUChar message[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(message, rc, &info);
    throw InputError(source, "regex '" + pattern + "' does not compile: " + reinterpret_cast<const char*>(message));
  }
  regex_ = reg;
}

OnigRegex::~OnigRegex() { onig_free(static_cast<regex_t*>(regex_)); }

std::vector<std::pair<size_t, size_t>> OnigRegex::find_all(std::string_view input) const {
  // Oniguruma needs valid UTF-8: an invalid byte is searched as U+0001 (a control character, the
  // class it fell in before), which keeps every byte offset.
  std::string sanitized;
  for (size_t pos = 0; pos < input.size();) {
    const unicode::Utf8Char c = unicode::next_utf8(input, pos);
    if (!c.valid) {
      if (sanitized.empty()) sanitized.assign(input);
      sanitized[pos] = '\x01';
    }
    pos += c.length;
  }
  const std::string_view text = sanitized.empty() ? input : std::string_view(sanitized);
  std::vector<std::pair<size_t, size_t>> out;
  auto* reg = static_cast<regex_t*>(regex_);
  OnigRegion* region = onig_region_new();
  const auto* begin = reinterpret_cast<const OnigUChar*>(text.data());
  const auto* end = begin + text.size();
  for (size_t pos = 0; pos <= text.size();) {
    const int at = onig_search(reg, begin, end, begin + pos, end, region, ONIG_OPTION_NONE);
    if (at < 0) break;
    const auto match_begin = static_cast<size_t>(region->beg[0]);
    const auto match_end = static_cast<size_t>(region->end[0]);
    out.emplace_back(match_begin, match_end);
    if (match_end > match_begin) {
      pos = match_end;
    } else {
      if (match_end >= text.size()) break;
      pos = match_end + unicode::next_utf8(text, match_end).length;
    }
  }
  onig_region_free(region, 1);
  return out;
}

}  // namespace cascade::data
