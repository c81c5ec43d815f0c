#ifndef KILN_FILTER_FIELD_SPEC_H_
#define KILN_FILTER_FIELD_SPEC_H_

#include <string>
#include <utility>

namespace kiln::filter {

// One filter name a resource kind supports, mapped to a field of the resource message.
// `proto_path` is a dot-separated path of proto field names from the resource message, e.g.
// {"display_name", "display_name"}, {"state", "state"}, {"create_time", "create_time"},
// {"labels", "labels"}, or {"network", "job_spec.network"} (every step but the last must be a
// singular message field). The last field must be a singular string, enum, integer, float,
// double or bool field, a google.protobuf.Timestamp, or a map<string, string>.
//
// `ordered` (enums only): the enum's values are ranked by number, so `< <= > >=` apply too, as
// for Cloud Logging's `severity>=WARNING`. Vertex's enums (states) take only `=` and `!=`.
struct FieldSpec {
  FieldSpec(std::string filter_name, std::string proto_path, bool ordered = false)
      : filter_name(std::move(filter_name)), proto_path(std::move(proto_path)), ordered(ordered) {}

  std::string filter_name;
  std::string proto_path;
  bool ordered = false;
};

}  // namespace kiln::filter

#endif  // KILN_FILTER_FIELD_SPEC_H_
