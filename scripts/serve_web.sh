#!/usr/bin/env bash
# Serves photong's web page (web/) with its WebAssembly module and weights on http://127.0.0.1:PORT/.
#
#   scripts/serve_web.sh [PORT]        stage the site, then serve it (default port 8000; Ctrl-C stops)
#   scripts/serve_web.sh --stage-only  only stage the site (tests/web/test_page.mjs serves it itself)
#
# The site directory (build-wasm/site/, or $PHOTONG_SITE_DIR) holds symbolic links, not copies:
#   index.html app.js worker.js style.css          from web/
#   photong_web.js photong_web.wasm                from build-wasm/web/ ($PHOTONG_WASM_DIR; scripts/build_wasm.sh)
#   weights/NAME.safetensors, weights/NAME.sha256  from weights/, the files web/worker.js downloads
# To put the page on another web server, copy it with the links followed: cp -rL build-wasm/site DEST. The server
# must send .wasm files as application/wasm (Python's http.server does).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
wasm_dir=${PHOTONG_WASM_DIR:-$root/build-wasm/web}
site=${PHOTONG_SITE_DIR:-$root/build-wasm/site}
# The same list as WEIGHT_STEMS in web/worker.js.
weights=(inception_v3 bridge_embedding bridge_arousal bridge_valence hierdec_mel16_photong image_latent_map)

usage() {
    echo "usage: scripts/serve_web.sh [PORT] | --stage-only" >&2
    exit 2
}

stage_only=0
port=8000
for a in "$@"; do
    case $a in
        --stage-only) stage_only=1 ;;
        -h | --help) usage ;;
        *)
            if [[ $a =~ ^[0-9]+$ ]] && ((a >= 1 && a <= 65535)); then port=$a
            else echo "serve_web.sh: PORT must be a number 1..65535, got '$a'" >&2; usage; fi ;;
    esac
done

# What the page needs, each missing piece with what makes it.
for f in photong_web.js photong_web.wasm; do
    if [ ! -f "$wasm_dir/$f" ]; then
        echo "serve_web.sh: the WebAssembly module is not built ($wasm_dir/$f is missing): run scripts/build_wasm.sh first" >&2
        exit 1
    fi
done
if [ ! -f "$root/weights/inception_v3.safetensors" ]; then
    echo "serve_web.sh: $root/weights/inception_v3.safetensors is missing: run weights/fetch_default_weights.sh first" >&2
    exit 1
fi
for w in "${weights[@]}"; do
    for f in "$root/weights/$w.safetensors" "$root/weights/$w.sha256"; do
        if [ ! -f "$f" ]; then
            echo "serve_web.sh: $f is missing (it is committed: git checkout -- weights/)" >&2
            exit 1
        fi
    done
done

# Stage: old links first (a file dropped from web/ must not linger), never anything that is not a link.
mkdir -p "$site/weights"
find "$site" -maxdepth 2 -type l -delete
for f in index.html app.js worker.js style.css; do ln -s "$root/web/$f" "$site/$f"; done
for f in photong_web.js photong_web.wasm; do ln -s "$(cd "$wasm_dir" && pwd)/$f" "$site/$f"; done
for w in "${weights[@]}"; do
    ln -s "$root/weights/$w.safetensors" "$site/weights/$w.safetensors"
    ln -s "$root/weights/$w.sha256" "$site/weights/$w.sha256"
done
echo "serve_web.sh: staged $site"
[ "$stage_only" = 1 ] && exit 0

# http.server takes the MIME type from Python's mimetypes table; without application/wasm the browser compiles the
# module more slowly (and warns), so say so rather than fail.
if [ "$(/usr/bin/python3 -c 'import mimetypes; print(mimetypes.guess_type("x.wasm")[0])')" != application/wasm ]; then
    echo "serve_web.sh: warning: this Python does not know .wasm is application/wasm; the page still works, more slowly" >&2
fi
echo "serve_web.sh: open http://127.0.0.1:$port/ (Ctrl-C stops)"
exec /usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$site" "$port"
