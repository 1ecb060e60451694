#!/usr/bin/python3
"""Writes the photong-embed --list CSVs for the two labelled image sets in ../shared/data.

  make_bridge_lists.py DATA_DIR OUT_DIR

- OUT_DIR/bass_list.csv: `path,valence,arousal` from bass/BASS_data.csv's file_name, val_mean_us and
  aro_mean_us (mean ratings of the US sample, 9-point scale 1..9, not rescaled); paths relative to
  bass/images (run photong-embed with --image-dir DATA_DIR/bass/images).
- OUT_DIR/twitter_list.csv: `path,sentiment` for the photos present under twitter-sentiment/partition*/
  (1 positive, 0 negative, from groundTruthLabel.txt); paths relative to twitter-sentiment/.
"""
import csv
import os
import sys


def main(data, out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(data, "bass", "BASS_data.csv"), newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    with open(os.path.join(out, "bass_list.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "valence", "arousal"])
        for r in rows:
            w.writerow([r["file_name"].strip(), r["val_mean_us"].strip(), r["aro_mean_us"].strip()])
    tw = os.path.join(data, "twitter-sentiment")
    labels = {}
    with open(os.path.join(tw, "groundTruthLabel.txt")) as f:
        for line in f.read().splitlines()[1:]:
            if line.strip():
                name, sentiment = line.split("\t")[:2]
                labels[name.strip()] = {"positive": 1, "negative": 0}[sentiment.strip()]
    found = sorted((part, name) for part in os.listdir(tw) if part.startswith("partition")
                   for name in os.listdir(os.path.join(tw, part)) if name in labels)
    with open(os.path.join(out, "twitter_list.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "sentiment"])
        for part, name in found:
            w.writerow([part + "/" + name, labels[name]])
    print("%d BASS images, %d Twitter photos (%d positive)" % (len(rows), len(found), sum(labels[n] for _, n in found)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
