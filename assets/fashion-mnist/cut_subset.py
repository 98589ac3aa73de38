"""Cut the shipped Fashion-MNIST subset from a full copy (stdlib only).

    python assets/fashion-mnist/cut_subset.py /usr/share/datasets/fashion-mnist assets/fashion-mnist

Keeps the FIRST 6,000 training and the FIRST 1,000 test images with their labels, so a
lesson that trains on the first 6,000 images of the full set sees exactly these. The
gzip files are written with mtime 0: the same input always gives the same bytes.
"""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

KEEP = {"train": 6000, "t10k": 1000}
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


def read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def cut_images(data: bytes, n: int) -> bytes:
    magic, count, rows, cols = struct.unpack(">IIII", data[:16])
    if magic != IMAGE_MAGIC or count < n:
        raise SystemExit(f"not an idx image file with at least {n} images")
    return struct.pack(">IIII", magic, n, rows, cols) + data[16 : 16 + n * rows * cols]


def cut_labels(data: bytes, n: int) -> bytes:
    magic, count = struct.unpack(">II", data[:8])
    if magic != LABEL_MAGIC or count < n:
        raise SystemExit(f"not an idx label file with at least {n} labels")
    return struct.pack(">II", magic, n) + data[8 : 8 + n]


def find(source: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (source / name).is_file():
            return source / name
    raise SystemExit(f"{source / stem}(.gz) not found")


def main(source: Path, dest: Path) -> None:
    for split, n in KEEP.items():
        for kind, cut in (("images-idx3", cut_images), ("labels-idx1", cut_labels)):
            stem = f"{split}-{kind}-ubyte"
            out = dest / (stem + ".gz")
            with open(out, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
                gz.write(cut(read(find(source, stem)), n))
            print(f"{out}: {n} items, {out.stat().st_size:,} bytes")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
