"""Pizza/steak/sushi images without the internet: every path of tutor.data.food.

The network is blocked in every test (name lookups fail at once and are counted). The
download path is tested with a zip served by a stand-in for ``urlopen``.
"""

from __future__ import annotations

import io
import socket
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from tutor.data import food

SMALL = {"train_per_class": 3, "test_per_class": 2}


class Network:
    def __init__(self):
        self.attempts: list[str] = []


@pytest.fixture(autouse=True)
def network(monkeypatch) -> Network:
    state = Network()

    def getaddrinfo(host, *args, **kwargs):
        state.attempts.append(str(host))
        raise socket.gaierror(socket.EAI_NONAME, "network blocked in tests")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.delenv("TUTOR_OFFLINE", raising=False)
    return state


def tree(folder: Path) -> dict[str, int]:
    """``{"train/pizza": 3, ...}``: the number of images in each class folder."""
    return {
        f"{d.parent.name}/{d.name}": sum(1 for f in d.iterdir() if f.suffix == ".jpg")
        for d in sorted(folder.glob("*/*")) if d.is_dir()
    }


def write_photos(folder: Path, per_class: int = 2) -> Path:
    """A tiny stand-in for the real download: train/test class folders of JPEGs."""
    for split in ("train", "test"):
        for kind in food.CLASSES:
            (folder / split / kind).mkdir(parents=True)
            for i in range(per_class):
                Image.new("RGB", (20, 16), (40 * i, 90, 200)).save(folder / split / kind / f"{i}.jpg")
    return folder


def zipped(folder: Path, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*.jpg")):
            archive.write(path, prefix + str(path.relative_to(folder)))
    return buffer.getvalue()


def serve(monkeypatch, payload: bytes) -> list[str]:
    """Make ``urlopen`` answer with ``payload``; returns the URLs asked for."""
    asked = []

    def urlopen(url, timeout=None):
        asked.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(food.urllib.request, "urlopen", urlopen)
    return asked


def leftovers(root: Path) -> list[str]:
    return [p.name for p in root.iterdir() if p.name.startswith(".")]


def test_offline_the_download_fails_cleanly_and_drawn_images_are_made(tmp_path, network):
    images = food.food_images(tmp_path, **SMALL)

    assert network.attempts == ["github.com"]
    assert images.source == "drawn" and not images.is_real
    assert images.path == tmp_path / food.DRAWN_FOLDER
    assert "download failed" in images.note and "network blocked" in images.note
    assert "DRAWN" in str(images)
    assert tree(images.path) == {f"{split}/{kind}": n for split, n in (("train", 3), ("test", 2))
                                 for kind in food.CLASSES}
    assert not (tmp_path / food.REAL_FOLDER).exists(), "the stand-in must not go where the real photos belong"
    assert leftovers(tmp_path) == []


def test_imagefolder_reads_the_drawn_set(tmp_path):
    datasets = pytest.importorskip("torchvision.datasets")
    images = food.food_images(tmp_path, **SMALL)

    train = datasets.ImageFolder(images.train_dir)
    test = datasets.ImageFolder(images.test_dir)

    assert train.classes == ["pizza", "steak", "sushi"]
    assert train.class_to_idx == {"pizza": 0, "steak": 1, "sushi": 2}
    assert (len(train), len(test)) == (9, 6)
    picture, label = train[3]
    assert (picture.size, picture.mode, label) == ((128, 128), "RGB", 1)


def test_generation_is_deterministic(tmp_path):
    first = food.generate(tmp_path / "a", **SMALL)
    second = food.generate(tmp_path / "b", **SMALL)

    files = sorted(p.relative_to(first) for p in first.rglob("*.jpg"))
    assert len(files) == 15
    assert files == sorted(p.relative_to(second) for p in second.rglob("*.jpg"))
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)
    assert (first / "train/pizza/pizza_0000.jpg").read_bytes() != (first / "train/pizza/pizza_0001.jpg").read_bytes()


def test_another_seed_draws_other_pictures(tmp_path):
    a = food.generate(tmp_path / "a", seed=1, **SMALL)
    b = food.generate(tmp_path / "b", seed=2, **SMALL)
    assert (a / "test/sushi/sushi_0000.jpg").read_bytes() != (b / "test/sushi/sushi_0000.jpg").read_bytes()


def test_the_drawn_set_is_reused_and_redrawn_when_the_settings_change(tmp_path):
    folder = food.generate(tmp_path / "drawn", **SMALL)
    picture = folder / "train/steak/steak_0000.jpg"
    picture.write_bytes(b"marked")

    food.generate(tmp_path / "drawn", **SMALL)
    assert picture.read_bytes() == b"marked", "the same settings reuse the set"

    food.generate(tmp_path / "drawn", train_per_class=4, test_per_class=1)
    assert picture.read_bytes() != b"marked"
    assert tree(folder)["train/steak"] == 4 and tree(folder)["test/steak"] == 1
    assert leftovers(tmp_path) == []


def test_real_photos_already_there_are_used_without_the_network(tmp_path, network):
    real = write_photos(tmp_path / food.REAL_FOLDER)

    images = food.food_images(tmp_path, **SMALL)

    assert images.source == "found" and images.is_real
    assert images.path == real and "real" in images.note
    assert network.attempts == []
    assert not (tmp_path / food.DRAWN_FOLDER).exists()


def test_the_classic_data_folder_is_searched_by_default(tmp_path, monkeypatch, network):
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    real = write_photos(tmp_path / "data" / food.REAL_FOLDER)

    images = food.food_images(**SMALL)

    assert images.source == "found" and images.path == real.resolve()
    assert network.attempts == []


def test_the_default_root_is_the_tutor_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTOR_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)

    images = food.food_images(**SMALL)

    assert images.path == tmp_path / "home" / "data" / food.DRAWN_FOLDER


def test_a_download_is_unpacked_into_the_real_folder(tmp_path, monkeypatch):
    payload = zipped(write_photos(tmp_path / "served", per_class=2))
    asked = serve(monkeypatch, payload)
    root = tmp_path / "data"

    images = food.food_images(root, **SMALL)

    assert asked == [food.URL]
    assert images.source == "downloaded" and images.path == root / food.REAL_FOLDER
    assert tree(images.path) == {f"{s}/{k}": 2 for s in ("train", "test") for k in food.CLASSES}
    assert leftovers(root) == []
    # the next call finds it, without downloading again
    assert food.food_images(root, **SMALL).source == "found" and len(asked) == 1


def test_a_download_with_a_top_folder_is_unpacked_too(tmp_path, monkeypatch):
    serve(monkeypatch, zipped(write_photos(tmp_path / "served"), prefix="pizza_steak_sushi/"))

    images = food.food_images(tmp_path / "data", **SMALL)

    assert images.source == "downloaded"
    assert tree(images.path)["test/sushi"] == 2


@pytest.mark.parametrize("payload", [b"this is not a zip", b""], ids=["garbage", "empty"])
def test_a_broken_download_leaves_nothing_and_falls_back(tmp_path, monkeypatch, payload):
    serve(monkeypatch, payload)

    images = food.food_images(tmp_path, **SMALL)

    assert images.source == "drawn" and "download failed" in images.note
    assert not (tmp_path / food.REAL_FOLDER).exists()
    assert leftovers(tmp_path) == []


def test_a_zip_without_class_folders_is_refused(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "no pictures here")
    serve(monkeypatch, buffer.getvalue())

    images = food.food_images(tmp_path, **SMALL)

    assert images.source == "drawn" and "no train/ and test/" in images.note
    assert not (tmp_path / food.REAL_FOLDER).exists()


def test_a_zip_that_escapes_its_folder_is_refused(tmp_path, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../evil.txt", "outside")
    serve(monkeypatch, buffer.getvalue())

    images = food.food_images(tmp_path / "data", **SMALL)

    assert images.source == "drawn" and "unsafe path" in images.note
    assert not (tmp_path / "evil.txt").exists()


def test_an_incomplete_real_folder_is_neither_used_nor_touched(tmp_path, network):
    real = tmp_path / food.REAL_FOLDER
    (real / "train" / "pizza").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(real / "train" / "pizza" / "a.jpg")
    before = sorted(p.relative_to(real) for p in real.rglob("*"))

    images = food.food_images(tmp_path, **SMALL)

    assert images.source == "drawn"
    assert "incomplete: remove it to download again" in images.note
    assert network.attempts == []
    assert sorted(p.relative_to(real) for p in real.rglob("*")) == before


@pytest.mark.parametrize("switch", ["argument", "environment"])
def test_download_can_be_switched_off(tmp_path, monkeypatch, network, switch):
    if switch == "environment":
        monkeypatch.setenv("TUTOR_OFFLINE", "1")
        images = food.food_images(tmp_path, **SMALL)
    else:
        images = food.food_images(tmp_path, download=False, **SMALL)

    assert network.attempts == []
    assert images.source == "drawn" and "switched off" in images.note


def test_draw_makes_each_kind_and_refuses_others():
    for kind in food.CLASSES:
        picture = food.draw(kind, seed=7, size=96)
        assert (picture.size, picture.mode) == ((96, 96), "RGB")
    with pytest.raises(ValueError, match="unknown kind 'pasta'"):
        food.draw("pasta")


def test_the_pictures_carry_a_signal_a_simple_rule_can_find():
    """Nearest class mean on 4x4 thumbnails beats guessing (1/3) by far: the set is learnable."""
    def features(kind, i):
        return list(food.draw(kind, seed=f"{kind}-{i}", size=64).resize((4, 4), Image.BOX).tobytes())

    means = {}
    for kind in food.CLASSES:
        rows = [features(kind, i) for i in range(30)]
        means[kind] = [sum(column) / len(rows) for column in zip(*rows)]

    def nearest(row):
        return min(means, key=lambda kind: sum((a - b) ** 2 for a, b in zip(row, means[kind])))

    right = sum(nearest(features(kind, i)) == kind for kind in food.CLASSES for i in range(100, 120))
    assert right / 60 > 0.5
