#!/usr/bin/python3
"""The command-line tools never destroy a user's files (issue 22's data-loss list), each case as the user met it.

  check_cli_outputs.py BIN_DIR MAKE_RANDOM_PIPELINE_WEIGHTS INCEPTION_V3.safetensors MELODY.safetensors WORK_DIR

BIN_DIR holds photong, photong-melody and photong-embed. photong runs on seeded random bridges and decoder
(make_random_pipeline_weights) with the real InceptionV3; photong-melody on MELODY (a small random decoder).
1. an output that is an input or another output (same inode, other spellings, links) is refused with exit 1 before any
   work, and the input is unchanged: photong IMG -o IMG, --png X.mid -o X.mid, --wav IMG, photong-melody --weights M
   -o M, photong-embed --list L.csv -o L.csv and DIR -o DIR/image;
2. -o a device (a copy of /dev/null made with mknod when root) and -o a link to /proc/self/fd/1 (as /dev/stdout is)
   write through: the device and the link stay as they were, the MIDI arrives on stdout;
   a symbolic link to a file stays a link and its target gets the MIDI;
3. two runs writing one output at once both finish and the file is whole (one of the two);
4. --png into a missing folder, or a fluidsynth that fails or is killed: exit 1 and no MIDI written, checked before
   the work where it can be (the folder);
5. SIGTERM / SIGINT during a run: no temporary left in the output's folder, and the process dies of the signal;
6. a FIFO as the image fails at once instead of blocking; photong-embed DIR --recursive with a link back up the tree
   lists each image once;
7. a 249- and a 255-byte output name work.
Exit 0 when all hold.
"""
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_checks import check, finish, random_weights_dir, run  # noqa: E402

CHELSEA = "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"


def read(path):
    return open(path, "rb").read() if os.path.exists(path) else None


def entries(d):
    return sorted(os.listdir(d))


def main(argv):
    if len(argv) != 6:
        print(__doc__)
        return 2
    bindir, make_weights, inception, melody, work = (os.path.abspath(a) for a in argv[1:])
    if not os.path.exists(CHELSEA) or not os.path.exists(inception):
        print("skipped: needs %s and %s" % (CHELSEA, inception))
        return 0
    photong, photong_melody, photong_embed = (os.path.join(bindir, n) for n in ("photong", "photong-melody", "photong-embed"))
    wdir = random_weights_dir(make_weights, inception, work)
    os.chdir(work)
    shutil.copy(CHELSEA, "img.png")
    original = open("img.png", "rb").read()
    P = lambda *a, **k: run(photong, *a, "--weights-dir", wdir, **k)  # noqa: E731

    # 1. outputs that are inputs or each other
    os.symlink("img.png", "soft.png")
    os.link("img.png", "hard.png")
    for args, what in ((["img.png", "-o", "img.png"], "-o IMAGE"), (["img.png", "-o", "./soft.png"], "-o a link to IMAGE"),
                       (["img.png", "-o", "hard.png"], "-o a hard link to IMAGE"), (["img.png", "-o", "x.mid", "--png", "img.png"], "--png IMAGE"),
                       (["img.png", "-o", "x.mid", "--png", "x.mid"], "--png the MIDI"), (["img.png", "-o", "x.mid", "--wav", "img.png"], "--wav IMAGE"),
                       (["img.png", "-o", os.path.join(wdir, "bridge_embedding.safetensors")], "-o a weights file")):
        r = P(*args)
        check(r.returncode == 1 and "is the same file as" in r.stderr and "loading weights" not in r.stderr,
              "%s: exit %d, stderr %r" % (what, r.returncode, r.stderr[-300:]))
    check(open("img.png", "rb").read() == original, "the image changed")
    shutil.copy(CHELSEA, "img.png")  # so that each later case stands alone, even for a photong that failed this one
    check(not os.path.exists("x.mid"), "x.mid written by a refused run")
    shutil.copy(melody, "m.safetensors")
    m_before = open("m.safetensors", "rb").read()
    r = run(photong_melody, "--weights", "m.safetensors", "--seed", "1", "-o", "m.safetensors")
    check(r.returncode == 1 and "same file" in r.stderr and open("m.safetensors", "rb").read() == m_before,
          "photong-melody -o WEIGHTS: exit %d %r" % (r.returncode, r.stderr[-200:]))
    os.makedirs("pics")
    shutil.copy(CHELSEA, "pics/a.png")
    with open("pics/list.csv", "w") as f:
        f.write("path,label\na.png,1\n")
    list_before = open("pics/list.csv", "rb").read()
    r = run(photong_embed, "--weights", inception, "--list", "pics/list.csv", "--pooled", "-o", "pics/list.csv")
    check(r.returncode == 1 and "same file" in r.stderr and open("pics/list.csv", "rb").read() == list_before,
          "photong-embed -o LIST: exit %d %r" % (r.returncode, r.stderr[-200:]))
    r = run(photong_embed, "--weights", inception, "pics", "--pooled", "-o", "pics/a.png")
    check(r.returncode == 1 and "same file" in r.stderr and open("pics/a.png", "rb").read() == original,
          "photong-embed DIR -o DIR/image: exit %d %r" % (r.returncode, r.stderr[-200:]))

    # 2. devices are written through; a link to a file stays a link
    # Our own copies of /dev/null and /dev/stdout, so that a photong with this bug, run as root, replaces them and not
    # the machine's (as it did once while this test was written).
    null_dev = "/dev/null"
    if os.geteuid() == 0:
        try:
            os.mknod("null_dev", stat.S_IFCHR | 0o666, os.makedev(1, 3))
            null_dev = os.path.abspath("null_dev")
        except OSError:
            pass
    os.symlink("/proc/self/fd/1", "stdout_link")
    for dev, is_link in ((null_dev, False), ("stdout_link", True)):
        before = os.lstat(dev)
        r = subprocess.run([photong, "img.png", "-o", dev, "--weights-dir", wdir], capture_output=True, timeout=300,
                           env=dict(os.environ, PHOTONG_NUM_THREADS="1"))  # bytes: the MIDI file may arrive on stdout
        after = os.lstat(dev)
        same = after.st_ino == before.st_ino and after.st_mode == before.st_mode
        check(r.returncode == 0 and same and (not is_link or r.stdout.startswith(b"MThd")),
              "-o %s: exit %d, mode %o -> %o, stderr %r" % (dev, r.returncode, before.st_mode, after.st_mode, r.stderr[-200:]))
    open("target.mid", "w").write("old")
    os.symlink("target.mid", "link.mid")
    r = P("img.png", "-o", "link.mid")
    check(r.returncode == 0 and os.path.islink("link.mid") and (read("target.mid") or b"")[:4] == b"MThd",
          "-o LINK: exit %d, link kept %s" % (r.returncode, os.path.islink("link.mid")))

    # 3. two runs, one output, at once
    os.makedirs("race")
    env = dict(os.environ, PHOTONG_NUM_THREADS="1")
    procs = [subprocess.Popen([photong, "img.png", "-o", "race/out.mid", "--seed", str(s), "--weights-dir", wdir],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env) for s in (1, 2)]
    codes = [p.wait(timeout=300) for p in procs]
    singles = []
    for s in (1, 2):
        r = P("img.png", "-o", "race/s%d.mid" % s, "--seed", str(s))
        singles.append(read("race/s%d.mid" % s))
    got = read("race/out.mid")
    check(codes == [0, 0] and got is not None and got in singles and entries("race") == ["out.mid", "s1.mid", "s2.mid"],
          "racing runs: exits %s, whole file %s, folder %s" % (codes, got in singles, entries("race")))

    # 4. a failing run writes none of its outputs
    os.makedirs("fail")
    r = P("img.png", "-o", "fail/x.mid", "--png", "fail/no_folder/x.png")
    check(r.returncode == 1 and "folder does not exist" in r.stderr and "loading weights" not in r.stderr and entries("fail") == [],
          "--png into a missing folder: exit %d, folder %s, %r" % (r.returncode, entries("fail"), r.stderr[-200:]))
    fake = os.path.join(work, "fakebin")
    os.makedirs(fake)
    sf2 = os.path.join(work, "fake.sf2")
    open(sf2, "w").write("x")
    for body, expect in (("exit 3", "exit status 3"), ("kill -9 $$", "killed by signal 9")):
        with open(os.path.join(fake, "fluidsynth"), "w") as f:
            f.write("#!/bin/sh\n%s\n" % body)
        os.chmod(os.path.join(fake, "fluidsynth"), 0o755)
        env = dict(os.environ, PATH=fake + ":" + os.environ.get("PATH", ""), PHOTONG_SOUNDFONT=sf2, PHOTONG_NUM_THREADS="1")
        r = subprocess.run([photong, "img.png", "-o", "fail/y.mid", "--wav", "fail/y.wav", "--weights-dir", wdir],
                           capture_output=True, text=True, env=env, timeout=300)
        check(r.returncode == 1 and expect in r.stderr and entries("fail") == [],
              "fluidsynth '%s': exit %d, folder %s, %r" % (body, r.returncode, entries("fail"), r.stderr[-200:]))

    # 5. signals during a run leave no temporary
    for sig in (signal.SIGTERM, signal.SIGINT):
        os.makedirs("sig%d" % sig)
        p = subprocess.Popen([photong, "img.png", "-o", "sig%d/x.mid" % sig, "--png", "sig%d/x.png" % sig, "--weights-dir", wdir],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, PHOTONG_NUM_THREADS="1"))
        deadline = time.time() + 60
        while time.time() < deadline and len(entries("sig%d" % sig)) < 2:  # both temporaries exist: the run is under way
            time.sleep(0.01)
        seen = entries("sig%d" % sig)
        p.send_signal(sig)
        code = p.wait(timeout=60)
        check(len(seen) == 2 and code == -sig and entries("sig%d" % sig) == [],
              "signal %d: temporaries seen %s, exit %d, left %s" % (sig, seen, code, entries("sig%d" % sig)))

    # 6. a FIFO as the image; a link loop under photong-embed --recursive
    os.mkfifo("fifo.png")
    try:
        r = P("fifo.png", "-o", "f.mid", timeout=60)
        check(r.returncode == 1 and "FIFO" in r.stderr and not os.path.exists("f.mid"), "FIFO image: exit %d %r" % (r.returncode, r.stderr[-200:]))
    except subprocess.TimeoutExpired:
        check(False, "FIFO image: photong blocked")
    os.makedirs("tree/sub")
    shutil.copy(CHELSEA, "tree/a.png")
    shutil.copy(CHELSEA, "tree/sub/b.png")
    os.symlink("..", "tree/sub/up")
    r = run(photong_embed, "--weights", inception, "tree", "--recursive", "--pooled", "-o", "tree.safetensors", timeout=120)
    import json
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "weights"))
    import safetensors_io
    paths = json.loads(safetensors_io.load("tree.safetensors")[1]["paths"]) if r.returncode == 0 else None
    check(paths == ["a.png", "sub/b.png"], "embed --recursive with a link loop: exit %d, paths %s" % (r.returncode, paths))

    # 7. long output names
    for n in (249, 255):
        name = "l" * (n - 4) + ".mid"
        r = P("img.png", "-o", name)
        check(r.returncode == 0 and os.path.exists(name), "%d-byte output name: exit %d %r" % (n, r.returncode, r.stderr[-200:]))
    return finish("CLI output")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
