#ifndef KILN_FILTER_BINDER_H_
#define KILN_FILTER_BINDER_H_

// Internal to kiln_filter: resolves filter names to proto fields and type-checks each comparison
// (operator and value) against its field, producing a ready-to-run internal::Comparison.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "filter/field_spec.h"
#include "filter/lexer.h"
#include "filter/program.h"
#include "google/protobuf/descriptor.h"

namespace kiln::filter::internal {

// One FieldSpec resolved against the message descriptor.
struct ResolvedField {
  std::string filter_name;
  std::vector<const google::protobuf::FieldDescriptor*> parents;  // singular message fields
  const google::protobuf::FieldDescriptor* field = nullptr;
  Check check = Check::kString;  // maps: kMapValue
  bool ordered = false;          // enums: FieldSpec::ordered
};

// What the left-hand side of a comparison names.
struct Target {
  const ResolvedField* field = nullptr;
  bool has_key = false;  // `labels.KEY`
  std::string key;
  size_t offset = 0;    // byte offset of the field path in the filter text
  std::string spelled;  // the field path as written
};

class FieldTable {
 public:
  // Resolves every spec. A spec whose proto_path does not name a field of `descriptor`, runs
  // through a repeated/non-message field, or ends at an unsupported type is a programming error:
  // INTERNAL. Duplicate filter names are INTERNAL too.
  static absl::StatusOr<FieldTable> Build(const google::protobuf::Descriptor* descriptor,
                                          const std::vector<FieldSpec>& specs);

  // The field named by `word` (a term-mode kWord token): an exact filter name, or `MAP.KEY` for
  // a map field. Unknown names are INVALID_ARGUMENT listing the supported names.
  absl::StatusOr<Target> Resolve(absl::string_view text, const Token& word) const;

  // Checks that `op` applies to `target`'s type (error positioned at the operator).
  absl::Status CheckOperator(absl::string_view text, const Target& target, const Token& op) const;

  // Converts `value` (a kWord or kString token) for `target` and `op`, which passed
  // CheckOperator. Errors are positioned at the value.
  absl::StatusOr<Comparison> Bind(absl::string_view text, const Target& target, Op op, const Token& value) const;

 private:
  std::vector<ResolvedField> fields_;
  std::string supported_;  // sorted, comma-separated filter names
};

}  // namespace kiln::filter::internal

#endif  // KILN_FILTER_BINDER_H_
