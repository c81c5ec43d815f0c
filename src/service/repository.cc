#include "service/repository.h"

#include <memory>

#include "filter/filter.h"
#include "store/page_token.h"

namespace kiln::service {

absl::StatusOr<Page<std::string>> ListSerialized(store::Store& store, absl::string_view collection,
                                                 absl::string_view parent, absl::string_view filter_text,
                                                 int64_t page_size, absl::string_view page_token,
                                                 const google::protobuf::Message& prototype,
                                                 const std::vector<filter::FieldSpec>& filter_fields) {
  absl::StatusOr<int> size = store::EffectivePageSize(page_size);
  if (!size.ok()) return size.status();
  std::string fingerprint = store::QueryFingerprint({collection, parent, filter_text});
  absl::StatusOr<store::PageCursor> cursor = store::DecodePageToken(page_token, fingerprint);
  if (!cursor.ok()) return cursor.status();
  absl::StatusOr<filter::Filter> filter = filter::Filter::Parse(filter_text, prototype.GetDescriptor(), filter_fields);
  if (!filter.ok()) return filter.status();

  Page<std::string> page;
  std::unique_ptr<google::protobuf::Message> scratch(prototype.New());
  absl::Status status = store.Read([&](store::Transaction& tx) -> absl::Status {
    // Scan in batches until the page is full and one more match proves a next page exists.
    int64_t after = cursor->after_seq;
    int64_t last_returned = after;
    constexpr int kBatch = 256;
    while (true) {
      absl::StatusOr<std::vector<store::Resource>> batch = tx.List(collection, parent, after, kBatch);
      if (!batch.ok()) return batch.status();
      for (store::Resource& r : *batch) {
        after = r.seq;
        if (!scratch->ParseFromString(r.data)) return absl::DataLossError(absl::StrCat(r.name, " does not parse"));
        if (!filter->Matches(*scratch)) continue;
        if (static_cast<int>(page.items.size()) == *size) {
          page.next_page_token = store::EncodePageToken({last_returned}, fingerprint);
          return absl::OkStatus();
        }
        page.items.push_back(std::move(r.data));
        last_returned = r.seq;
      }
      if (static_cast<int>(batch->size()) < kBatch) return absl::OkStatus();
    }
  });
  if (!status.ok()) return status;
  return page;
}

}  // namespace kiln::service
