"""Pizza, steak and sushi pictures for lesson 04: real photos when we can, drawn ones offline.

``food_images()`` returns the folder to use and says which data it is:

1. real photos already downloaded into ``data_dir()/pizza_steak_sushi`` (or ``./data/...``);
2. else the download of those photos (a small zip of train/test/class folders), unless
   ``TUTOR_OFFLINE=1``;
3. else, offline, pictures drawn by the code below into ``data_dir()/pizza_steak_sushi_drawn``.
   The stand-in never goes into the real data's folder.

Both layouts are the same: ``train/<class>/*.jpg`` and ``test/<class>/*.jpg``.
The drawing code is short on purpose, so a learner can read how the pictures are made.
"""

from __future__ import annotations

import http.client
import json
import math
import random
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageEnhance, ImageFilter

from tutor.data.fashion_mnist import offline_requested

CLASSES = ("pizza", "steak", "sushi")
URL = "https://github.com/mrdbourke/pytorch-deep-learning/raw/main/data/pizza_steak_sushi.zip"
REAL_FOLDER = "pizza_steak_sushi"
DRAWN_FOLDER = "pizza_steak_sushi_drawn"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
DRAWING_VERSION = 1  # bump when the pictures change, so old sets are redrawn


@dataclass(frozen=True)
class FoodImages:
    """Where the images are, and which data they are."""

    path: Path
    source: str  # "found" (real, already here), "downloaded" (real) or "drawn" (stand-in)
    note: str

    @property
    def train_dir(self) -> Path:
        return self.path / "train"

    @property
    def test_dir(self) -> Path:
        return self.path / "test"

    @property
    def is_real(self) -> bool:
        return self.source != "drawn"

    def __str__(self) -> str:
        return self.note


def food_images(
    root: str | Path | None = None,
    *,
    download: bool | None = None,
    timeout: float = 10.0,
    train_per_class: int = 150,
    test_per_class: int = 50,
    seed: int = 42,
) -> FoodImages:
    """The pizza/steak/sushi images: found, downloaded, or drawn (see the module docstring).

    ``root`` defaults to ``TUTOR_HOME/data`` (and then ``./data`` is searched too, the
    classic place). ``download`` defaults to True unless ``TUTOR_OFFLINE=1``.
    """
    if root is None:
        root = _default_root()
        candidates = [root / REAL_FOLDER, Path("data").resolve() / REAL_FOLDER]
    else:
        root = Path(root)
        candidates = [root / REAL_FOLDER]
    for real in candidates:
        if has_image_folders(real):
            return FoodImages(real, "found", f"Using the real pizza/steak/sushi photos in {real}.")
    if download is None:
        download = not offline_requested()
    reason = "download switched off"
    if (root / REAL_FOLDER).exists():  # not ours to repair or overwrite
        download, reason = False, f"{root / REAL_FOLDER} is incomplete: remove it to download again"
    if download:
        try:
            real = fetch(root, timeout=timeout)
            return FoodImages(real, "downloaded", f"Downloaded the real pizza/steak/sushi photos to {real}.")
        except (OSError, ValueError, zipfile.BadZipFile, http.client.HTTPException) as error:
            reason = f"download failed: {_short(error)}"
    drawn = generate(root / DRAWN_FOLDER, train_per_class=train_per_class,
                     test_per_class=test_per_class, seed=seed)
    return FoodImages(drawn, "drawn", f"No real photos ({reason}). Using DRAWN stand-in pictures "
                                      f"(made by tutor.data.food, not photos) in {drawn}.")


def _default_root() -> Path:
    from tutor import config

    return config.data_dir()


def _short(error: Exception) -> str:
    text = str(getattr(error, "reason", None) or error) or type(error).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def has_image_folders(folder: Path) -> bool:
    """True when ``folder`` has train/ and test/, each with class folders holding images."""
    for split in ("train", "test"):
        classes = [d for d in (folder / split).glob("*") if d.is_dir()]
        if not classes or not all(_images_in(d) for d in classes):
            return False
    return True


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


# --- the real photos -----------------------------------------------------------------

def fetch(root: Path, *, url: str = URL, timeout: float = 10.0) -> Path:
    """Download and unpack the real photos into ``root/pizza_steak_sushi``.

    Everything happens in a temporary folder first: a failed download leaves nothing.
    """
    target = Path(root) / REAL_FOLDER
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as tmp:
        archive_path = Path(tmp) / "images.zip"
        with urllib.request.urlopen(url, timeout=timeout) as response, open(archive_path, "wb") as out:
            shutil.copyfileobj(response, out)
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(archive_path) as archive:
            for name in archive.namelist():  # refuse paths that escape the folder
                if name.startswith("/") or ".." in Path(name).parts:
                    raise ValueError(f"unsafe path in the zip: {name}")
            archive.extractall(unpacked)
        top = next((d for d in [unpacked, *unpacked.iterdir()] if has_image_folders(d)), None)
        if top is None:
            raise ValueError("the zip has no train/ and test/ image folders")
        top.rename(target)
    return target


# --- the drawn stand-in --------------------------------------------------------------

def generate(folder: Path, *, train_per_class: int = 150, test_per_class: int = 50,
             seed: int = 42, size: int = 128) -> Path:
    """Draw the stand-in set into ``folder`` (reused when it is already there, same settings)."""
    folder = Path(folder)
    settings = {"version": DRAWING_VERSION, "train_per_class": train_per_class,
                "test_per_class": test_per_class, "seed": seed, "size": size}
    marker = folder / "settings.json"
    if marker.is_file() and _read_json(marker) == settings:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-"))
    try:
        for split, count in (("train", train_per_class), ("test", test_per_class)):
            for kind in CLASSES:
                (tmp / split / kind).mkdir(parents=True)
                for i in range(count):
                    picture = draw(kind, seed=f"{seed}-{split}-{kind}-{i}", size=size)
                    picture.save(tmp / split / kind / f"{kind}_{i:04d}.jpg", quality=90)
        (tmp / "settings.json").write_text(json.dumps(settings))
        (tmp / "README.txt").write_text(
            "Drawn by tutor/data/food.py as an offline stand-in for photos of pizza, steak "
            "and sushi. These are not photographs.\n")
        if marker.is_file() and _read_json(marker) == settings:
            return folder  # another tutor finished the same set meanwhile: keep theirs
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def draw(kind: str, seed: int | str = 0, size: int = 128) -> Image.Image:
    """One picture of ``kind`` ("pizza", "steak" or "sushi"); the same seed draws the same picture."""
    if kind not in CLASSES:
        raise ValueError(f"unknown kind {kind!r}: choose from {', '.join(CLASSES)}")
    rng = random.Random(seed)
    picture = _table(rng, size)  # wood, stone or cloth, sometimes a plate
    layer = Image.new("RGBA", (size, size))  # the food, on a transparent layer
    drawer = {"pizza": draw_pizza, "steak": draw_steak, "sushi": draw_sushi}[kind]
    drawer(ImageDraw.Draw(layer), rng, size)
    layer = layer.rotate(rng.uniform(0, 360), resample=Image.BILINEAR)  # seen from any side
    shift = int(size * 0.12)  # not always in the middle
    picture.paste(layer, (rng.randint(-shift, shift), rng.randint(-shift, shift)), layer)
    return _camera(picture, rng)  # light, focus, sensor noise


def _vary(rng: random.Random, rgb: tuple[int, int, int], amount: int = 20) -> tuple[int, int, int]:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in rgb)


def _table(rng, size):
    """A background: wood, stone or cloth, sometimes with a plate."""
    base = rng.choice([(185, 160, 125), (215, 215, 210), (110, 115, 120), (150, 165, 175)])
    picture = Image.new("RGB", (size, size), _vary(rng, base, 25))
    pen = ImageDraw.Draw(picture)
    for _ in range(rng.randint(0, 6)):  # grain or stripes
        y = rng.randint(0, size)
        pen.line([(0, y), (size, y + rng.randint(-20, 20))], fill=_vary(rng, base, 40), width=rng.randint(1, 4))
    if rng.random() < 0.6:
        r = size * rng.uniform(0.38, 0.5)
        c = size / 2 + rng.uniform(-8, 8)
        pen.ellipse([c - r, c - r, c + r, c + r], fill=_vary(rng, (235, 235, 230), 15),
                    outline=_vary(rng, (200, 200, 195), 15), width=3)
    return picture


def _circle(pen, cx, cy, r, fill):
    pen.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)


def draw_pizza(pen, rng, size):
    """Round: a golden crust, red sauce, cheese and toppings."""
    c, r = size / 2, size * rng.uniform(0.3, 0.42)
    _circle(pen, c, c, r, _vary(rng, (205, 145, 65)))
    _circle(pen, c, c, r * 0.85, _vary(rng, (195, 45, 30), 25))
    for _ in range(rng.randint(5, 12)):  # melted cheese
        a, d = rng.uniform(0, 6.28), rng.uniform(0, r * 0.6)
        _circle(pen, c + d * math.cos(a), c + d * math.sin(a), r * rng.uniform(0.12, 0.3), _vary(rng, (240, 205, 100)))
    topping = rng.choice([(150, 30, 35), (30, 30, 30), (60, 140, 50)])  # pepperoni, olives, peppers
    for _ in range(rng.randint(3, 10)):
        a, d = rng.uniform(0, 6.28), rng.uniform(0, r * 0.7)
        _circle(pen, c + d * math.cos(a), c + d * math.sin(a), r * rng.uniform(0.07, 0.14), _vary(rng, topping))
    for _ in range(rng.choice([0, 0, 2, 3, 4])):  # cuts between slices
        a = rng.uniform(0, 6.28)
        pen.line([(c, c), (c + r * math.cos(a), c + r * math.sin(a))], fill=_vary(rng, (120, 60, 30)), width=2)
    if rng.random() < 0.3:  # a slice already eaten
        start = rng.uniform(0, 360)
        pen.pieslice([c - r - 1, c - r - 1, c + r + 1, c + r + 1], start, start + 45, fill=(0, 0, 0, 0))


def draw_steak(pen, rng, size):
    """A brown irregular blob with a fat edge and dark grill marks."""
    c, r = size / 2, size * rng.uniform(0.26, 0.34)
    stretch = rng.uniform(1.2, 1.7)
    corners = []
    for k in range(11):
        a = k * 6.28 / 11 + rng.uniform(-0.2, 0.2)
        d = r * rng.uniform(0.75, 1.05)
        corners.append((c + d * stretch * math.cos(a), c + d * math.sin(a)))
    pen.polygon(corners, fill=_vary(rng, (225, 205, 170)))  # fat
    inner = [(c + (x - c) * 0.88, c + (y - c) * 0.88) for x, y in corners]
    pen.polygon(inner, fill=_vary(rng, (120, 60, 35), 25))
    # grill marks: parallel lines, kept inside the meat with a mask
    meat = Image.new("L", (size, size))
    ImageDraw.Draw(meat).polygon(inner, fill=255)
    lines = Image.new("L", (size, size))
    line_pen, slope, gap = ImageDraw.Draw(lines), rng.uniform(-0.8, 0.8), rng.uniform(0.25, 0.4) * r
    for k in range(-6, 7):
        y0 = c + k * gap
        line_pen.line([(0, y0 - slope * c), (size, y0 + slope * c)], fill=255, width=rng.randint(2, 4))
    marks = ImageChops.multiply(meat, lines)
    pen.bitmap((0, 0), marks, fill=_vary(rng, (45, 25, 15), 10))
    if rng.random() < 0.4:  # a sprig of herbs
        x, y = corners[rng.randrange(len(corners))]
        for _ in range(4):
            _circle(pen, x + rng.uniform(-6, 6), y + rng.uniform(-6, 6), 3, _vary(rng, (50, 130, 40)))


def draw_sushi(pen, rng, size):
    """One to three pieces: white rice with fish on top (nigiri) or rolls in dark nori (maki)."""
    pieces = rng.randint(1, 3)
    unit = size * rng.uniform(0.13, 0.17)
    fish = rng.choice([(250, 130, 80), (205, 45, 65), (245, 205, 90)])  # salmon, tuna, egg
    for p in range(pieces):
        cx = size / 2 + (p - (pieces - 1) / 2) * unit * 2.2
        cy = size / 2 + rng.uniform(-unit, unit) * 0.5
        if rng.random() < 0.7:  # nigiri, seen from above
            w, h = unit * rng.uniform(0.9, 1.1), unit * rng.uniform(1.6, 2.0)
            pen.rounded_rectangle([cx - w, cy - h, cx + w, cy + h], radius=unit * 0.6, fill=_vary(rng, (245, 243, 232), 8))
            pen.rounded_rectangle([cx - w * 0.85, cy - h * 1.05, cx + w * 0.85, cy + h * 0.8], radius=unit * 0.5,
                                  fill=_vary(rng, fish))
            for k in range(3):  # the white lines of the fish
                y = cy - h * 0.6 + k * h * 0.5
                pen.line([(cx - w * 0.7, y), (cx + w * 0.7, y + unit * 0.3)], fill=_vary(rng, (250, 225, 205), 10), width=1)
            if rng.random() < 0.4:  # a band of nori
                pen.rectangle([cx - w * 1.05, cy - unit * 0.25, cx + w * 1.05, cy + unit * 0.25], fill=_vary(rng, (25, 35, 25), 10))
        else:  # maki, a roll cut across
            _circle(pen, cx, cy, unit * 1.1, _vary(rng, (25, 35, 25), 10))
            _circle(pen, cx, cy, unit * 0.9, _vary(rng, (245, 243, 232), 8))
            _circle(pen, cx, cy, unit * 0.4, _vary(rng, rng.choice([fish, (90, 170, 70)])))


def _camera(picture, rng):
    """What a phone adds: light, focus and sensor noise."""
    picture = ImageEnhance.Brightness(picture).enhance(rng.uniform(0.75, 1.2))
    picture = ImageEnhance.Contrast(picture).enhance(rng.uniform(0.8, 1.2))
    if rng.random() < 0.3:
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 1.2)))
    noise = Image.frombytes("L", picture.size, rng.randbytes(picture.width * picture.height))
    return Image.blend(picture, Image.merge("RGB", (noise, noise, noise)), rng.uniform(0.03, 0.1))
