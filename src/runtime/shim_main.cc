// kiln-shim: supervises one replica; started by LocalRuntime with a control socket as stdin.
// See shim.h.

#include <cstdio>

#include "runtime/shim.h"

int main(int argc, char** /*argv*/) {
  if (argc != 1) {
    std::fprintf(stderr, "usage: kiln-shim (started by kiln, with a control socket as stdin)\n");
    return 2;
  }
  return kiln::runtime::RunShim();
}
