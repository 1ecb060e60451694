#!/usr/bin/env python3
"""Images for tests/test_bad_inputs.cpp that C++ cannot make with stb_image_write: a CMYK JPEG (Adobe
APP14, inverted CMYK as Photoshop and Pillow write it), a 16-bit RGB PNG, a 16-bit grey PGM and a
two-frame animated GIF, each a flat colour per frame so the decoded value is known; and a progressive
4:2:0 and a baseline 4:2:2 JPEG of a photo with Pillow's own decoding beside each (PNG), for the
coded-data walk of jpeg_entropy.hpp to accept. Pillow writes them, an encoder independent of stb_image.
Usage: gen_bad_images.py OUT_DIR (writes OUT_DIR/bad_inputs/)."""
import os
import sys

import numpy as np
from PIL import Image


def main(out):
    d = os.path.join(out, "bad_inputs")
    os.makedirs(d, exist_ok=True)
    # CMYK (0, 255, 255, 0) is pure red; a JPEG at quality 95 keeps a flat field within a few levels.
    Image.new("CMYK", (16, 8), (0, 255, 255, 0)).save(os.path.join(d, "cmyk.jpg"), quality=95)
    # 16-bit RGB PNG, values 0x1234, 0x80FF, 0xFEDC: an 8-bit decoder keeps the high byte (0x12, 0x80, 0xFE)
    # or rounds (value * 255 / 65535: 18, 128, 254).
    rgb16 = np.empty((8, 16, 3), dtype=">u2")
    rgb16[..., 0], rgb16[..., 1], rgb16[..., 2] = 0x1234, 0x80FF, 0xFEDC
    raw = rgb16.tobytes()
    write_png16(os.path.join(d, "rgb16.png"), 16, 8, raw)
    # 16-bit grey PGM (Pillow writes mode "I" as P5 with maxval 65535, big-endian samples): left half
    # 0x1234, right half 0xABCD; an 8-bit decoder keeps the high byte, replicated to grey RGB.
    grey16 = np.full((8, 16), 0x1234, dtype=np.int32)
    grey16[:, 8:] = 0xABCD
    Image.fromarray(grey16, mode="I").save(os.path.join(d, "grey16.pgm"))
    # Animated GIF: frame 0 blue, frame 1 yellow; photong decodes the first frame only.
    frames = [Image.new("RGB", (16, 8), (0, 0, 255)), Image.new("RGB", (16, 8), (255, 255, 0))]
    frames[0].save(os.path.join(d, "animated.gif"), save_all=True, append_images=frames[1:], duration=100, loop=0)
    # Photo JPEGs: Pillow (libjpeg) encodes, and decodes for the reference pixels.
    from skimage import data
    photo = Image.fromarray(data.astronaut()[40:136, 160:288])  # 128 x 96
    for name, options in (("progressive420", dict(progressive=True, optimize=True, subsampling=2, quality=80)),
                          ("baseline422", dict(subsampling=1, quality=85))):
        path = os.path.join(d, name + ".jpg")
        photo.save(path, **options)
        Image.open(path).convert("RGB").save(os.path.join(d, name + "_pillow.png"))
    print("gen_bad_images: 6 images and 2 decodings in", d)


def write_png16(path, w, h, raw):
    """A 16-bit truecolour PNG by the specification (Pillow cannot save 16-bit RGB)."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    stride = w * 6
    rows = b"".join(b"\0" + raw[y * stride:(y + 1) * stride] for y in range(h))  # filter type 0 per row
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


if __name__ == "__main__":
    main(sys.argv[1])
