#ifndef KILN_STORE_SIPHASH_H_
#define KILN_STORE_SIPHASH_H_

// Internal to kiln_store: SipHash-2-4 (Aumasson & Bernstein), a keyed 64-bit hash whose
// value is stable across processes, platforms and releases (unlike absl::Hash). Used to
// fingerprint queries and to make page tokens tamper-evident.

#include <cstdint>

#include "absl/strings/string_view.h"

namespace kiln::store::internal {

struct SipKey {
  uint64_t k0;
  uint64_t k1;
};

// SipHash-2-4 of `message` under `key` (k0/k1 are the key's two little-endian halves).
uint64_t SipHash24(const SipKey& key, absl::string_view message);

}  // namespace kiln::store::internal

#endif  // KILN_STORE_SIPHASH_H_
