// Added-token splitting shared by the tokenizers.
#include "data/tokenizers/bpe_common.h"

#include <algorithm>
#include <array>

namespace cascade::data {

std::vector<TextSegment> split_on_added(std::string_view text, const std::vector<AddedToken>& added) {
  std::vector<TextSegment> out;
  // Candidates by first byte, longest first, so the first hit at a position is the longest.
  std::array<std::vector<const AddedToken*>, 256> by_first;
  for (const AddedToken& t : added)
    if (!t.content.empty()) by_first[static_cast<unsigned char>(t.content[0])].push_back(&t);
  for (auto& list : by_first)
    std::stable_sort(list.begin(), list.end(), [](const AddedToken* a, const AddedToken* b) {
      return a->content.size() > b->content.size();
    });
  size_t plain_begin = 0;
  for (size_t pos = 0; pos < text.size();) {
    const AddedToken* hit = nullptr;
    for (const AddedToken* t : by_first[static_cast<unsigned char>(text[pos])]) {
      if (text.compare(pos, t->content.size(), t->content) == 0) {
        hit = t;
        break;
      }
    }
    if (!hit) {
      ++pos;
      continue;
    }
    if (pos > plain_begin) out.push_back({plain_begin, pos, std::nullopt});
    out.push_back({pos, pos + hit->content.size(), hit->id});
    pos += hit->content.size();
    plain_begin = pos;
  }
  if (text.size() > plain_begin) out.push_back({plain_begin, text.size(), std::nullopt});
  return out;
}

}  // namespace cascade::data
