#include "filter/evaluator.h"

#include <cstdint>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"

namespace kiln::filter::internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

template <typename T>
bool Compare(const T& actual, Op op, const T& wanted) {
  switch (op) {
    case Op::kEq:
    case Op::kHas:
      return actual == wanted;
    case Op::kNe:
      return !(actual == wanted);
    case Op::kLt:
      return actual < wanted;
    case Op::kLe:
      return actual <= wanted;
    case Op::kGt:
      return actual > wanted;
    case Op::kGe:
      return actual >= wanted;
  }
  return false;
}

// String semantics shared by string fields and map values: `:` is a glob (or, with a lone `*`,
// a presence test), the rest compare bytewise.
bool CompareString(absl::string_view actual, const Comparison& c) {
  if (c.op == Op::kHas) return c.presence ? !actual.empty() : GlobMatches(c.glob, actual);
  return Compare(actual, c.op, absl::string_view(c.text));
}

bool CompareMapValue(const Message& message, const Reflection& reflection, const Comparison& c) {
  const FieldDescriptor* key_field = c.field->message_type()->map_key();
  const FieldDescriptor* value_field = c.field->message_type()->map_value();
  const int size = reflection.FieldSize(message, c.field);
  std::string key_scratch;
  std::string value_scratch;
  for (int i = 0; i < size; ++i) {
    const Message& entry = reflection.GetRepeatedMessage(message, c.field, i);
    const Reflection& entry_reflection = *entry.GetReflection();
    const std::string& key = entry_reflection.GetStringReference(entry, key_field, &key_scratch);
    if (c.check == Check::kMapHasKey) {
      if (GlobMatches(c.glob, key)) return true;
      continue;
    }
    if (key != c.map_key) continue;
    if (c.op == Op::kHas && c.presence) return true;
    const std::string& value = entry_reflection.GetStringReference(entry, value_field, &value_scratch);
    if (c.op == Op::kHas) return GlobMatches(c.glob, value);
    return Compare(absl::string_view(value), c.op, absl::string_view(c.text));
  }
  // The key (or no key matching the glob) is absent: nothing equals a missing value, so only
  // `!=` holds.
  return c.check == Check::kMapValue && c.op == Op::kNe;
}

absl::Time TimestampOf(const Message& timestamp) {
  const Reflection& reflection = *timestamp.GetReflection();
  const google::protobuf::Descriptor& type = *timestamp.GetDescriptor();
  const int64_t seconds = reflection.GetInt64(timestamp, type.FindFieldByNumber(1));
  const int32_t nanos = reflection.GetInt32(timestamp, type.FindFieldByNumber(2));
  return absl::FromUnixSeconds(seconds) + absl::Nanoseconds(nanos);
}

bool EvaluateComparison(const Comparison& c, const Message& root) {
  const Message* message = &root;
  for (const FieldDescriptor* parent : c.parents) {
    message = &message->GetReflection()->GetMessage(*message, parent);
  }
  const Reflection& reflection = *message->GetReflection();
  const FieldDescriptor* field = c.field;
  switch (c.check) {
    case Check::kString: {
      std::string scratch;
      return CompareString(reflection.GetStringReference(*message, field, &scratch), c);
    }
    case Check::kEnum: {
      const int64_t number = reflection.GetEnumValue(*message, field);
      return c.presence ? number != 0 : Compare(number, c.op, c.int_value);
    }
    case Check::kInt: {
      const int64_t value = field->cpp_type() == FieldDescriptor::CPPTYPE_INT32 ? reflection.GetInt32(*message, field)
                                                                                : reflection.GetInt64(*message, field);
      return c.presence ? value != 0 : Compare(value, c.op, c.int_value);
    }
    case Check::kUint: {
      const uint64_t value = field->cpp_type() == FieldDescriptor::CPPTYPE_UINT32
                                 ? reflection.GetUInt32(*message, field)
                                 : reflection.GetUInt64(*message, field);
      return c.presence ? value != 0 : Compare(value, c.op, c.uint_value);
    }
    case Check::kDouble: {
      const double value = field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT ? reflection.GetFloat(*message, field)
                                                                               : reflection.GetDouble(*message, field);
      return c.presence ? value != 0 : Compare(value, c.op, c.double_value);
    }
    case Check::kBool: {
      const bool value = reflection.GetBool(*message, field);
      return c.presence ? value : Compare(value, c.op, c.bool_value);
    }
    case Check::kTimestamp:
      // An unset timestamp reads as the default message: 1970-01-01T00:00:00Z.
      return Compare(TimestampOf(reflection.GetMessage(*message, field)), c.op, c.time);
    case Check::kMapValue:
    case Check::kMapHasKey:
      return CompareMapValue(*message, reflection, c);
  }
  return false;
}

bool EvaluateNode(const Program& program, int index, const Message& message) {
  // Recursion depth is bounded by the parser's nesting limit: AND/OR chains are flat and each
  // parenthesis level adds at most an AND, an OR and a NOT node.
  const Node& node = program.nodes[index];
  switch (node.kind) {
    case Node::Kind::kCompare:
      return EvaluateComparison(program.comparisons[node.comparison], message);
    case Node::Kind::kNot:
      return !EvaluateNode(program, node.children.front(), message);
    case Node::Kind::kAnd:
      for (int child : node.children) {
        if (!EvaluateNode(program, child, message)) return false;
      }
      return true;
    case Node::Kind::kOr:
      for (int child : node.children) {
        if (EvaluateNode(program, child, message)) return true;
      }
      return false;
  }
  return false;
}

}  // namespace

bool GlobMatches(const Glob& glob, absl::string_view subject) {
  const auto& pieces = glob.pieces;
  if (pieces.size() == 1) return subject == pieces.front();
  // Anchor the first and last pieces, then place the middle ones leftmost-first, which is
  // optimal for `*`-only globs.
  if (!absl::ConsumePrefix(&subject, pieces.front())) return false;
  if (!absl::ConsumeSuffix(&subject, pieces.back())) return false;
  for (size_t i = 1; i + 1 < pieces.size(); ++i) {
    const size_t at = subject.find(pieces[i]);
    if (at == absl::string_view::npos) return false;
    subject.remove_prefix(at + pieces[i].size());
  }
  return true;
}

bool Evaluate(const Program& program, const Message& message) {
  if (program.root < 0) return true;
  if (message.GetDescriptor() != program.descriptor) return false;
  return EvaluateNode(program, program.root, message);
}

}  // namespace kiln::filter::internal
