"""Fashion-MNIST with or without the internet: a root where torchvision's call works.

Lesson code asks for a root, then calls the real API::

    from tutor.data.fashion_mnist import fashion_mnist_root
    root = fashion_mnist_root()            # prints which copy it is using
    train_data = datasets.FashionMNIST(root=root, train=True, download=True,
                                       transform=transforms.ToTensor())

torchvision needs the four uncompressed idx files in ``root/FashionMNIST/raw/`` and
only checks that they exist; with them there, ``download=True`` does nothing. The
sources, in order (``FashionMNISTCopy.source`` names the one used):

1. ``existing``: a copy already in place (four valid idx files) under one of
   ``TUTOR_HOME/data`` (where this module writes, so earlier runs are found here) or
   ``./data`` (the classic ``root="data"``, relative to the lesson's working folder).
2. ``system``: Debian's package ``dataset-fashion-mnist``, gzipped idx files in
   ``/usr/share/datasets/fashion-mnist``, decompressed into ``TUTOR_HOME/data``.
3. ``download``: torchvision's download into ``TUTOR_HOME/data``, under a short socket
   timeout; skipped when ``TUTOR_OFFLINE=1``. A failed attempt removes what it left
   behind (torchvision leaves an empty ``raw/``, sometimes a partial file).
4. ``subset``: the real subset shipped in ``assets/fashion-mnist`` (the first 6,000
   training and 1,000 test images), unpacked into ``TUTOR_HOME/data/fashion-mnist-subset``:
   a different root, so the stand-in never sits where the full dataset belongs.

Files are written to a temporary name and renamed, so an interrupted unpack never
leaves a half file that passes for data. torchvision is imported only to download.
"""

from __future__ import annotations

import gzip
import os
import shutil
import socket
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from tutor import config

SYSTEM_DIR = Path("/usr/share/datasets/fashion-mnist")
SUBSET_FOLDER = "fashion-mnist-subset"
DOWNLOAD_TIMEOUT = 10.0  # seconds per socket operation; offline, DNS fails in ~3 s anyway

IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801
SIDE = 28
SPLITS = {"train": "train", "test": "t10k"}  # our name -> the idx file prefix
FILES = tuple(f"{prefix}-{kind}-ubyte" for prefix in SPLITS.values() for kind in ("images-idx3", "labels-idx1"))
FULL_SIZES = (60_000, 10_000)


class FashionMNISTUnavailable(RuntimeError):
    """No copy could be found or prepared (every source failed)."""


@dataclass(frozen=True)
class FashionMNISTCopy:
    """A root where ``datasets.FashionMNIST(root=...)`` finds its files."""

    root: Path
    source: str  # "existing" | "system" | "download" | "subset"
    train_size: int
    test_size: int

    @property
    def is_full(self) -> bool:
        return (self.train_size, self.test_size) == FULL_SIZES

    def describe(self) -> str:
        """One line for the learner: which data, how much, from where."""
        what = "the full dataset" if self.is_full else "a real subset"
        sizes = f"({self.train_size:,} train / {self.test_size:,} test images)"
        where = {
            "existing": f"found in {self.root}",
            "system": f"unpacked from the system copy (Debian's dataset-fashion-mnist) into {self.root}",
            "download": f"downloaded into {self.root}",
            "subset": f"shipped with tutor, unpacked into {self.root}",
        }[self.source]
        return f"Fashion-MNIST: {what} {sizes}, {where}"


# --- reading and checking idx files -------------------------------------------------


def idx_count(path: Path) -> int | None:
    """Items in an uncompressed Fashion-MNIST idx file (header and size agree), else None."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    return _count_from_header(head, size)


def _count_from_header(head: bytes, size: int | None) -> int | None:
    if len(head) < 8:
        return None
    magic, count = struct.unpack(">II", head[:8])
    if magic == LABEL_MAGIC:
        expected = 8 + count
    elif magic == IMAGE_MAGIC and len(head) >= 16 and struct.unpack(">II", head[8:16]) == (SIDE, SIDE):
        expected = 16 + count * SIDE * SIDE
    else:
        return None
    return count if count > 0 and (size is None or size == expected) else None


def raw_sizes(raw: Path) -> tuple[int, int] | None:
    """(train, test) item counts if ``raw`` holds the four valid files, else None."""
    counts = {}
    for name in FILES:
        count = idx_count(raw / name)
        if count is None:
            return None
        counts[name] = count
    sizes = []
    for prefix in SPLITS.values():
        images, labels = counts[f"{prefix}-images-idx3-ubyte"], counts[f"{prefix}-labels-idx1-ubyte"]
        if images != labels:
            return None
        sizes.append(images)
    return sizes[0], sizes[1]


def raw_dir(root: Path) -> Path:
    """Where torchvision looks for the files of ``FashionMNIST(root=root)``."""
    return Path(root) / "FashionMNIST" / "raw"


# --- the sources ---------------------------------------------------------------------


def default_search_roots(data_dir: Path | None = None) -> list[Path]:
    """Roots checked for an existing copy: ``TUTOR_HOME/data``, then ``./data``."""
    roots: list[Path] = []
    for root in (data_dir or config.data_dir(), Path.cwd() / "data"):
        if all(root.resolve() != seen.resolve() for seen in roots):
            roots.append(root)
    return roots


def find_existing(roots: Iterable[Path]) -> FashionMNISTCopy | None:
    for root in roots:
        sizes = raw_sizes(raw_dir(root))
        if sizes:
            return FashionMNISTCopy(Path(root), "existing", *sizes)
    return None


def unpack(gz_dir: Path, root: Path) -> tuple[int, int]:
    """Decompress the four ``*.gz`` idx files of ``gz_dir`` into ``root/FashionMNIST/raw``.

    Each file goes to a temporary name, is checked, then renamed into place. Files
    already there with the same content are left alone. Raises ``ValueError`` for a
    file that is not Fashion-MNIST idx data and ``OSError`` for disk trouble.
    """
    raw = raw_dir(root)
    raw.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        source = gz_dir / f"{name}.gz"
        target = raw / name
        try:
            data = gzip.decompress(source.read_bytes())
        except (EOFError, zlib.error, gzip.BadGzipFile) as error:
            raise ValueError(f"{source} is not a valid gzip file ({error})") from None
        if _count_from_header(data[:16], len(data)) is None:
            raise ValueError(f"{source} does not hold Fashion-MNIST idx data")
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            continue
        partial = raw / f".{name}.partial-{os.getpid()}"
        try:
            with open(partial, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    sizes = raw_sizes(raw)
    if sizes is None:  # the two files of a split disagree
        raise ValueError(f"{gz_dir}: image and label counts do not match")
    return sizes


def has_gz_files(folder: Path) -> bool:
    return all((folder / f"{name}.gz").is_file() for name in FILES)


def download(root: Path, *, timeout: float = DOWNLOAD_TIMEOUT) -> tuple[int, int]:
    """torchvision's download into ``root``; on any failure, remove what it left and raise.

    The socket timeout is set only for the attempt, so a dead network fails in seconds.
    """
    base = Path(root) / "FashionMNIST"
    before = _tree(base)
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        from torchvision import datasets

        datasets.FashionMNIST(root=str(root), train=False, download=True)
        sizes = raw_sizes(raw_dir(root))
        if sizes is None:
            raise RuntimeError("the downloaded files are incomplete")
        return sizes
    except BaseException:
        _remove_new(base, before)
        raise
    finally:
        socket.setdefaulttimeout(previous_timeout)


def _tree(base: Path) -> set[Path]:
    if not base.exists():
        return set()
    return {base, *base.rglob("*")}


def _remove_new(base: Path, before: set[Path]) -> None:
    """Delete files and folders under ``base`` that were not in ``before``."""
    for path in sorted(_tree(base) - before, key=lambda p: len(p.parts), reverse=True):
        try:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()  # only if empty: never a folder someone filled meanwhile
            else:
                path.unlink()
        except OSError:
            pass


def _short(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def offline_requested() -> bool:
    return os.environ.get("TUTOR_OFFLINE", "").strip().lower() not in ("", "0", "no", "false")


# --- the public entry points ---------------------------------------------------------


def locate(
    *,
    data_dir: Path | None = None,
    search: Iterable[Path] | None = None,
    system_dir: Path = SYSTEM_DIR,
    subset_dir: Path | None = None,
    allow_download: bool | None = None,
    timeout: float = DOWNLOAD_TIMEOUT,
    say: Callable[[str], None] = print,
) -> FashionMNISTCopy:
    """Find or prepare Fashion-MNIST, trying the sources in the module's order.

    ``data_dir`` (default ``config.data_dir()``) is where the full dataset is written;
    ``search`` the roots checked for an existing copy after ``data_dir`` (default
    ``./data``). ``say`` receives notes about sources that failed; the caller prints
    ``describe()`` of the result (``fashion_mnist_root`` does both).
    """
    data_dir = Path(data_dir) if data_dir is not None else config.data_dir()
    roots = default_search_roots(data_dir) if search is None else [data_dir, *map(Path, search)]
    system_dir = Path(system_dir)
    subset_dir = Path(subset_dir) if subset_dir is not None else config.assets_dir() / "fashion-mnist"
    if allow_download is None:
        allow_download = not offline_requested()

    found = find_existing(roots)
    if found:
        return found

    if has_gz_files(system_dir):
        try:
            return FashionMNISTCopy(data_dir, "system", *unpack(system_dir, data_dir))
        except (OSError, ValueError) as error:
            say(f"Fashion-MNIST: could not use the system copy in {system_dir}: {error}")

    if allow_download:
        try:
            return FashionMNISTCopy(data_dir, "download", *download(data_dir, timeout=timeout))
        except Exception as error:  # noqa: BLE001 - any failure means: try the next source
            say(f"Fashion-MNIST: the download failed (no internet?): {_short(error)}")

    subset_root = data_dir / SUBSET_FOLDER
    try:
        return FashionMNISTCopy(subset_root, "subset", *unpack(subset_dir, subset_root))
    except (OSError, ValueError) as error:
        raise FashionMNISTUnavailable(
            f"Fashion-MNIST is not available: no copy on disk, no system copy, no download, "
            f"and the shipped subset could not be unpacked ({error}). "
            f"Try: apt-get install dataset-fashion-mnist, or run once with internet."
        ) from None


def fashion_mnist_root(**options) -> Path:
    """The root to pass to ``datasets.FashionMNIST``; prints which copy it is."""
    say = options.get("say", print)
    found = locate(**options)
    say(found.describe())
    if found.source == "subset":
        say("  (for the full 60,000 images: apt-get install dataset-fashion-mnist, or run once online)")
    return found.root
