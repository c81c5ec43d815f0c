#ifndef KILN_STORE_PAGE_TOKEN_H_
#define KILN_STORE_PAGE_TOKEN_H_

// Paging for List RPCs: pageSize rules and opaque, tamper-evident pageTokens.
//
//   std::string fp = QueryFingerprint({"customJobs", parent, filter, order_by});
//   KILN_ASSIGN_OR_RETURN(int size, EffectivePageSize(request.page_size()));
//   KILN_ASSIGN_OR_RETURN(PageCursor cursor, DecodePageToken(request.page_token(), fp));
//   ... tx.List("customJobs", parent, cursor.after_seq, size + 1) ...
//   if (more) response.set_next_page_token(EncodePageToken({last_returned.seq}, fp));
//
// A token carries the cursor, a hash of the query fingerprint and a keyed checksum
// (SipHash-2-4 under a fixed key). It is tamper-evident, not secret: it hides nothing a
// client could not learn by listing, and it stays valid across kiln restarts.
// All functions are pure and thread-safe.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace kiln::store {

inline constexpr int kDefaultPageSize = 100;  // pageSize 0 (unset)
inline constexpr int kMaxPageSize = 1000;     // larger pageSize values are lowered to this

// Where the next page starts: after the resource with this seq (0 = from the beginning).
struct PageCursor {
  int64_t after_seq = 0;  // ≥ 0
};

// An unambiguous fingerprint of the parts that define a query (collection, parent, filter,
// orderBy, ...): each part is length-prefixed, so {"a", "bc"} and {"ab", "c"} differ.
std::string QueryFingerprint(absl::Span<const absl::string_view> parts);

// Encodes `cursor` as an opaque base64url token (no padding) bound to `query_fingerprint`.
std::string EncodePageToken(const PageCursor& cursor, absl::string_view query_fingerprint);

// Decodes a token from EncodePageToken with the same fingerprint. "" (no token) is the first
// page: PageCursor{0}. INVALID_ARGUMENT "pageToken: ..." for a token that is malformed,
// altered (checksum mismatch) or was issued for a different query.
absl::StatusOr<PageCursor> DecodePageToken(absl::string_view token, absl::string_view query_fingerprint);

// The same for lists not ordered by seq (log entries): the cursor is the sort key of the last
// item returned, non-empty and at most kMaxCursorKeyBytes. DecodeKeyPageToken gives "" for no
// token (the first page) and the same errors as DecodePageToken.
inline constexpr size_t kMaxCursorKeyBytes = 1024;
std::string EncodeKeyPageToken(absl::string_view after_key, absl::string_view query_fingerprint);
absl::StatusOr<std::string> DecodeKeyPageToken(absl::string_view token, absl::string_view query_fingerprint);

// The page size to use for a request's pageSize: negative → INVALID_ARGUMENT
// "pageSize: must be ≥ 0"; 0 → kDefaultPageSize; above kMaxPageSize → kMaxPageSize.
absl::StatusOr<int> EffectivePageSize(int64_t page_size);

}  // namespace kiln::store

#endif  // KILN_STORE_PAGE_TOKEN_H_
