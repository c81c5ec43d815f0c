// `kiln custom-jobs logs` (see custom_job_verbs.h).

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/command_support.h"
#include "client/custom_job_verbs.h"

namespace kiln::client {
namespace {

constexpr char kNextOffsetHeader[] = "X-Kiln-Next-Offset";
constexpr char kLogEndHeader[] = "X-Kiln-Log-End";

// The offset to ask for after `raw`, which answered a call at `offset`.
absl::StatusOr<int64_t> NextOffset(const RawResponse& raw, int64_t offset) {
  const int64_t fallback = offset + static_cast<int64_t>(raw.body.size());
  std::optional<std::string> header = raw.Header(kNextOffsetHeader);
  if (!header.has_value()) return fallback;
  int64_t next = 0;
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*header), &next)) {
    return absl::InternalError(absl::StrCat("the server sent a malformed ", kNextOffsetHeader, ": ", *header));
  }
  if (next < offset || (!raw.body.empty() && next == offset)) {
    return absl::InternalError(absl::StrCat("the server's ", kNextOffsetHeader, " ", next,
                                            " does not move on from offset ", offset, " after ", raw.body.size(),
                                            " bytes"));
  }
  return next;
}

}  // namespace

int RunLogs(const NounSpec& noun, const ConfigFlags& flags, absl::string_view id_or_name, const LogsArgs& args,
            std::ostream& out, std::ostream& err) {
  constexpr absl::string_view kVerb = "logs";
  Target target = OpenTarget(noun, kVerb, flags, id_or_name, OutputFormat::kYaml, err);
  if (!target.session.has_value()) return target.exit_code;
  const std::string path = absl::StrCat("/kiln/v1/", target.name, "/logs");
  const int wait_seconds = std::clamp(args.wait_seconds, 1, 60);
  int64_t offset = 0;
  while (true) {
    QueryParams query;
    if (!args.task.empty()) query.emplace_back("task", args.task);
    query.emplace_back("offset", absl::StrCat(offset));
    query.emplace_back("follow", args.follow ? "true" : "false");
    if (args.follow) {
      query.emplace_back("waitSeconds", absl::StrCat(wait_seconds));
    }
    const absl::Time call_start = absl::Now();
    absl::StatusOr<RawResponse> raw = target.session->client.GetRaw(path, query);
    if (!raw.ok()) {
      return ReportError(noun.name, kVerb, raw.status(), kExitApiError, err);
    }
    out.write(raw->body.data(), static_cast<std::streamsize>(raw->body.size()));
    out.flush();
    absl::StatusOr<int64_t> next = NextOffset(*raw, offset);
    if (!next.ok()) {
      return ReportError(noun.name, kVerb, next.status(), kExitApiError, err);
    }
    const bool ended =
        absl::AsciiStrToLower(absl::StripAsciiWhitespace(raw->Header(kLogEndHeader).value_or(""))) == "true";
    if (ended) return kExitOk;
    if (raw->body.empty()) {
      if (!args.follow) return kExitOk;
      const absl::Duration since_call = absl::Now() - call_start;
      if (since_call < args.min_interval) {
        absl::SleepFor(args.min_interval - since_call);
      }
    }
    offset = *next;
  }
}

}  // namespace kiln::client
