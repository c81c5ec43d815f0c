#ifndef KILN_SERVICE_TEST_UTIL_H_
#define KILN_SERVICE_TEST_UTIL_H_

#include <memory>

#include "gtest/gtest.h"
#include "store/store.h"

namespace kiln::service {

// An in-memory store for service tests.
inline std::unique_ptr<store::Store> OpenTestStore() {
  auto store = store::Store::Open(":memory:");
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

}  // namespace kiln::service

#endif  // KILN_SERVICE_TEST_UTIL_H_
