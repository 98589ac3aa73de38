"""Fashion-MNIST without the internet: every source of tutor.data.fashion_mnist.

The network is blocked in every test (a connection attempt fails at once and is
counted); the download test serves fixture files from 127.0.0.1. Fixtures are tiny idx
files written here with struct, independently of the module's reader.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import socket
import struct
import threading
from pathlib import Path

import pytest

from tutor import config
from tutor.data import fashion_mnist as fm
from tutor.data.fashion_mnist import FashionMNISTUnavailable, fashion_mnist_root, locate

NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_files(train: int, test: int) -> dict[str, bytes]:
    """The four idx files (uncompressed) with recognisable pixels and labels."""
    files = {}
    for prefix, n in (("train", train), ("t10k", test)):
        pixels = bytes((i * 7 + j) % 256 for i in range(n) for j in range(28 * 28))
        files[f"{prefix}-images-idx3-ubyte"] = struct.pack(">IIII", 0x803, n, 28, 28) + pixels
        files[f"{prefix}-labels-idx1-ubyte"] = struct.pack(">II", 0x801, n) + bytes(i % 10 for i in range(n))
    return files


def write_gz(folder: Path, train: int = 20, test: int = 10) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in idx_files(train, test).items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(data))
    return folder


def write_raw(root: Path, train: int = 30, test: int = 12) -> Path:
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, data in idx_files(train, test).items():
        (raw / name).write_bytes(data)
    return root


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


class NetworkBlocked:
    """Counts connection attempts; only 127.0.0.1 is allowed, and only when asked."""

    def __init__(self):
        self.attempts: list[str] = []
        self.allow_localhost = False


@pytest.fixture
def network(monkeypatch) -> NetworkBlocked:
    state = NetworkBlocked()
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if state.allow_localhost and host in ("127.0.0.1", "localhost"):
            return real_getaddrinfo(host, *args, **kwargs)
        state.attempts.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, "network blocked in tests")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("TUTOR_OFFLINE", raising=False)
    return state


@pytest.fixture
def places(tmp_path, monkeypatch) -> dict[str, Path]:
    """A working folder (cwd), an empty system folder and the real data folder."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return {"work": work, "system": tmp_path / "no-system-copy", "data": config.data_dir()}


def notes() -> tuple[list[str], callable]:
    said: list[str] = []
    return said, said.append


# --- 1. an existing copy -------------------------------------------------------------


def test_existing_copy_in_data_dir_is_used_without_network(places, network):
    write_raw(places["data"])
    write_gz(places["system"])  # present, but an existing copy comes first
    found = locate(system_dir=places["system"], say=print)
    assert (found.source, found.root, found.train_size, found.test_size) == ("existing", places["data"], 30, 12)
    assert network.attempts == []


def test_existing_copy_in_workspace_data_folder(places, network):
    write_raw(places["work"] / "data", train=40, test=8)
    found = locate(system_dir=places["system"])
    assert found.source == "existing"
    assert found.root.resolve() == (places["work"] / "data").resolve()
    assert (found.train_size, found.test_size) == (40, 8)
    assert network.attempts == []


@pytest.mark.parametrize(
    "damage",
    ["missing", "truncated", "wrong magic", "counts disagree"],
)
def test_damaged_copy_is_not_taken_for_data(places, network, damage):
    raw = write_raw(places["data"]) / "FashionMNIST" / "raw"
    target = raw / "train-images-idx3-ubyte"
    if damage == "missing":
        target.unlink()
    elif damage == "truncated":
        target.write_bytes(target.read_bytes()[:-100])
    elif damage == "wrong magic":
        target.write_bytes(struct.pack(">I", 0x801) + target.read_bytes()[4:])
    else:
        (raw / "train-labels-idx1-ubyte").write_bytes(struct.pack(">II", 0x801, 3) + bytes(3))
    assert fm.raw_sizes(raw) is None
    write_gz(places["system"], train=20, test=10)
    found = locate(system_dir=places["system"], allow_download=False)
    assert (found.source, found.train_size) == ("system", 20)  # and the damaged copy was repaired
    assert fm.raw_sizes(raw) == (20, 10)


# --- 2. the system copy --------------------------------------------------------------


def test_system_copy_is_decompressed_where_torchvision_looks(places, network):
    write_gz(places["system"], train=20, test=10)
    said, say = notes()
    found = locate(system_dir=places["system"], say=say)
    assert (found.source, found.root, found.train_size, found.test_size) == ("system", places["data"], 20, 10)
    assert files_under(places["data"]) == {"FashionMNIST", "FashionMNIST/raw", *(f"FashionMNIST/raw/{n}" for n in NAMES)}
    for name, data in idx_files(20, 10).items():
        assert (places["data"] / "FashionMNIST" / "raw" / name).read_bytes() == data
    assert said == [] and network.attempts == []
    # The next call finds it on disk.
    assert locate(system_dir=places["system"]).source == "existing"


def test_torchvision_loads_the_prepared_root_with_download_true(places, network):
    datasets = pytest.importorskip("torchvision.datasets")
    write_gz(places["system"], train=20, test=10)
    root = locate(system_dir=places["system"]).root
    train = datasets.FashionMNIST(root=root, train=True, download=True)
    test = datasets.FashionMNIST(root=root, train=False, download=True)
    assert (len(train), len(test)) == (20, 10)
    image, label = train[3]
    assert image.size == (28, 28) and label == 3
    assert network.attempts == []  # download=True had nothing to do
    assert not (places["data"] / "FashionMNIST" / "processed").exists()


def test_corrupt_system_copy_falls_through_with_a_note(places, network):
    write_gz(places["system"])
    (places["system"] / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    said, say = notes()
    found = locate(system_dir=places["system"], allow_download=False, say=say)
    assert found.source == "subset"
    assert any("could not use the system copy" in line and "gzip" in line for line in said)
    assert not list((places["data"] / "FashionMNIST" / "raw").glob(".*partial*"))


def test_system_copy_that_is_not_fashion_mnist_is_refused(places, network):
    write_gz(places["system"])
    bad = struct.pack(">IIII", 0x803, 2, 32, 32) + bytes(2 * 32 * 32)  # 32x32 images
    (places["system"] / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bad))
    said, say = notes()
    assert locate(system_dir=places["system"], allow_download=False, say=say).source == "subset"
    assert any("does not hold Fashion-MNIST idx data" in line for line in said)


def test_failed_write_leaves_no_partial_file(places, network, monkeypatch):
    write_gz(places["system"])

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fm.os, "replace", disk_full)
    said, say = notes()
    with pytest.raises(FashionMNISTUnavailable, match="No space left on device"):
        locate(system_dir=places["system"], allow_download=False, say=say)
    assert any("No space left on device" in line for line in said)
    leftovers = [p.name for p in places["data"].rglob("*") if p.is_file()]
    assert leftovers == []


# --- 3. the download -----------------------------------------------------------------


def test_offline_download_fails_cleanly_then_uses_the_subset(places, network):
    said, say = notes()
    found = locate(system_dir=places["system"], say=say)
    assert network.attempts, "the download should have been tried"
    assert any(line.startswith("Fashion-MNIST: the download failed") for line in said)
    assert found.source == "subset"
    # torchvision's failed attempt made data/FashionMNIST/raw: it is gone again.
    assert not (places["data"] / "FashionMNIST").exists()
    assert socket.getdefaulttimeout() is None  # the short timeout was only for the attempt


def test_failed_download_keeps_what_was_there_before(places, network):
    raw = places["data"] / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "notes.txt").write_text("mine")
    locate(system_dir=places["system"], say=lambda line: None)
    assert files_under(places["data"] / "FashionMNIST") == {"raw", "raw/notes.txt"}


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_download_can_be_switched_off(places, network, monkeypatch, how):
    if how == "environment":
        monkeypatch.setenv("TUTOR_OFFLINE", "1")
        found = locate(system_dir=places["system"])
    else:
        found = locate(system_dir=places["system"], allow_download=False)
    assert found.source == "subset" and network.attempts == []


def test_download_from_a_local_mirror(places, network, monkeypatch, tmp_path):
    """The real torchvision download code, served from 127.0.0.1 with fixture files."""
    datasets = pytest.importorskip("torchvision.datasets")
    served = write_gz(tmp_path / "mirror", train=15, test=5)
    resources = [(f"{n}.gz", hashlib.md5((served / f"{n}.gz").read_bytes()).hexdigest()) for n in NAMES]

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        network.allow_localhost = True
        monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [f"http://127.0.0.1:{server.server_port}/"])
        monkeypatch.setattr(datasets.FashionMNIST, "resources", resources)
        found = locate(system_dir=places["system"], timeout=5)
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
    assert (found.source, found.root, found.train_size, found.test_size) == ("download", places["data"], 15, 5)
    assert "downloaded into" in found.describe()
    assert network.attempts == []


# --- 4. the shipped subset -----------------------------------------------------------


def test_subset_goes_to_its_own_root_never_the_real_one(places, network):
    found = locate(system_dir=places["system"], allow_download=False)
    assert found.source == "subset"
    assert found.root == places["data"] / fm.SUBSET_FOLDER
    assert (found.train_size, found.test_size) == (6000, 1000)
    assert not found.is_full
    assert not (places["data"] / "FashionMNIST").exists()
    # It is not mistaken for a real copy later: when the system copy appears, it wins.
    write_gz(places["system"], train=20, test=10)
    later = locate(system_dir=places["system"], allow_download=False)
    assert (later.source, later.root) == ("system", places["data"])
    assert fm.raw_sizes(fm.raw_dir(found.root)) == (6000, 1000)  # the subset is untouched


def test_subset_is_reused_and_repaired(places, network):
    root = locate(system_dir=places["system"], allow_download=False).root
    image_file = fm.raw_dir(root) / "t10k-images-idx3-ubyte"
    stamp = image_file.stat().st_mtime_ns
    locate(system_dir=places["system"], allow_download=False)
    assert image_file.stat().st_mtime_ns == stamp  # same content: not rewritten
    image_file.write_bytes(b"broken")
    locate(system_dir=places["system"], allow_download=False)
    assert fm.idx_count(image_file) == 1000


def test_torchvision_reads_the_shipped_subset(places, network):
    datasets = pytest.importorskip("torchvision.datasets")
    root = locate(system_dir=places["system"], allow_download=False).root
    train = datasets.FashionMNIST(root=root, train=True, download=True)
    test = datasets.FashionMNIST(root=root, train=False, download=True)
    assert (len(train), len(test)) == (6000, 1000)
    assert set(train.targets.tolist()) == set(range(10)) and set(test.targets.tolist()) == set(range(10))
    assert network.attempts == []


def test_shipped_subset_files_are_small_and_licensed():
    folder = config.assets_dir() / "fashion-mnist"
    total = sum((folder / f"{n}.gz").stat().st_size for n in NAMES)
    assert total < 4 * 2**20
    assert "Zalando SE" in (folder / "LICENSE").read_text()
    assert "dataset-fashion-mnist" in (folder / "README.md").read_text()


@pytest.mark.skipif(not fm.has_gz_files(fm.SYSTEM_DIR), reason="Debian's dataset-fashion-mnist is not installed")
def test_shipped_subset_is_a_prefix_of_the_system_copy():
    folder = config.assets_dir() / "fashion-mnist"
    for name in NAMES:
        subset = gzip.decompress((folder / f"{name}.gz").read_bytes())
        with gzip.open(fm.SYSTEM_DIR / f"{name}.gz") as full:
            head = full.read(len(subset))
        header = 16 if "images" in name else 8
        assert subset[header:] == head[header:], name


def test_nothing_available_says_what_to_do(places, network, tmp_path):
    with pytest.raises(FashionMNISTUnavailable, match="apt-get install dataset-fashion-mnist"):
        locate(system_dir=places["system"], subset_dir=tmp_path / "empty", allow_download=False)


# --- telling the learner -------------------------------------------------------------


def test_fashion_mnist_root_prints_the_source(places, network, capsys):
    write_gz(places["system"], train=20, test=10)
    assert fashion_mnist_root(system_dir=places["system"]) == places["data"]
    out = capsys.readouterr().out
    assert "Fashion-MNIST: a real subset (20 train / 10 test images), unpacked from the system copy" in out


def test_describe_names_the_full_dataset_and_the_subset(tmp_path):
    full = fm.FashionMNISTCopy(tmp_path, "system", 60_000, 10_000)
    assert full.describe().startswith("Fashion-MNIST: the full dataset (60,000 train / 10,000 test images)")
    subset = fm.FashionMNISTCopy(tmp_path, "subset", 6000, 1000)
    assert "a real subset (6,000 train / 1,000 test images), shipped with tutor" in subset.describe()


def test_subset_print_suggests_the_full_dataset(places, network, capsys):
    fashion_mnist_root(system_dir=places["system"], allow_download=False)
    out = capsys.readouterr().out
    assert "shipped with tutor" in out and "apt-get install dataset-fashion-mnist" in out


def test_no_stale_files_from_the_module_in_the_working_folder(places, network):
    locate(system_dir=places["system"], allow_download=False)
    assert os.listdir(places["work"]) == []
