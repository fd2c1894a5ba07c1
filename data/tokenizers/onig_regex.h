#pragma once
// A compiled Oniguruma regex over UTF-8 (the engine HF's tokenizers use, so \p{L}, (?i:...),
// possessive and look-around patterns mean what they mean there).
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cascade::data {

class OnigRegex {
 public:
  // Throws InputError(source, ...) naming the pattern when it does not compile.
  OnigRegex(const std::string& pattern, const std::string& source);
  ~OnigRegex();
  OnigRegex(const OnigRegex&) = delete;
  OnigRegex& operator=(const OnigRegex&) = delete;

  // Every match [begin, end) from left to right, as onig's find_iter: after an empty match the
  // search resumes one character later.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* regex_ = nullptr;  // OnigRegex (regex_t*); the header stays out of ours
};

}  // namespace cascade::data
