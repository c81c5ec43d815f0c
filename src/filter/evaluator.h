#ifndef KILN_FILTER_EVALUATOR_H_
#define KILN_FILTER_EVALUATOR_H_

// Internal to kiln_filter: runs a Program against a message through protobuf reflection.

#include "absl/strings/string_view.h"
#include "filter/program.h"
#include "google/protobuf/message.h"

namespace kiln::filter::internal {

// True when `message` satisfies `program`. REQUIRES: message's descriptor is
// program.descriptor. Reads only; safe to call concurrently on one program and one message.
bool Evaluate(const Program& program, const google::protobuf::Message& message);

// True when `subject` matches the anchored glob (each `*` matches any run of characters).
bool GlobMatches(const Glob& glob, absl::string_view subject);

}  // namespace kiln::filter::internal

#endif  // KILN_FILTER_EVALUATOR_H_
