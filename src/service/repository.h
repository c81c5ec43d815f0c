#ifndef KILN_SERVICE_REPOSITORY_H_
#define KILN_SERVICE_REPOSITORY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "filter/field_spec.h"
#include "google/protobuf/message.h"
#include "store/store.h"

namespace kiln::service {

// Typed access to one collection of protos in the store. Stateless apart from its
// configuration; every call runs inside the caller's transaction. Thread-safe.
//
//   Repository<CustomJob> jobs("customJobs", "CustomJob");
//   store->Write([&](store::Transaction& tx) { return jobs.Insert(tx, parent, job); });
template <typename T>
class Repository {
 public:
  Repository(absl::string_view collection, absl::string_view type_name)
      : collection_(collection), type_name_(type_name) {}

  const std::string& collection() const { return collection_; }
  const std::string& type_name() const { return type_name_; }

  // NOT_FOUND "CustomJob projects/.../customJobs/7 not found." when absent.
  absl::StatusOr<T> Get(store::Transaction& tx, absl::string_view name) const {
    absl::StatusOr<store::Resource> r = tx.Get(name);
    if (!r.ok()) {
      if (r.status().code() == absl::StatusCode::kNotFound) {
        return absl::NotFoundError(absl::StrCat(type_name_, " ", name, " not found."));
      }
      return r.status();
    }
    return Decode(*r);
  }

  // Stores a new message named message.name(), under `parent`.
  absl::Status Insert(store::Transaction& tx, absl::string_view parent, const T& message) const {
    store::Resource r;
    r.name = message.name();
    r.kind = collection_;
    r.parent = std::string(parent);
    r.data = message.SerializeAsString();
    return tx.Insert(r);
  }

  // Replaces the stored message of the same name.
  absl::Status Update(store::Transaction& tx, const T& message) const {
    absl::StatusOr<store::Resource> r = tx.Get(message.name());
    if (!r.ok()) return r.status();
    r->data = message.SerializeAsString();
    return tx.Update(*r);
  }

  absl::Status Delete(store::Transaction& tx, absl::string_view name) const { return tx.Delete(name); }

  absl::StatusOr<T> Decode(const store::Resource& r) const {
    T message;
    if (!message.ParseFromString(r.data)) {
      return absl::DataLossError(absl::StrCat("stored ", type_name_, " ", r.name, " does not parse"));
    }
    return message;
  }

 private:
  std::string collection_;
  std::string type_name_;
};

// The stored message `name` of `repo`, read in its own transaction; Repository::Get's errors.
template <typename T>
absl::StatusOr<T> Get(store::Store& store, const Repository<T>& repo, absl::string_view name) {
  T message;
  absl::Status s = store.Read([&](store::Transaction& tx) -> absl::Status {
    absl::StatusOr<T> got = repo.Get(tx, name);
    if (!got.ok()) return got.status();
    message = *std::move(got);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return message;
}

// Names of the stored messages of `repo`'s collection (any parent) for which keep(message) is
// true, in creation order. For reconcilers' resyncs.
template <typename T, typename Keep>
absl::StatusOr<std::vector<std::string>> Names(store::Store& store, const Repository<T>& repo, Keep keep) {
  std::vector<std::string> names;
  absl::Status s = store.Read([&](store::Transaction& tx) -> absl::Status {
    int64_t after = 0;
    constexpr int kBatch = 256;
    while (true) {
      absl::StatusOr<std::vector<store::Resource>> batch = tx.List(repo.collection(), "", after, kBatch);
      if (!batch.ok()) return batch.status();
      for (const store::Resource& r : *batch) {
        after = r.seq;
        T message;
        if (message.ParseFromString(r.data) && keep(message)) names.push_back(r.name);
      }
      if (static_cast<int>(batch->size()) < kBatch) return absl::OkStatus();
    }
  });
  if (!s.ok()) return s;
  return names;
}

// One page of a List RPC.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

// Runs a List RPC over a collection: pageSize/pageToken rules from store/page_token.h, the
// AIP-160 `filter` over `filter_fields`, in creation order. INVALID_ARGUMENT for a bad
// filter, page size or token.
absl::StatusOr<Page<std::string>> ListSerialized(store::Store& store, absl::string_view collection,
                                                 absl::string_view parent, absl::string_view filter, int64_t page_size,
                                                 absl::string_view page_token,
                                                 const google::protobuf::Message& prototype,
                                                 const std::vector<filter::FieldSpec>& filter_fields);

template <typename T>
absl::StatusOr<Page<T>> List(store::Store& store, const Repository<T>& repo, absl::string_view parent,
                             absl::string_view filter, int64_t page_size, absl::string_view page_token,
                             const std::vector<filter::FieldSpec>& filter_fields) {
  absl::StatusOr<Page<std::string>> raw = ListSerialized(store, repo.collection(), parent, filter, page_size,
                                                         page_token, T::default_instance(), filter_fields);
  if (!raw.ok()) return raw.status();
  Page<T> page;
  page.next_page_token = std::move(raw->next_page_token);
  for (const std::string& data : raw->items) {
    T message;
    if (!message.ParseFromString(data)) return absl::DataLossError("a stored resource does not parse");
    page.items.push_back(std::move(message));
  }
  return page;
}

}  // namespace kiln::service

#endif  // KILN_SERVICE_REPOSITORY_H_
