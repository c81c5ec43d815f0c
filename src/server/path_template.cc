#include "server/path_template.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kiln::server {
namespace {

absl::Status Malformed(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("path template \"", text, "\": ", why));
}

}  // namespace

absl::StatusOr<PathTemplate> PathTemplate::Parse(absl::string_view text) {
  PathTemplate t;
  t.text_ = std::string(text);
  if (!absl::StartsWith(text, "/")) return Malformed(text, "must start with /");
  absl::string_view rest = text.substr(1);

  // The verb follows the last ':' that is outside braces.
  int depth = 0;
  size_t verb_at = absl::string_view::npos;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '{') ++depth;
    if (rest[i] == '}') --depth;
    if (rest[i] == ':' && depth == 0) verb_at = i;
  }
  if (verb_at != absl::string_view::npos) {
    t.verb_ = std::string(rest.substr(verb_at + 1));
    rest = rest.substr(0, verb_at);
    if (t.verb_.empty()) return Malformed(text, "empty verb");
  }

  // Split on '/' outside braces.
  std::vector<std::string> parts;
  std::string current;
  depth = 0;
  for (char c : rest) {
    if (c == '{') ++depth;
    if (c == '}') --depth;
    if (c == '/' && depth == 0) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);

  auto add_pattern_segment = [&](absl::string_view s) -> absl::Status {
    if (s.empty()) return Malformed(text, "empty segment");
    if (s == "*") {
      t.segments_.push_back({Segment::Kind::kSingle, ""});
    } else if (s == "**") {
      t.segments_.push_back({Segment::Kind::kMulti, ""});
    } else {
      if (absl::StrContains(s, "*") || absl::StrContains(s, "{") || absl::StrContains(s, "}")) {
        return Malformed(text, absl::StrCat("bad segment \"", s, "\""));
      }
      t.segments_.push_back({Segment::Kind::kLiteral, std::string(s)});
    }
    return absl::OkStatus();
  };

  for (const std::string& part : parts) {
    if (!part.empty() && part.front() == '{') {
      if (part.back() != '}') return Malformed(text, "unclosed variable");
      absl::string_view inner = absl::string_view(part).substr(1, part.size() - 2);
      Variable var;
      size_t eq = inner.find('=');
      var.field = std::string(inner.substr(0, eq));
      if (var.field.empty()) return Malformed(text, "variable without a field");
      var.begin = t.segments_.size();
      if (eq == absl::string_view::npos) {
        t.segments_.push_back({Segment::Kind::kSingle, ""});
      } else {
        for (absl::string_view s : absl::StrSplit(inner.substr(eq + 1), '/')) {
          if (absl::Status st = add_pattern_segment(s); !st.ok()) return st;
        }
      }
      var.end = t.segments_.size();
      t.variables_.push_back(std::move(var));
    } else {
      if (absl::Status st = add_pattern_segment(part); !st.ok()) return st;
    }
  }
  return t;
}

bool PathTemplate::MatchFrom(size_t seg, const std::vector<absl::string_view>& parts, size_t part,
                             std::vector<size_t>& starts) const {
  // starts[i] records which part segment i began at; starts[segments_.size()] is the end.
  if (seg == segments_.size()) {
    starts[seg] = part;
    return part == parts.size();
  }
  starts[seg] = part;
  const Segment& s = segments_[seg];
  switch (s.kind) {
    case Segment::Kind::kLiteral:
      return part < parts.size() && parts[part] == s.literal && MatchFrom(seg + 1, parts, part + 1, starts);
    case Segment::Kind::kSingle:
      return part < parts.size() && !parts[part].empty() && MatchFrom(seg + 1, parts, part + 1, starts);
    case Segment::Kind::kMulti:
      // Greedy, then back off: `**` takes one or more non-empty segments.
      for (size_t end = parts.size(); end > part; --end) {
        bool all_non_empty = true;
        for (size_t i = part; i < end; ++i) all_non_empty = all_non_empty && !parts[i].empty();
        if (all_non_empty && MatchFrom(seg + 1, parts, end, starts)) return true;
      }
      return false;
  }
  return false;
}

std::optional<std::vector<PathTemplate::Binding>> PathTemplate::Match(absl::string_view path) const {
  if (!absl::StartsWith(path, "/")) return std::nullopt;
  path.remove_prefix(1);
  if (!verb_.empty()) {
    std::string suffix = absl::StrCat(":", verb_);
    if (!absl::EndsWith(path, suffix)) return std::nullopt;
    path.remove_suffix(suffix.size());
  }
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  if (verb_.empty() && absl::StrContains(parts.back(), ':')) return std::nullopt;
  std::vector<size_t> starts(segments_.size() + 1, 0);
  if (!MatchFrom(0, parts, 0, starts)) return std::nullopt;

  std::vector<Binding> bindings;
  bindings.reserve(variables_.size());
  for (const Variable& v : variables_) {
    std::vector<absl::string_view> value(parts.begin() + starts[v.begin], parts.begin() + starts[v.end]);
    bindings.emplace_back(v.field, absl::StrJoin(value, "/"));
  }
  return bindings;
}

}  // namespace kiln::server
