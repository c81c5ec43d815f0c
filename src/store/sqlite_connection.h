#ifndef KILN_STORE_SQLITE_CONNECTION_H_
#define KILN_STORE_SQLITE_CONNECTION_H_

// Internal to kiln_store: a thin RAII layer over one sqlite3 connection with a
// per-connection cache of prepared statements. Not part of the store's API.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kiln::store::internal {

// Maps an SQLite result code to a canonical status: BUSY/LOCKED → UNAVAILABLE,
// FULL → RESOURCE_EXHAUSTED, CORRUPT/NOTADB → DATA_LOSS, READONLY → FAILED_PRECONDITION,
// anything else → INTERNAL. The message names `context` and SQLite's own message.
absl::Status SqliteError(int rc, sqlite3* db, absl::string_view context);

// A cached prepared statement checked out of a Connection. Move-only; on destruction it is
// reset and its bindings cleared so the next user starts clean (and a read snapshot is not
// pinned by a half-stepped statement). Bind indexes are 1-based, column indexes 0-based.
// Bind errors are remembered and reported by the next Step().
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& BindInt64(int index, int64_t value);
  Statement& BindText(int index, absl::string_view value);  // copied
  Statement& BindBlob(int index, absl::string_view value);  // copied

  // Advances: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion, ignoring rows.
  absl::Status Run();

  int64_t ColumnInt64(int column) const;
  std::string ColumnBytes(int column) const;  // TEXT or BLOB as raw bytes

 private:
  friend class Connection;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  void NoteBind(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;  // owned by the Connection's cache
  int bind_rc_ = 0;     // first failing bind result, 0 when none
};

// One sqlite3 connection (opened with SQLITE_OPEN_NOMUTEX). Not thread-safe: the owner
// serializes all use, including of the Statements it hands out.
class Connection {
 public:
  // `flags` are sqlite3_open_v2 flags; SQLITE_OPEN_NOMUTEX is added.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, int flags,
                                                          absl::Duration busy_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs a script of one or more statements (migrations, pragmas); rows are discarded.
  absl::Status Exec(absl::string_view sql);
  // Returns the first column of the first row of `sql` as bytes ("" when no row).
  absl::StatusOr<std::string> QueryString(absl::string_view sql);

  // A statement for `sql`, prepared once per connection and reused afterwards.
  absl::StatusOr<Statement> Prepare(absl::string_view sql);

  // True while a transaction is open (i.e. not in autocommit mode).
  bool InTransaction() const;
  // Best-effort ROLLBACK when a transaction is open; used on error paths.
  void RollbackIfOpen();

  sqlite3* db() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace kiln::store::internal

#endif  // KILN_STORE_SQLITE_CONNECTION_H_
