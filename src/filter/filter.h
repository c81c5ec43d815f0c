#ifndef KILN_FILTER_FILTER_H_
#define KILN_FILTER_FILTER_H_

// AIP-160 `filter=` strings for Vertex List RPCs, evaluated over protobuf messages by reflection.
//
// Grammar (the AIP-160 subset Vertex documents):
//   * Comparisons `field OP value`, OP one of `= != < <= > >= :`, whitespace around OP optional.
//   * `AND`, `OR`, `NOT` (upper case), `-` as a negation prefix, parentheses, and juxtaposition
//     as an implicit AND (`a=1 b=2` is `a=1 AND b=2`).
//   * Precedence, per AIP-160: OR binds tighter than AND and juxtaposition, so
//     `a AND b OR c` is `a AND (b OR c)`; NOT/- binds tightest.
//   * Values: double-quoted strings (escapes \" \\ and \* for a literal asterisk), bare words
//     (running to the next whitespace or parenthesis, so timestamps and `-5` need no quotes),
//     numbers, and `*`. A bare AND/OR/NOT is not a value; quote it.
//
// Semantics by field type:
//   * string: `=` / `!=` exact; `< <= > >=` bytewise lexical order. `:` matches an anchored glob
//     where `*` matches any run of characters (`display_name:"my_pipeline_*"`); without a `*`,
//     `:` is equality (AIP-160's "has" on a scalar). `field:*` means "non-empty".
//   * enum: `=` / `!=` (all six comparisons, by number, for a FieldSpec marked `ordered`); the
//     value is a value name (quoted or bare) or a defined number.
//   * google.protobuf.Timestamp: `= != < <= > >=` with an RFC 3339 value (quoted or bare); an
//     unset timestamp reads as 1970-01-01T00:00:00Z. `:` is an error.
//   * map<string, string> (labels): `labels.KEY OP VALUE` with string semantics on the value,
//     `labels.KEY:*` (key present), `labels:KEY` (key present; KEY may be a glob; `labels:*` =
//     any label). A missing key equals nothing: `=`, `:` and the order ops are false and `!=` is
//     true (`a != b` is always `NOT a = b`).
//   * int/uint/float/double: all operators, `:` meaning `=`, `:*` meaning non-zero.
//     bool: `=` / `!=` with true/false (case-insensitive).
//
// Errors are INVALID_ARGUMENT "filter: ... at position N", where N is the 1-based position in
// `text`, counted in Unicode code points (so for ASCII text it is the byte offset + 1); a
// problem at the end of the text is reported at text length + 1. Filters longer than 4096 bytes
// and parentheses nested deeper than 64 are rejected, so hostile input cannot exhaust the stack.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "filter/field_spec.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace kiln::filter {

namespace internal {
struct Program;
}  // namespace internal

class Filter {
 public:
  // The empty filter: matches every message.
  Filter();

  // Parses `text` for messages of type `descriptor`, allowing only the filter names in `fields`.
  // Empty or whitespace-only text matches everything. Errors:
  //   INVALID_ARGUMENT for a bad filter, e.g.
  //     `filter: unknown field "foo" at position 5; supported: create_time, display_name, ...`
  //     `filter: expected a value after "=" at position 14`
  //     `filter: "FOO" is not a value of google.cloud.aiplatform.v1.PipelineState at position 7`
  //     `filter: bad timestamp "2024-13-01" at position 15 (want RFC 3339, e.g. ...)`
  //   INTERNAL when `descriptor` is null or a FieldSpec does not resolve to a filterable field of
  //   `descriptor` (a programming error in the caller's table, reported whatever `text` is).
  static absl::StatusOr<Filter> Parse(absl::string_view text, const google::protobuf::Descriptor* descriptor,
                                      const std::vector<FieldSpec>& fields);

  // True when `message` satisfies the filter. A message of another type than the descriptor
  // given to Parse never matches (unless the filter is empty). Const and thread-safe: one Filter
  // may be used from many threads at once.
  bool Matches(const google::protobuf::Message& message) const;

  // True for the empty filter (which matches everything).
  bool empty() const;

  // Query planning: conditions every matching message meets, read from the filter's structure
  // (under AND, any term's; under OR, only what all branches agree on; under NOT, nothing). A
  // caller may narrow what it reads with them and must still call Matches on each candidate:
  // they are necessary, not sufficient.
  //
  // The value a string field must equal (`name = "v"`); for a map value, `name` is "MAP.KEY"
  // (`resource.labels.job_id`). nullopt when the filter does not pin one value.
  std::optional<std::string> RequiredString(absl::string_view name) const;
  // The latest time a Timestamp field must be at or after (from `>=`, `>` and `=`): e.g.
  // `(timestamp = "a" AND insertId > "x") OR timestamp > "a"` gives a. nullopt when unbounded.
  std::optional<absl::Time> TimeLowerBound(absl::string_view name) const;

 private:
  explicit Filter(std::shared_ptr<const internal::Program> program);

  std::shared_ptr<const internal::Program> program_;  // immutable once parsed; never null
};

}  // namespace kiln::filter

#endif  // KILN_FILTER_FILTER_H_
