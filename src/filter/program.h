#ifndef KILN_FILTER_PROGRAM_H_
#define KILN_FILTER_PROGRAM_H_

// Internal to kiln_filter: the parsed, type-checked form of a filter that the evaluator runs.
// Nodes live in one flat vector and refer to each other by index, so neither destruction nor
// copying recurses.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/descriptor.h"

namespace kiln::filter::internal {

enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kHas };

// An anchored glob: `pieces` are the literal runs between `*` wildcards, so "a*b*" is
// {"a", "b", ""} and a pattern without `*` is a single piece that must equal the whole subject.
struct Glob {
  std::vector<std::string> pieces;
};

// How a comparison reads its field.
enum class Check {
  kString,     // singular string field
  kEnum,       // singular enum field, compared by number
  kInt,        // singular int32/int64/sint/sfixed field
  kUint,       // singular uint32/uint64/fixed field
  kDouble,     // singular float/double field
  kBool,       // singular bool field
  kTimestamp,  // singular google.protobuf.Timestamp field
  kMapValue,   // map<string,string> field, the value under `map_key`
  kMapHasKey,  // map<string,string> field, `map:KEY` (KEY matched as a glob against the keys)
};

struct Comparison {
  std::string filter_name;  // the FieldSpec's filter name (for a map: without ".KEY")
  // Singular message fields leading from the root message to `field`.
  std::vector<const google::protobuf::FieldDescriptor*> parents;
  const google::protobuf::FieldDescriptor* field = nullptr;
  Check check = Check::kString;
  Op op = Op::kEq;
  // `field:*`: a presence test (kMapValue: key present; scalars: value is not the default).
  bool presence = false;
  std::string map_key;      // kMapValue
  std::string text;         // kString / kMapValue with = != < <= > >=
  Glob glob;                // kString / kMapValue / kMapHasKey with `:`
  int64_t int_value = 0;    // kInt, kEnum (the enum number)
  uint64_t uint_value = 0;  // kUint
  double double_value = 0;  // kDouble
  bool bool_value = false;  // kBool
  absl::Time time;          // kTimestamp
};

struct Node {
  enum class Kind { kAnd, kOr, kNot, kCompare };
  Kind kind = Kind::kCompare;
  std::vector<int> children;  // kAnd, kOr: two or more; kNot: exactly one
  int comparison = -1;        // kCompare: index into Program::comparisons
};

struct Program {
  const google::protobuf::Descriptor* descriptor = nullptr;
  std::vector<Node> nodes;
  std::vector<Comparison> comparisons;
  int root = -1;  // -1: the empty filter, which matches everything
};

}  // namespace kiln::filter::internal

#endif  // KILN_FILTER_PROGRAM_H_
