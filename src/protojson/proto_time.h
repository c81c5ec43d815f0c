#ifndef KILN_PROTOJSON_PROTO_TIME_H_
#define KILN_PROTOJSON_PROTO_TIME_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace kiln::protojson {

// absl::Time ↔ google.protobuf.Timestamp, to the nanosecond.
inline google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}
inline absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(google::protobuf::util::TimeUtil::TimestampToNanoseconds(t));
}

}  // namespace kiln::protojson

#endif  // KILN_PROTOJSON_PROTO_TIME_H_
