// Transaction: the CRUD, list, counter and meta operations of one store transaction.

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/sqlite_connection.h"
#include "store/store.h"

// Like KILN_ASSIGN_OR_RETURN, but an error (always an SQLite one here) dooms the transaction.
#define KILN_STORE_SQL_ASSIGN_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return Fail(tmp.status());    \
  lhs = std::move(tmp).value()
#define KILN_STORE_SQL_ASSIGN(lhs, expr) KILN_STORE_SQL_ASSIGN_(KILN_CONCAT_(kiln_store_sql_, __LINE__), lhs, expr)
#define KILN_STORE_SQL_RUN(expr)                                   \
  do {                                                             \
    ::absl::Status kiln_store_status_ = (expr);                    \
    if (!kiln_store_status_.ok()) return Fail(kiln_store_status_); \
  } while (0)

namespace kiln::store {

using internal::Statement;

namespace {

constexpr char kGetSql[] = "SELECT seq, kind, parent, revision, data FROM resources WHERE name = ?1";
constexpr char kInsertSql[] =
    "INSERT INTO resources (name, kind, parent, revision, data) VALUES (?1, ?2, ?3, 1, ?4) "
    "ON CONFLICT (name) DO NOTHING RETURNING seq";
constexpr char kUpdateSql[] =
    "UPDATE resources SET data = ?2, revision = revision + 1 "
    "WHERE name = ?1 AND (?3 = 0 OR revision = ?3) AND (?4 = '' OR kind = ?4) "
    "AND (?5 = '' OR parent = ?5) RETURNING seq, kind, parent, revision";
constexpr char kHeaderSql[] = "SELECT revision, kind, parent FROM resources WHERE name = ?1";
constexpr char kDeleteSql[] = "DELETE FROM resources WHERE name = ?1 RETURNING seq";
constexpr char kListByParentSql[] =
    "SELECT seq, name, kind, parent, revision, data FROM resources "
    "WHERE kind = ?1 AND parent = ?2 AND seq > ?3 ORDER BY seq LIMIT ?4";
constexpr char kListByKindSql[] =
    "SELECT seq, name, kind, parent, revision, data FROM resources "
    "WHERE kind = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3";
constexpr char kNextIdSql[] =
    "INSERT INTO counters (name, value) VALUES (?1, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value";
constexpr char kGetMetaSql[] = "SELECT value FROM meta WHERE key = ?1";
constexpr char kPutMetaSql[] =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
constexpr char kDeleteMetaSql[] = "DELETE FROM meta WHERE key = ?1 RETURNING key";
constexpr char kListMetaRangeSql[] = "SELECT key, value FROM meta WHERE key >= ?1 AND key < ?2 ORDER BY key";
constexpr char kListMetaFromSql[] = "SELECT key, value FROM meta WHERE key >= ?1 ORDER BY key";

absl::Status ResourceNotFound(absl::string_view name) {
  return absl::NotFoundError(absl::StrCat("Resource \"", name, "\" was not found."));
}

// The smallest string greater than every string starting with `prefix`; "" when none.
std::string PrefixUpperBound(absl::string_view prefix) {
  std::string upper(prefix);
  while (!upper.empty() && static_cast<unsigned char>(upper.back()) == 0xff) upper.pop_back();
  if (!upper.empty()) upper.back() = static_cast<char>(static_cast<unsigned char>(upper.back()) + 1);
  return upper;
}

}  // namespace

absl::Status Transaction::CheckWritable(absl::string_view op) const {
  if (!sqlite_error_.ok()) return sqlite_error_;
  if (read_only_) {
    return absl::FailedPreconditionError(absl::StrCat("store: ", op, " is not allowed in a read-only transaction"));
  }
  return absl::OkStatus();
}

absl::Status Transaction::Fail(absl::Status status) {
  if (sqlite_error_.ok()) sqlite_error_ = status;
  return status;
}

void Transaction::NoteChanged(absl::string_view name) {
  if (changed_set_.insert(std::string(name)).second) changed_.emplace_back(name);
}

absl::StatusOr<Resource> Transaction::Get(absl::string_view name) {
  if (!sqlite_error_.ok()) return sqlite_error_;
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kGetSql));
  stmt.BindText(1, name);
  KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
  if (!row) return ResourceNotFound(name);
  Resource r;
  r.name = std::string(name);
  r.seq = stmt.ColumnInt64(0);
  r.kind = stmt.ColumnBytes(1);
  r.parent = stmt.ColumnBytes(2);
  r.revision = stmt.ColumnInt64(3);
  r.data = stmt.ColumnBytes(4);
  return r;
}

absl::Status Transaction::Insert(Resource& r) {
  KILN_RETURN_IF_ERROR(CheckWritable("Insert"));
  if (r.name.empty() || r.kind.empty()) {
    return absl::InvalidArgumentError("store: Insert needs a resource name and kind");
  }
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kInsertSql));
  stmt.BindText(1, r.name).BindText(2, r.kind).BindText(3, r.parent).BindBlob(4, r.data);
  KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
  if (!row) {
    return absl::AlreadyExistsError(absl::StrCat("Resource \"", r.name, "\" already exists."));
  }
  r.seq = stmt.ColumnInt64(0);
  r.revision = 1;
  NoteChanged(r.name);
  return absl::OkStatus();
}

absl::Status Transaction::Update(Resource& r) {
  KILN_RETURN_IF_ERROR(CheckWritable("Update"));
  {
    KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kUpdateSql));
    stmt.BindText(1, r.name).BindBlob(2, r.data).BindInt64(3, r.revision);
    stmt.BindText(4, r.kind).BindText(5, r.parent);
    KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
    if (row) {
      r.seq = stmt.ColumnInt64(0);
      r.kind = stmt.ColumnBytes(1);
      r.parent = stmt.ColumnBytes(2);
      r.revision = stmt.ColumnInt64(3);
      NoteChanged(r.name);
      return absl::OkStatus();
    }
  }
  // Nothing matched: say why.
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kHeaderSql));
  stmt.BindText(1, r.name);
  KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
  if (!row) return ResourceNotFound(r.name);
  int64_t stored_revision = stmt.ColumnInt64(0);
  if (r.revision != 0 && r.revision != stored_revision) {
    return absl::AbortedError(absl::StrCat("Resource \"", r.name, "\" was modified concurrently (revision ", r.revision,
                                           " expected, ", stored_revision, " stored); retry."));
  }
  return absl::InvalidArgumentError(absl::StrCat("store: Update cannot change the kind or parent of \"", r.name,
                                                 "\" (stored kind \"", stmt.ColumnBytes(1), "\", parent \"",
                                                 stmt.ColumnBytes(2), "\")"));
}

absl::Status Transaction::Delete(absl::string_view name) {
  KILN_RETURN_IF_ERROR(CheckWritable("Delete"));
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kDeleteSql));
  stmt.BindText(1, name);
  KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
  if (!row) return ResourceNotFound(name);
  NoteChanged(name);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Resource>> Transaction::List(absl::string_view kind, absl::string_view parent,
                                                        int64_t after_seq, int limit) {
  if (!sqlite_error_.ok()) return sqlite_error_;
  if (kind.empty()) return absl::InvalidArgumentError("store: List needs a kind");
  if (limit <= 0) return absl::InvalidArgumentError("store: List limit must be > 0");
  std::vector<Resource> out;
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(parent.empty() ? kListByKindSql : kListByParentSql));
  stmt.BindText(1, kind);
  const int next = parent.empty() ? 2 : 3;  // ?2 is the parent when filtering by it
  if (!parent.empty()) stmt.BindText(2, parent);
  stmt.BindInt64(next, after_seq).BindInt64(next + 1, limit);
  while (true) {
    KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
    if (!row) break;
    Resource& r = out.emplace_back();
    r.seq = stmt.ColumnInt64(0);
    r.name = stmt.ColumnBytes(1);
    r.kind = stmt.ColumnBytes(2);
    r.parent = stmt.ColumnBytes(3);
    r.revision = stmt.ColumnInt64(4);
    r.data = stmt.ColumnBytes(5);
  }
  return out;
}

absl::StatusOr<int64_t> Transaction::NextId(absl::string_view counter) {
  KILN_RETURN_IF_ERROR(CheckWritable("NextId"));
  if (counter.empty()) return absl::InvalidArgumentError("store: NextId needs a counter name");
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kNextIdSql));
  stmt.BindText(1, counter);
  KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
  if (!row) return Fail(absl::InternalError("store: NextId returned no row"));
  return stmt.ColumnInt64(0);
}

absl::StatusOr<std::string> Transaction::GetMeta(absl::string_view key) {
  if (!sqlite_error_.ok()) return sqlite_error_;
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kGetMetaSql));
  stmt.BindText(1, key);
  KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("store: no meta record \"", key, "\""));
  return stmt.ColumnBytes(0);
}

absl::Status Transaction::PutMeta(absl::string_view key, absl::string_view value) {
  KILN_RETURN_IF_ERROR(CheckWritable("PutMeta"));
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kPutMetaSql));
  stmt.BindText(1, key).BindBlob(2, value);
  KILN_STORE_SQL_RUN(stmt.Run());
  return absl::OkStatus();
}

absl::Status Transaction::DeleteMeta(absl::string_view key) {
  KILN_RETURN_IF_ERROR(CheckWritable("DeleteMeta"));
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(kDeleteMetaSql));
  stmt.BindText(1, key);
  KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError(absl::StrCat("store: no meta record \"", key, "\""));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Transaction::ListMeta(absl::string_view prefix) {
  if (!sqlite_error_.ok()) return sqlite_error_;
  std::string upper = PrefixUpperBound(prefix);
  KILN_STORE_SQL_ASSIGN(Statement stmt, conn_->Prepare(upper.empty() ? kListMetaFromSql : kListMetaRangeSql));
  stmt.BindText(1, prefix);
  if (!upper.empty()) stmt.BindText(2, upper);
  std::vector<std::pair<std::string, std::string>> out;
  while (true) {
    KILN_STORE_SQL_ASSIGN(bool row, stmt.Step());
    if (!row) break;
    out.emplace_back(stmt.ColumnBytes(0), stmt.ColumnBytes(1));
  }
  return out;
}

}  // namespace kiln::store
