#!/usr/bin/env bash
# Installs everything kiln needs on a fresh Debian 12 machine and fetches the pinned
# Vertex AI protos. Idempotent: a second run installs nothing and fetches nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# Debian packages: build tools, libraries, and what the tests and examples run.
packages=(
  build-essential cmake ninja-build pkg-config curl ca-certificates ccache
  protobuf-compiler libprotobuf-dev libabsl-dev libsqlite3-dev libspdlog-dev libcli11-dev
  libcpp-httplib-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libarchive-dev libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-venv python3-pip python3-setuptools python3-wheel python3-numpy python3-sklearn
)
# The machine image may ship its own Node.js; Debian's npm conflicts with it, so only install when absent.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -q || true   # A stale index is fine if the packages are already known.
  $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Pinned proto sources: the npm tarballs ship google/cloud/aiplatform/v1, google/{api,rpc,type,longrunning} and
# google/logging/v2 (Cloud Logging's entries:list, which `gcloud ai custom-jobs stream-logs` reads).
# Integrity is npm's sha512 of each tarball; a mismatch stops the setup.
protos="$root/third_party/vertex-protos"
stamp="$protos/.pinned"
pins="@google-cloud/aiplatform@6.11.0 sha512-B+uWA8M3rTNc9iEGY97jA5ucjXb8T7/aN5QTyxZr02xUBEM8Et2i57pNNEQxCgNTE9/hxdJRGBkb7/qaLpgX3w==
google-gax@5.0.8 sha512-M4vpZcXQIC1gqIVGQ7eaU3jXQA6zecStyTXu514TYfThlgSurYJOxHZo9fzU6hAgwPWvuEynAVHWyaIk80VeEA==
@google-cloud/logging@11.2.3 sha512-iUIJ+3Bi6aw9whahT4JmS5Ccd1Eej2Ss9RjOSW2+qcVaWcleepJtFUBuyU2CpewtniVibBUV/731MQw9SWxQ3Q=="
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$pins" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  rm -rf "$protos"
  mkdir -p "$protos"
  while read -r spec integrity; do
    echo "setup: fetching $spec"
    tgz="$(cd "$tmp" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)"
    got="sha512-$(openssl dgst -sha512 -binary "$tmp/$tgz" | base64 -w0)"
    if [ "$got" != "$integrity" ]; then
      echo "setup: integrity mismatch for $spec: got $got" >&2
      exit 1
    fi
    mkdir -p "$tmp/x"
    tar xzf "$tmp/$tgz" -C "$tmp/x"
    # -n: the first package wins for files both ship (google-gax repeats a few google/api files).
    cp -rn "$tmp/x/package/build/protos/google" "$protos/"
    rm -rf "$tmp/x"
  done <<<"$pins"
  # Well-known types come from Debian's libprotobuf so descriptors match the linked runtime.
  rm -rf "$protos/google/protobuf"
  echo "$pins" >"$stamp"
fi
echo "setup: ok"
