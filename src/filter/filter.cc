#include "filter/filter.h"

#include <utility>

#include "common/status_macros.h"
#include "filter/binder.h"
#include "filter/evaluator.h"
#include "filter/parser.h"
#include "filter/program.h"

namespace kiln::filter {

Filter::Filter() : program_(std::make_shared<const internal::Program>()) {}

Filter::Filter(std::shared_ptr<const internal::Program> program) : program_(std::move(program)) {}

absl::StatusOr<Filter> Filter::Parse(absl::string_view text, const google::protobuf::Descriptor* descriptor,
                                     const std::vector<FieldSpec>& fields) {
  KILN_ASSIGN_OR_RETURN(internal::FieldTable table, internal::FieldTable::Build(descriptor, fields));
  KILN_ASSIGN_OR_RETURN(internal::Program program, internal::ParseProgram(text, descriptor, table));
  return Filter(std::make_shared<const internal::Program>(std::move(program)));
}

bool Filter::Matches(const google::protobuf::Message& message) const { return internal::Evaluate(*program_, message); }

bool Filter::empty() const { return program_->root < 0; }

}  // namespace kiln::filter
