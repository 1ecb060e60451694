#!/usr/bin/env bash
# ctest c_api: builds the C example and the C test with the system C compiler in strict C99, against the built
# libphotong_c, and checks both against the `photong` command's own MIDI file for the same picture and seed.
#   tests/c_api/run.sh PHOTONG_CLI LIB_DIR WORK_DIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cli=${1:?usage: run.sh PHOTONG_CLI LIB_DIR WORK_DIR}
lib=$(cd "${2:?usage: run.sh PHOTONG_CLI LIB_DIR WORK_DIR}" && pwd)
work=${3:?usage: run.sh PHOTONG_CLI LIB_DIR WORK_DIR}
cc=${CC:-cc}
if ! command -v "$cc" >/dev/null; then echo "c_api: skipped: no C compiler ($cc)"; exit 77; fi
image=/usr/lib/python3/dist-packages/skimage/data/chelsea.png
mkdir -p "$work"
flags=(-std=c99 -pedantic -Wall -Wextra -Werror -I"$root/include" -L"$lib" -Wl,-rpath,"$lib")
"$cc" "${flags[@]}" "$root/examples/photong_c.c" -lphotong_c -o "$work/photong_c"
"$cc" "${flags[@]}" "$root/tests/c_api/test_c_api.c" -lphotong_c -o "$work/test_c_api"

"$cli" "$image" --weights-dir "$root/weights" --seed 1 -o "$work/cli.mid" > /dev/null 2>&1
"$work/photong_c" "$root/weights" "$image" "$work/example.mid" 1 2> /dev/null
cmp "$work/cli.mid" "$work/example.mid"
echo "c_api: examples/photong_c.c wrote the photong command's bytes ($(stat -c %s "$work/cli.mid") bytes)"
"$work/test_c_api" "$root/weights" "$image" "$work/cli.mid"
