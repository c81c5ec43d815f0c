// The store's schema, as an append-only list of migrations (see DefaultMigrations()).

#include <string>
#include <vector>

#include "store/store.h"

namespace kiln::store {

namespace {

// v1: resources, counters, meta.
constexpr char kMigration1[] = R"sql(
CREATE TABLE resources (
  seq      INTEGER PRIMARY KEY AUTOINCREMENT,  -- list order; AUTOINCREMENT: never reused
  name     TEXT    NOT NULL UNIQUE,
  kind     TEXT    NOT NULL,
  parent   TEXT    NOT NULL,
  revision INTEGER NOT NULL,
  data     BLOB    NOT NULL
);
CREATE INDEX resources_by_kind_parent ON resources (kind, parent, seq);
CREATE INDEX resources_by_kind ON resources (kind, seq);
CREATE TABLE counters (
  name  TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
)sql";

}  // namespace

std::vector<std::string> DefaultMigrations() { return {kMigration1}; }

}  // namespace kiln::store
