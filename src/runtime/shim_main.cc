// kiln-shim <replica_dir>: supervises one replica. See shim.h.

#include <cstdio>

#include "runtime/shim.h"

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] != '/') {
    std::fprintf(stderr, "usage: kiln-shim <absolute replica_dir>\n");
    return 2;
  }
  return kiln::runtime::RunShim(argv[1]);
}
