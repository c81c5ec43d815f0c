#include "store/store.h"

#include <sqlite3.h>

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/sqlite_connection.h"

namespace kiln::store {

using internal::Connection;

namespace {

constexpr char kMemoryPath[] = ":memory:";

// The store whose Write/Read callback is running on this thread, to refuse re-entry
// (which would otherwise deadlock on the store's own lock).
thread_local const Store* t_active_store = nullptr;

// Rolls back whatever transaction is still open on `conn` when it goes out of scope (after
// a failed or skipped COMMIT, or if a callback throws); a no-op after a successful COMMIT.
class RollbackGuard {
 public:
  explicit RollbackGuard(Connection* conn) : conn_(conn) {}
  ~RollbackGuard() { conn_->RollbackIfOpen(); }
  RollbackGuard(const RollbackGuard&) = delete;
  RollbackGuard& operator=(const RollbackGuard&) = delete;

 private:
  Connection* conn_;
};

// A RollbackGuard that also marks this thread as inside `store`'s callback.
class CallbackScope {
 public:
  CallbackScope(const Store* store, Connection* conn)
      : rollback_(conn), previous_(std::exchange(t_active_store, store)) {}
  ~CallbackScope() { t_active_store = previous_; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  RollbackGuard rollback_;
  const Store* previous_;
};

absl::Status CheckNotReentrant(const Store* store, absl::string_view op) {
  if (t_active_store == store) {
    return absl::FailedPreconditionError(
        absl::StrCat("store: ", op, " called from inside a transaction callback of the same store"));
  }
  return absl::OkStatus();
}

absl::Status RunSql(Connection& conn, absl::string_view sql) {
  KILN_ASSIGN_OR_RETURN(internal::Statement stmt, conn.Prepare(sql));
  return stmt.Run();
}

absl::StatusOr<int> UserVersion(Connection& conn) {
  KILN_ASSIGN_OR_RETURN(std::string text, conn.QueryString("PRAGMA user_version"));
  int version = 0;
  if (!absl::SimpleAtoi(text, &version)) {
    return absl::InternalError(absl::StrCat("store: unreadable user_version \"", text, "\""));
  }
  return version;
}

absl::Status TooNew(const std::string& path, int version, size_t known) {
  return absl::FailedPreconditionError(absl::StrCat(
      "store: database ", path, " has schema version ", version, ", newer than the latest this kiln knows (", known,
      "); it was written by a newer kiln: run that version or point kiln at another store"));
}

}  // namespace

Store::Store(std::string path, Options options)
    : path_(std::move(path)),
      options_(std::move(options)),
      use_readers_(path_ != kMemoryPath && options_.max_readers > 0) {}

Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path) { return Open(path, Options()); }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& path, Options options) {
  if (path.empty()) return absl::InvalidArgumentError("store: empty database path");
  auto store = std::unique_ptr<Store>(new Store(path, std::move(options)));
  KILN_RETURN_IF_ERROR(store->Initialize());
  return store;
}

absl::Status Store::Initialize() {
  MutexLock lock(&write_mu_);
  KILN_ASSIGN_OR_RETURN(writer_,
                        Connection::Open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, options_.busy_timeout));
  // Refuse a newer database before touching it at all.
  KILN_ASSIGN_OR_RETURN(int version, UserVersion(*writer_));
  if (version > static_cast<int>(options_.migrations.size())) {
    return TooNew(path_, version, options_.migrations.size());
  }
  if (path_ != kMemoryPath) {
    KILN_ASSIGN_OR_RETURN(std::string mode, writer_->QueryString("PRAGMA journal_mode = WAL"));
    if (absl::AsciiStrToLower(mode) != "wal") {
      return absl::FailedPreconditionError(
          absl::StrCat("store: cannot enable WAL journaling on ", path_, " (journal_mode is ", mode, ")"));
    }
  }
  KILN_RETURN_IF_ERROR(
      writer_->Exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; "
                    "PRAGMA journal_size_limit = 67108864;"));
  return Migrate();
}

absl::Status Store::Migrate() {
  const int known = static_cast<int>(options_.migrations.size());
  while (true) {
    // Re-read the version inside the write lock: another process may have migrated.
    KILN_RETURN_IF_ERROR(writer_->Exec("BEGIN IMMEDIATE"));
    RollbackGuard rollback_on_exit(writer_.get());
    KILN_ASSIGN_OR_RETURN(int version, UserVersion(*writer_));
    if (version > known) return TooNew(path_, version, known);
    if (version == known) {
      schema_version_ = version;
      return writer_->Exec("COMMIT");
    }
    absl::Status status = writer_->Exec(options_.migrations[version]);
    if (status.ok()) status = writer_->Exec(absl::StrCat("PRAGMA user_version = ", version + 1));
    if (status.ok()) status = writer_->Exec("COMMIT");
    if (!status.ok()) {
      return absl::Status(status.code(), absl::StrCat("store: migration ", version + 1, " failed: ", status.message()));
    }
  }
}

absl::Status Store::Write(const std::function<absl::Status(Transaction&)>& fn, Durability durability) {
  KILN_RETURN_IF_ERROR(CheckNotReentrant(this, "Write"));
  std::vector<std::string> changed;
  {
    MutexLock lock(&write_mu_);
    Connection* conn = writer_.get();
    // synchronous is per connection and cannot change inside a transaction: NORMAL for this
    // one commit (in WAL mode: no fsync at commit), FULL again right after.
    bool deferred = durability == Durability::kDeferred;
    if (deferred) KILN_RETURN_IF_ERROR(RunSql(*conn, "PRAGMA synchronous = NORMAL"));
    absl::Status status = RunSql(*conn, "BEGIN IMMEDIATE");
    if (status.ok()) {
      CallbackScope scope(this, conn);
      Transaction tx(conn, /*read_only=*/false);
      status = fn(tx);
      if (status.ok()) status = tx.sqlite_error_;
      if (status.ok()) status = RunSql(*conn, "COMMIT");
      if (status.ok()) changed = std::move(tx.changed_);
    }  // `scope` rolls back what did not commit
    if (deferred) {
      absl::Status restored = RunSql(*conn, "PRAGMA synchronous = FULL");
      if (status.ok()) status = restored;
    }
    if (!status.ok()) return status;
  }
  if (!changed.empty()) NotifyListeners(changed);
  return absl::OkStatus();
}

absl::Status Store::Read(const std::function<absl::Status(Transaction&)>& fn) {
  KILN_RETURN_IF_ERROR(CheckNotReentrant(this, "Read"));
  if (!use_readers_) {
    MutexLock lock(&write_mu_);
    return ReadOn(writer_.get(), fn);
  }
  KILN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> conn, AcquireReader());
  absl::Status status = ReadOn(conn.get(), fn);
  ReleaseReader(std::move(conn));
  return status;
}

absl::Status Store::ReadOn(Connection* conn, const std::function<absl::Status(Transaction&)>& fn) {
  // A deferred BEGIN: the snapshot is taken by the first read and held until the end.
  KILN_RETURN_IF_ERROR(RunSql(*conn, "BEGIN"));
  CallbackScope scope(this, conn);  // ends the read transaction
  Transaction tx(conn, /*read_only=*/true);
  absl::Status status = fn(tx);
  if (status.ok()) status = tx.sqlite_error_;
  return status;
}

absl::StatusOr<std::unique_ptr<Connection>> Store::AcquireReader() {
  {
    MutexLock lock(&read_mu_);
    while (idle_readers_.empty() && open_readers_ >= options_.max_readers) reader_available_.Wait(&read_mu_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
    ++open_readers_;  // reserve a slot, open outside the lock
  }
  absl::StatusOr<std::unique_ptr<Connection>> conn =
      Connection::Open(path_, SQLITE_OPEN_READWRITE, options_.busy_timeout);
  absl::Status status = conn.status();
  if (status.ok()) status = (*conn)->Exec("PRAGMA query_only = ON");
  if (!status.ok()) {
    MutexLock lock(&read_mu_);
    --open_readers_;
    reader_available_.Signal();  // the slot is free again
    return status;
  }
  return conn;
}

void Store::ReleaseReader(std::unique_ptr<Connection> conn) {
  MutexLock lock(&read_mu_);
  idle_readers_.push_back(std::move(conn));
  reader_available_.Signal();
}

Subscription Store::AddCommitListener(CommitListener listener) { return listeners_.Add(std::move(listener)); }

void Store::NotifyListeners(const std::vector<std::string>& changed) { listeners_.Notify(changed); }

absl::StatusOr<std::string> Store::PragmaValue(absl::string_view pragma) {
  KILN_RETURN_IF_ERROR(CheckNotReentrant(this, "PragmaValue"));
  bool valid = !pragma.empty();
  for (char c : pragma) valid = valid && (absl::ascii_isalnum(c) || c == '_');
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat("store: not a pragma name: \"", pragma, "\""));
  }
  MutexLock lock(&write_mu_);
  return writer_->QueryString(absl::StrCat("PRAGMA ", pragma));
}

}  // namespace kiln::store
