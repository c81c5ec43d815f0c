#include "jobs/expand_variables.h"

#include "absl/strings/str_cat.h"

namespace kiln::jobs {

std::string ExpandVariables(absl::string_view text,
                            const std::function<std::optional<std::string>(absl::string_view)>& lookup) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '$' || i + 1 == text.size()) {
      out.push_back(text[i++]);
      continue;
    }
    char next = text[i + 1];
    if (next == '$') {  // escaped: "$$" → "$"
      out.push_back('$');
      i += 2;
      continue;
    }
    if (next != '(') {
      out.push_back('$');
      ++i;
      continue;
    }
    size_t close = text.find(')', i + 2);
    if (close == absl::string_view::npos) {  // unterminated: the rest is literal
      absl::StrAppend(&out, text.substr(i));
      break;
    }
    absl::string_view name = text.substr(i + 2, close - (i + 2));
    std::optional<std::string> value = lookup(name);
    if (value.has_value()) {
      absl::StrAppend(&out, *value);
    } else {
      absl::StrAppend(&out, text.substr(i, close + 1 - i));
    }
    i = close + 1;
  }
  return out;
}

}  // namespace kiln::jobs
