#!/usr/bin/python3
"""Every weights/NAME.sha256 matches weights/NAME.safetensors (hashlib, independent of photong's SHA-256).

  check_weights_checksums.py WEIGHTS_DIR

photong checks these files before loading the weights (core/sha256.hpp), so a weights file committed without its
checksum would make photong refuse it. A file that is absent (inception_v3 before weights/fetch_default_weights.sh)
is skipped. Exit 0 when all present files match.
"""
import hashlib
import os
import sys


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    d = argv[1]
    bad, checked = [], 0
    for sum_name in sorted(n for n in os.listdir(d) if n.endswith(".sha256")):
        want, name = open(os.path.join(d, sum_name)).read().split()[:2]
        path = os.path.join(d, name)
        if not os.path.exists(path):
            print("skipped %s: %s is absent" % (sum_name, name))
            continue
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        checked += 1
        if h.hexdigest() != want:
            bad.append(name)
            print("FAIL: %s has SHA-256 %s, %s says %s: after changing the weights, run `cd weights && sha256sum %s > %s`"
                  % (name, h.hexdigest(), sum_name, want, name, sum_name))
        else:
            print("ok %s" % name)
    if checked == 0:
        print("FAIL: no checksum file found in %s" % d)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
