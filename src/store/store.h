#ifndef KILN_STORE_STORE_H_
#define KILN_STORE_STORE_H_

// kiln's durable store: every resource and every state change is committed to SQLite
// before the API acknowledges it. The store is generic: it keeps serialized protos as
// opaque blobs plus the columns needed to list them, and knows nothing of Vertex.
//
//   KILN_ASSIGN_OR_RETURN(std::unique_ptr<Store> store, Store::Open("/var/lib/kiln/kiln.db"));
//   KILN_RETURN_IF_ERROR(store->Write([&](Transaction& tx) -> absl::Status {
//     KILN_ASSIGN_OR_RETURN(int64_t id, tx.NextId("customJobs"));
//     Resource r{.name = absl::StrCat(parent, "/customJobs/", id), .kind = "customJobs",
//                .parent = parent, .data = job.SerializeAsString()};
//     return tx.Insert(r);
//   }));

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/callbacks.h"
#include "common/mutex.h"

namespace kiln::store {

namespace internal {
class Connection;
}  // namespace internal

// One stored resource.
struct Resource {
  // (The `{}` initializers let callers use designated initializers under -Wextra.)
  std::string name{};    // full resource name, unique: "projects/p/locations/l/customJobs/123"
  std::string kind{};    // collection: "customJobs", "trainingPipelines", "models", "operations"
  std::string parent{};  // "projects/p/locations/l"; "" when the resource has none
  std::string data{};    // serialized proto bytes (opaque to the store)
  int64_t seq = 0;       // set by Insert: strictly increasing across the store, never reused
                         // (not even after Delete); list order. Unchanged by Update.
  int64_t revision = 0;  // set to 1 by Insert, bumped by every Update (optimistic concurrency)
};

// The view of the database inside one Store::Write or Store::Read callback. Only valid
// during that callback, on the thread running it; never keep a reference past it.
//
// Threading: not thread-safe; owned by the callback's thread for the callback's duration.
//
// Logical errors (NOT_FOUND, ALREADY_EXISTS, ABORTED, INVALID_ARGUMENT) change nothing and
// leave the transaction usable. Any SQLite error dooms the transaction: Store::Write rolls
// it back and reports that error even if the callback ignored it and returned OK.
// Mutating calls in a Read transaction return FAILED_PRECONDITION.
class Transaction {
 public:
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // The resource called `name`; NOT_FOUND naming it when absent.
  absl::StatusOr<Resource> Get(absl::string_view name);

  // Stores a new resource. `r.name`, `r.kind` must be non-empty (INVALID_ARGUMENT otherwise);
  // ALREADY_EXISTS when the name is taken. On success fills r.seq and sets r.revision = 1.
  absl::Status Insert(Resource& r);

  // Replaces the data of the existing resource `r.name`. NOT_FOUND when absent. When
  // r.revision != 0 it must equal the stored revision, else ABORTED (someone else updated
  // it since it was read). Kind and parent are fixed at Insert: a non-empty r.kind/r.parent
  // that differs from the stored one is INVALID_ARGUMENT. On success r.revision is the new
  // revision and r.seq, r.kind, r.parent are filled from the stored row.
  absl::Status Update(Resource& r);

  // Removes `name`; NOT_FOUND when absent.
  absl::Status Delete(absl::string_view name);

  // Resources of `kind` (required) under `parent` ("" = any parent) with seq > after_seq,
  // in seq order, at most `limit` (must be > 0). To learn whether another page exists, ask
  // for page_size + 1 and continue after the seq of the last one returned.
  absl::StatusOr<std::vector<Resource>> List(absl::string_view kind, absl::string_view parent, int64_t after_seq,
                                             int limit);

  // The next value of the named counter: 1, 2, 3, ... Durable with the transaction (a rolled
  // back transaction hands the same value out again). For server-assigned numeric ids and
  // model version ids (counter "projects/p/locations/l/models/123/versions").
  absl::StatusOr<int64_t> NextId(absl::string_view counter);

  // A small key/value table for kiln's own bookkeeping ("runtime/..." records).
  absl::StatusOr<std::string> GetMeta(absl::string_view key);            // NOT_FOUND when absent
  absl::Status PutMeta(absl::string_view key, absl::string_view value);  // insert or replace
  absl::Status DeleteMeta(absl::string_view key);                        // NOT_FOUND when absent
  // All (key, value) pairs whose key starts with `prefix` ("" = all), by key.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ListMeta(absl::string_view prefix);

 private:
  friend class Store;
  Transaction(internal::Connection* conn, bool read_only) : conn_(conn), read_only_(read_only) {}

  absl::Status CheckWritable(absl::string_view op) const;
  // Records the first SQLite error (dooming the transaction) and returns it.
  absl::Status Fail(absl::Status status);
  void NoteChanged(absl::string_view name);

  internal::Connection* conn_;
  bool read_only_;
  absl::Status sqlite_error_;         // first SQLite error; non-OK dooms the transaction
  std::vector<std::string> changed_;  // resource names, in order of first change
  absl::flat_hash_set<std::string> changed_set_;
};

// The ordered schema migrations kiln knows. Migration i (1-based) brings the schema from
// version i-1 to i; PRAGMA user_version records how many are applied. Append only: never
// edit or reorder an entry that has shipped.
std::vector<std::string> DefaultMigrations();

// A durable store over one SQLite database file.
//
// Threading: thread-safe. Writes are serialized on a single write connection under
// write_mu_ (one BEGIN IMMEDIATE transaction per Write). For file databases, Reads run
// concurrently with each other and with the writer on a small pool of read-only
// connections (WAL snapshots); for ":memory:" they share the write connection and lock.
// Callbacks must not call back into the same Store (FAILED_PRECONDITION); commit
// listeners run after the lock is released and may.
class Store {
 public:
  struct Options {
    // The schema, see DefaultMigrations(). Tests may append to simulate an upgrade.
    std::vector<std::string> migrations = DefaultMigrations();
    // How long to wait for another process holding the database lock.
    absl::Duration busy_timeout = absl::Seconds(5);
    // Read connections kept for file databases; 0 runs reads on the write connection.
    int max_readers = 4;
  };

  // Opens or creates the database at `path` (":memory:" for a private in-memory database)
  // with journal_mode=WAL, synchronous=FULL, foreign_keys=ON and a busy timeout, then
  // applies pending migrations, each in its own transaction. A database whose schema is
  // newer than `options.migrations` is FAILED_PRECONDITION and left untouched.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path);
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path, Options options);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // How a commit reaches the disk.
  enum class Durability {
    // fsync'd before Write returns: survives a machine crash.
    kDurable,
    // Not fsync'd: survives a crash of kiln, and is made durable by the next kDurable commit
    // (the log is written in order) or checkpoint; a machine crash before that loses it,
    // never half of it. For writes whose loss a restart recovers from by itself.
    kDeferred,
  };

  // Runs fn in one write transaction (BEGIN IMMEDIATE). Commits when fn returns OK and no
  // SQLite error occurred; otherwise rolls back and returns fn's error (or the SQLite error).
  // Nothing half-written is ever visible, not even after a crash.
  absl::Status Write(const std::function<absl::Status(Transaction&)>& fn, Durability durability = Durability::kDurable);

  // Runs fn against a consistent read-only snapshot; returns fn's status.
  absl::Status Read(const std::function<absl::Status(Transaction&)>& fn);

  // Registers a listener called after every commit that inserted, updated or deleted at
  // least one resource, with those names (deduplicated, in order of first change). Runs on
  // the committing thread without any store lock held; concurrent commits may call it
  // concurrently and in either order, so listeners must be thread-safe and cheap (e.g. wake
  // a reconciler). Never called for rolled-back writes, reads, or counter/meta-only writes.
  // Registered until the returned Subscription is cancelled, which waits for calls in flight;
  // every Subscription must be cancelled before the store is destroyed.
  using CommitListener = std::function<void(const std::vector<std::string>& changed_names)>;
  [[nodiscard]] Subscription AddCommitListener(CommitListener listener);

  // The schema version (number of applied migrations).
  int schema_version() const { return schema_version_; }
  const std::string& path() const { return path_; }

  // The value of a read-only PRAGMA on the write connection ("journal_mode",
  // "synchronous", "foreign_keys", ...), for diagnostics and tests. INVALID_ARGUMENT for
  // anything but a bare pragma name.
  absl::StatusOr<std::string> PragmaValue(absl::string_view pragma);

 private:
  Store(std::string path, Options options);

  absl::Status Initialize();
  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<std::unique_ptr<internal::Connection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<internal::Connection> conn);
  absl::Status ReadOn(internal::Connection* conn, const std::function<absl::Status(Transaction&)>& fn);
  void NotifyListeners(const std::vector<std::string>& changed);

  const std::string path_;
  const Options options_;
  const bool use_readers_;  // file database with max_readers > 0
  int schema_version_ = 0;  // set during Open, constant afterwards

  Mutex write_mu_;
  std::unique_ptr<internal::Connection> writer_ ABSL_GUARDED_BY(write_mu_);

  Mutex read_mu_;
  std::vector<std::unique_ptr<internal::Connection>> idle_readers_ ABSL_GUARDED_BY(read_mu_);
  int open_readers_ ABSL_GUARDED_BY(read_mu_) = 0;  // idle + checked out
  CondVar reader_available_;                        // an idle reader or a free slot appeared

  CallbackList<const std::vector<std::string>&> listeners_;
};

}  // namespace kiln::store

#endif  // KILN_STORE_STORE_H_
