#!/usr/bin/python3
"""The command-line tools say what went wrong (issue 22's message list), each case as the user met it.

  check_cli_messages.py BIN_DIR MAKE_RANDOM_PIPELINE_WEIGHTS INCEPTION_V3.safetensors MELODY.safetensors WORK_DIR

- a weights file whose bytes differ from the NAME.sha256 beside it: exit 1 naming the file and the checksum file,
  before any work; --no-verify-weights turns the check off; a JPEG given as weights says "not a safetensors file";
- --weights-dir '' looks in the current folder (./inception_v3.safetensors), not for ".inception_v3.safetensors";
- a directory as the image or as -o, a WebP image: messages that name the path and the reason;
- --temperature 1e39 / 1e9: exit 2 with the real range, in photong, photong-melody and photong-reconstruct's parser;
- photong-embed without -o, with --dtype f64, with a folder and --list, with --image-dir alone; photong-features with an
  unknown flag or two images: exit 2 saying what was wrong; photong-embed CSV labels inf, 1e999, 0x10: exit 1 naming
  the row, column and value;
- PHOTONG_NUM_THREADS=abc, 0, -1: one line on stderr saying it was not used, and the run still works.
Exit 0 when all hold.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import check, finish, random_weights_dir, run  # noqa: E402

CHELSEA = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"
COFFEE = "/usr/lib/python3/dist-packages/skimage/data/coffee.png"


def main(argv):
    if len(argv) != 6:
        print(__doc__)
        return 2
    bindir, make_weights, inception, melody, work = (os.path.abspath(a) for a in argv[1:])
    if not os.path.exists(CHELSEA) or not os.path.exists(inception):
        print("skipped: needs %s and %s" % (CHELSEA, inception))
        return 0
    photong, photong_melody, photong_embed, photong_features = (
        os.path.join(bindir, n) for n in ("photong", "photong-melody", "photong-embed", "photong-features"))
    wdir = random_weights_dir(make_weights, inception, work)
    os.chdir(work)

    # A checksum that does not match: refused by name before any work; --no-verify-weights runs.
    emb = os.path.join(wdir, "bridge_embedding.safetensors")
    with open(os.path.join(wdir, "bridge_embedding.sha256"), "w") as f:
        f.write("0" * 64 + "  bridge_embedding.safetensors\n")
    r = run(photong, CHELSEA, "-o", "a.mid", "--weights-dir", wdir)
    check(r.returncode == 1 and "damaged or not the shipped one" in r.stderr and emb in r.stderr and "bridge_embedding.sha256" in r.stderr
          and "InceptionV3 features" not in r.stderr and not os.path.exists("a.mid"), "mismatching checksum: exit %d %r" % (r.returncode, r.stderr[-300:]))
    r = run(photong, CHELSEA, "-o", "a.mid", "--weights-dir", wdir, "--no-verify-weights")
    check(r.returncode == 0, "--no-verify-weights: exit %d %r" % (r.returncode, r.stderr[-300:]))
    os.remove(os.path.join(wdir, "bridge_embedding.sha256"))
    jpeg_weights = os.path.join(work, "w.safetensors")
    shutil.copy("/usr/lib/python3/dist-packages/skimage/data/rocket.jpg", jpeg_weights)
    r = run(photong_features, "--weights", jpeg_weights, CHELSEA)
    check(r.returncode == 1 and "not a safetensors file (it looks like a JPEG image)" in r.stderr and jpeg_weights in r.stderr,
          "JPEG as weights: exit %d %r" % (r.returncode, r.stderr[-300:]))

    # --weights-dir '': the current folder.
    r = run(photong, CHELSEA, "-o", "b.mid", "--weights-dir", "")
    check(r.returncode == 1 and "./inception_v3.safetensors" in r.stderr and ".inception_v3" not in r.stderr.replace("./inception_v3", ""),
          "--weights-dir '': exit %d %r" % (r.returncode, r.stderr[-300:]))

    # A directory as the image or as the output; a WebP image.
    r = run(photong, work, "-o", "c.mid", "--weights-dir", wdir)
    check(r.returncode == 1 and "is a directory" in r.stderr and work in r.stderr and "too large" not in r.stderr,
          "directory as image: %r" % r.stderr[-300:])
    r = run(photong, CHELSEA, "-o", work, "--weights-dir", wdir)
    check(r.returncode == 1 and "the output is a directory" in r.stderr, "-o DIR: %r" % r.stderr[-300:])
    with open("x.webp", "wb") as f:
        f.write(b"RIFF\x1e\x00\x00\x00WEBPVP8 " + bytes(22))
    r = run(photong, "x.webp", "-o", "d.mid", "--weights-dir", wdir)
    check(r.returncode == 1 and "WebP images are not supported" in r.stderr and "PNG" in r.stderr, "WebP: %r" % r.stderr[-300:])

    # Temperatures out of range: usage errors with the real range.
    for prog, args in ((photong, [CHELSEA, "--weights-dir", wdir]), (photong_melody, ["--weights", melody, "--seed", "1", "-o", "e.mid"])):
        for t in ("1e39", "1e9", "-1", "inf"):
            r = run(prog, *args, "--temperature", t)
            check(r.returncode == 2 and "0..1000000" in r.stderr, "%s --temperature %s: exit %d %r" % (os.path.basename(prog), t, r.returncode, r.stderr[-200:]))

    # photong-embed / photong-features usage errors say what was wrong.
    for args, says in (([COFFEE], "-o OUT.safetensors is required"), (["--dtype", "f64", work, "-o", "f.st"], "--dtype must be f32 or f16"),
                       ([work, "--list", "l.csv", "-o", "f.st"], "not both"), (["--image-dir", work, "-o", "f.st"], "give a folder of images or --list"),
                       (["--image-dir", work, work, "-o", "f.st"], "--image-dir only goes with --list")):
        r = run(photong_embed, *args)
        check(r.returncode == 2 and says in r.stderr, "photong-embed %s: exit %d %r" % (" ".join(args), r.returncode, r.stderr[:200]))
    for args, says in ((["--bogus", COFFEE], "unknown option '--bogus'"), ([COFFEE, CHELSEA], "one image only"),
                       (["--threads", "0", COFFEE], "--threads must be a whole number 1..1023, got '0'"),
                       (["--threads", "x", COFFEE], "--threads must be a whole number 1..1023, got 'x'"), ([COFFEE, "--threads"], "--threads needs a number")):
        r = run(photong_features, *args)
        check(r.returncode == 2 and says in r.stderr, "photong-features %s: exit %d %r" % (" ".join(args), r.returncode, r.stderr[:200]))

    # photong-features --threads N: the pool it says it used, and the same features as the default pool (results do not
    # depend on the thread count).
    feature_lines = {}
    for n in ("1", "3"):
        r = run(photong_features, "--threads", n, COFFEE)
        check(r.returncode == 0 and "(%s threads)" % n in r.stdout, "photong-features --threads %s: exit %d %r" % (n, r.returncode, r.stdout[-300:]))
        feature_lines[n] = [l for l in r.stdout.splitlines() if l.startswith("features")]
    check(feature_lines["1"] == feature_lines["3"] and feature_lines["1"], "photong-features --threads 1 and 3 differ: %r" % feature_lines)

    # CSV labels that are not finite decimals.
    os.makedirs("pics")
    shutil.copy(COFFEE, "pics/a.png")
    for value in ("inf", "1e999", "0x10", "nan"):
        with open("pics/l.csv", "w") as f:
            f.write("path,score\na.png,%s\n" % value)
        r = run(photong_embed, "--weights", inception, "--list", "pics/l.csv", "--pooled", "-o", "g.st")
        check(r.returncode == 1 and "row 2 column 'score'" in r.stderr and "'%s'" % value in r.stderr and not os.path.exists("g.st"),
              "label %s: exit %d %r" % (value, r.returncode, r.stderr[-300:]))

    # PHOTONG_NUM_THREADS that cannot be used: said, not ignored.
    for value in ("abc", "0", "-1"):
        r = run(photong_features, COFFEE, threads=value)
        check(r.returncode == 0 and "PHOTONG_NUM_THREADS='%s' is not a whole number" % value in r.stderr,
              "PHOTONG_NUM_THREADS=%s: exit %d %r" % (value, r.returncode, r.stderr[-200:]))
    return finish("CLI message")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
