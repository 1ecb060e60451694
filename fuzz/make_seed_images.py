#!/usr/bin/env python3
"""Seed corpus for fuzz_image: small crops of skimage's photos in every container stb_image reads,
and the variants the bad-input catalogue names (16-bit PNG, grey, palette, alpha, CMYK and
progressive JPEG, animated GIF, BMP, TGA, PNM). Small files keep the fuzzer fast; the decoder
paths are the same at any size. Usage: make_seed_images.py OUT_DIR (Debian's python3-pil and
python3-skimage)."""
import io
import os
import sys

import numpy as np
from PIL import Image
from skimage import data


def main(out):
    os.makedirs(out, exist_ok=True)
    photos = {"chelsea": data.chelsea(), "astronaut": data.astronaut(), "coffee": data.coffee()}
    n = 0

    def save(img, name, fmt, **kw):
        nonlocal n
        buf = io.BytesIO()
        img.save(buf, format=fmt, **kw)
        with open(os.path.join(out, name), "wb") as f:
            f.write(buf.getvalue())
        n += 1

    for key, arr in photos.items():
        crop = Image.fromarray(arr[100:132, 100:148])  # 48x32 RGB
        save(crop, f"{key}.png", "PNG")
        save(crop, f"{key}.jpg", "JPEG", quality=85)
        save(crop, f"{key}_progressive.jpg", "JPEG", quality=70, progressive=True)
        save(crop.convert("CMYK"), f"{key}_cmyk.jpg", "JPEG")
        save(crop.convert("L"), f"{key}_grey.jpg", "JPEG")
        save(crop.convert("L"), f"{key}_grey.png", "PNG")
        save(crop.convert("RGBA"), f"{key}_alpha.png", "PNG")
        save(crop.convert("P"), f"{key}_palette.png", "PNG")
        save(Image.fromarray((np.asarray(crop.convert("L")).astype(np.uint16) * 257)), f"{key}_16bit.png", "PNG")
        save(crop, f"{key}.bmp", "BMP")
        save(crop, f"{key}.tga", "TGA")
        save(crop, f"{key}.ppm", "PPM")
        save(crop.convert("P"), f"{key}.gif", "GIF")
    frames = [Image.fromarray(photos["chelsea"][100 + 4 * k:124 + 4 * k, 100:124]).convert("P") for k in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with open(os.path.join(out, "animated.gif"), "wb") as f:
        f.write(buf.getvalue())
    print(f"make_seed_images: {n + 1} images in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
