#!/usr/bin/env bash
# Builds photong for WebAssembly with Debian's emscripten (3.1.6), from the same headers as the native build:
#   build-wasm/node/photong.js, photong-melody.js (+ .wasm)  the two commands, for Node (node --no-experimental-fetch
#                                                          build-wasm/node/photong.js IMAGE ...; files through NODERAWFS)
#   build-wasm/web/photong_web.js (+ .wasm)                 the C interface (include/photong/c_api.h) as a module for
#                                                          the page in web/ (createPhotongModule(); weights are written
#                                                          into its memory file system by web/worker.js)
# Usage: scripts/build_wasm.sh [--no-simd] [--threads] [--out DIR]
#   SIMD128 is on by default: clang vectorises photong's own loops with it. Debian's Eigen 3.4.0 has no WebAssembly
#   packet code, so Eigen's own kernels stay scalar either way.
#   --threads builds with pthreads (SharedArrayBuffer: a page then needs COOP/COEP headers), 4 workers.
# Every product is rebuilt only when a header, a source or a flag changed (a stamp of their sha256).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

simd=1 threads=0 out=build-wasm
while [ $# -gt 0 ]; do
  case "$1" in
    --no-simd) simd=0 ;;
    --threads) threads=1 ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    *) echo "build_wasm: unknown option '$1' (usage: scripts/build_wasm.sh [--no-simd] [--threads] [--out DIR])" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v em++ >/dev/null; then
  echo "build_wasm: em++ not found: scripts/install_deps.sh installs Debian's emscripten" >&2
  exit 77
fi
# Debian's emscripten runs its JS tools with the system node, whose module path must include Debian's node packages
# (acorn); a node installed from elsewhere does not look there by itself.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

# The third-party headers, without the rest of /usr/include (glibc's headers must not shadow emscripten's libc).
mkdir -p "$out/include"
for d in /usr/include/eigen3/Eigen /usr/include/eigen3/unsupported /usr/include/stb /usr/include/nlohmann; do
  ln -sfn "$d" "$out/include/$(basename "$d")"
done

common=(-std=c++17 -O3 -DNDEBUG -Iinclude -isystem "$out/include" -fwasm-exceptions -Wall -Wextra
        -Wno-unused-command-line-argument)
link=(-fwasm-exceptions -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=4GB -sTOTAL_STACK=8MB -sWASM_BIGINT=1)
[ "$simd" = 1 ] && common+=(-msimd128)
if [ "$threads" = 1 ]; then
  common+=(-pthread)
  link+=(-pthread -sPTHREAD_POOL_SIZE=4)
fi

emcc_version=$(em++ --version 2>&1)
sources_hash=$( (find include src examples -type f \( -name '*.hpp' -o -name '*.h' -o -name '*.cpp' \) -print0 | sort -z | xargs -0 cat;
                 echo "${common[*]} ${link[*]}"; cat "$0"; echo "${emcc_version%%$'\n'*}") | sha256sum | cut -d' ' -f1)

# build NAME.js from SOURCE with extra link flags, unless its stamp says it is current.
build() {
  local target=$1 source=$2; shift 2
  local stamp="$target.sha256"
  if [ -f "$target" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sources_hash" ]; then
    echo "build_wasm: $target is up to date"
    return
  fi
  mkdir -p "$(dirname "$target")"
  echo "build_wasm: em++ $source -> $target"
  local start=$SECONDS
  em++ "${common[@]}" "$source" "${link[@]}" "$@" -o "$target"
  echo "$sources_hash" > "$stamp"
  echo "build_wasm: $target in $((SECONDS - start)) s ($(du -k "${target%.js}.wasm" | cut -f1) KiB of wasm)"
}

node_flags=(-sENVIRONMENT=node -sNODERAWFS=1 -sEXIT_RUNTIME=1)
build "$out/node/photong-melody.js" examples/photong_melody.cpp "${node_flags[@]}"
build "$out/node/photong.js" examples/photong.cpp "${node_flags[@]}" -DPHOTONG_DEFAULT_WEIGHTS_DIR='"weights"'

exports=$(grep -o 'photong_[a-z_]*(' include/photong/c_api.h | tr -d '(' | sort -u | grep -v '^photong_progress_fn$' |
          sed 's/^/_/' | paste -sd, -)
build "$out/web/photong_web.js" src/c_api.cpp -sENVIRONMENT=web,worker -sMODULARIZE=1 -sEXPORT_NAME=createPhotongModule \
  -sMAXIMUM_MEMORY=2GB -sALLOW_TABLE_GROWTH=1 -sFORCE_FILESYSTEM=1 \
  "-sEXPORTED_FUNCTIONS=[$exports,_malloc,_free]" \
  "-sEXPORTED_RUNTIME_METHODS=[ccall,cwrap,FS,UTF8ToString,addFunction,removeFunction,HEAPU8,HEAPU32,HEAPF32,HEAPF64,getValue,setValue]"
