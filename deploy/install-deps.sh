#!/usr/bin/env bash
# Installs every Debian 12 package that greffier's build, tests and demo need.
# Idempotent and non-interactive: packages already present are left as they are.
set -euo pipefail

PACKAGES=(
  # toolchain
  cmake g++ make pkg-config git ca-certificates
  # storage and vectors
  librocksdb-dev libfaiss-dev libopenblas-dev liblapack-dev libomp-dev
  # gRPC and protobuf
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # documents: PDF text and rendering, OCR, archives (poppler-utils: the ingest benchmark's
  # pdftotext reference)
  libpoppler-cpp-dev libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-fra
  tesseract-ocr-eng libarchive-dev poppler-utils
  # text analysis and hashing
  libstemmer-dev libicu-dev libssl-dev zlib1g-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: not root and sudo is missing; run as root" >&2; exit 1
  fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
