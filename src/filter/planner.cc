// Filter's query-planning reads (filter.h): what a filter's AND/OR/NOT structure implies about
// one field. Iterative over the flat node vector (post-order), like the evaluator, so deep
// filters cannot exhaust the stack.

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "filter/filter.h"
#include "filter/program.h"

namespace kiln::filter {
namespace {

using internal::Check;
using internal::Comparison;
using internal::Node;
using internal::Op;
using internal::Program;

bool Names(const Comparison& c, absl::string_view name) {
  if (c.check == Check::kMapValue) return absl::StrCat(c.filter_name, ".", c.map_key) == name;
  return c.filter_name == name;
}

// Folds a fact over the tree: `leaf` gives a comparison's fact, `both` combines AND terms (either
// one suffices), `either` combines OR branches (nullopt unless every branch has one); NOT gives
// nothing. Children precede parents in no guaranteed order, so this walks with an explicit stack.
template <typename T, typename Leaf, typename Both, typename Either>
std::optional<T> Fold(const Program& program, Leaf leaf, Both both, Either either) {
  if (program.root < 0) return std::nullopt;
  std::vector<std::optional<T>> fact(program.nodes.size());
  std::vector<std::pair<int, bool>> stack = {{program.root, false}};
  while (!stack.empty()) {
    auto [index, children_done] = stack.back();
    stack.pop_back();
    const Node& node = program.nodes[index];
    if (node.kind == Node::Kind::kCompare) {
      fact[index] = leaf(program.comparisons[node.comparison]);
      continue;
    }
    if (node.kind == Node::Kind::kNot) continue;  // nothing is implied
    if (!children_done) {
      stack.push_back({index, true});
      for (int child : node.children) stack.push_back({child, false});
      continue;
    }
    std::optional<T> out;
    bool all = true;
    for (int child : node.children) {
      const std::optional<T>& f = fact[child];
      if (!f) {
        all = false;
        continue;
      }
      out = !out ? *f : (node.kind == Node::Kind::kAnd ? both(*out, *f) : either(*out, *f));
    }
    if (node.kind == Node::Kind::kOr && !all) out.reset();
    // Two OR branches pinning different values: `either` returns nullopt through T's sentinel.
    fact[index] = out;
  }
  return fact[program.root];
}

}  // namespace

std::optional<std::string> Filter::RequiredString(absl::string_view name) const {
  // The fact is "the field equals this"; OR branches must agree. A conflict under OR becomes
  // "no single value" (kConflict); under AND either value will do (nothing can match anyway).
  static const std::string kConflict = std::string("\0conflict", 9);
  std::optional<std::string> value = Fold<std::string>(
      *program_,
      [&](const Comparison& c) -> std::optional<std::string> {
        bool string_like = c.check == Check::kString || c.check == Check::kMapValue;
        if (!string_like || c.op != Op::kEq || c.presence || !Names(c, name)) return std::nullopt;
        return c.text;
      },
      [](const std::string& a, const std::string& b) { return a == kConflict ? b : a; },
      [](const std::string& a, const std::string& b) { return a == b ? a : kConflict; });
  if (value == kConflict) return std::nullopt;
  return value;
}

std::optional<absl::Time> Filter::TimeLowerBound(absl::string_view name) const {
  return Fold<absl::Time>(
      *program_,
      [&](const Comparison& c) -> std::optional<absl::Time> {
        if (c.check != Check::kTimestamp || !Names(c, name)) return std::nullopt;
        if (c.op == Op::kEq || c.op == Op::kGe || c.op == Op::kGt) return c.time;
        return std::nullopt;
      },
      [](absl::Time a, absl::Time b) { return std::max(a, b); },
      [](absl::Time a, absl::Time b) { return std::min(a, b); });
}

}  // namespace kiln::filter
