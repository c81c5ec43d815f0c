#ifndef KILN_FILTER_PARSER_H_
#define KILN_FILTER_PARSER_H_

// Internal to kiln_filter: the AIP-160 grammar subset, parsed by recursive descent whose depth
// is bounded by kMaxDepth (parentheses are the only construct that nests; NOT/- prefixes are
// folded in a loop and AND/OR chains are flat n-ary nodes).
//
//   filter     := [expression]
//   expression := sequence { "AND" sequence }
//   sequence   := factor { factor }            -- juxtaposition is an implicit AND
//   factor     := term { "OR" term }           -- so OR binds tighter than AND
//   term       := { "NOT" | "-" } simple
//   simple     := comparison | "(" expression ")"
//   comparison := FIELD OP VALUE               -- OP: = != < <= > >= :
//   VALUE      := "double-quoted" | bare-word  -- bare words include numbers and `*`

#include <cstddef>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "filter/binder.h"
#include "filter/program.h"

namespace kiln::filter::internal {

inline constexpr size_t kMaxLength = 4096;  // bytes of filter text
inline constexpr int kMaxDepth = 64;        // levels of nested parentheses

// Parses and type-checks `text`. Whitespace-only text gives a Program with root -1.
absl::StatusOr<Program> ParseProgram(absl::string_view text, const google::protobuf::Descriptor* descriptor,
                                     const FieldTable& fields);

}  // namespace kiln::filter::internal

#endif  // KILN_FILTER_PARSER_H_
