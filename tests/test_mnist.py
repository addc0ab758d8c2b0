"""Reading and verifying MNIST (trainer/data/mnist.py).

The tests on the real files need ``DIGITPAD_MNIST_DIR`` (e.g. ``/work/shared/data/mnist``); the
others build small IDX files of their own.
"""

from __future__ import annotations

import gzip
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from trainer import paths
from trainer.data.mnist import (
    MNIST_FILES,
    MNIST_SHA256,
    MnistError,
    find_mnist_dir,
    load_mnist,
    validation_split,
)

TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def isolated_mnist_env(monkeypatch, tmp_path):
    """No test sees the user's cache folder or the caller's DIGITPAD_MNIST_* variables."""
    cache = tmp_path / "user-cache" / "mnist"
    monkeypatch.setattr(paths, "mnist_cache_dir", lambda: cache)
    monkeypatch.delenv(paths.MNIST_DIR_ENV, raising=False)
    monkeypatch.delenv("DIGITPAD_MNIST_MIRRORS", raising=False)
    return cache


@pytest.fixture
def real_dir(mnist_dir) -> Path:
    return mnist_dir


def real_file(real_dir: Path, name: str) -> Path:
    for candidate in (real_dir / f"{name}.gz", real_dir / name):
        if candidate.exists():
            return candidate
    raise AssertionError(f"{real_dir} lacks {name}")


def real_content(real_dir: Path, name: str) -> bytes:
    path = real_file(real_dir, name)
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


@pytest.fixture
def real_copy(real_dir, tmp_path) -> Path:
    """A folder linking to the four real files; a test replaces one of them with a bad one."""
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in MNIST_FILES:
        source = real_file(real_dir, name)
        (folder / source.name).symlink_to(source.resolve())
    return folder


def replace_gz(folder: Path, name: str, gz_bytes: bytes) -> None:
    """Write ``gz_bytes`` as ``name.gz`` in ``folder``, instead of the link to the real file."""
    for old in (folder / name, folder / f"{name}.gz"):
        old.unlink(missing_ok=True)
    (folder / f"{name}.gz").write_bytes(gz_bytes)


# --- small synthetic IDX files -------------------------------------------------------------------


def idx(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(f">{1 + len(dims)}I", magic, *dims) + payload


def images_idx(
    count: int,
    *,
    magic: int = 2051,
    rows: int = 28,
    cols: int = 28,
    payload_items: int | None = None,
) -> bytes:
    items = count if payload_items is None else payload_items
    return idx(magic, (count, rows, cols), b"\x07" * (items * rows * cols))


def labels_idx(count: int, *, magic: int = 2049) -> bytes:
    return idx(magic, (count,), bytes(i % 10 for i in range(count)))


def write_synthetic(folder: Path, overrides: dict[str, bytes] | None = None) -> Path:
    """Four small, well-formed (but not genuine) gzipped MNIST files, 6 train and 4 test items."""
    contents = {
        "train-images-idx3-ubyte": images_idx(6),
        "train-labels-idx1-ubyte": labels_idx(6),
        "t10k-images-idx3-ubyte": images_idx(4),
        "t10k-labels-idx1-ubyte": labels_idx(4),
    }
    contents.update(overrides or {})
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in contents.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))
    return folder


def assert_error(folder: Path, *fragments: str) -> str:
    with pytest.raises(MnistError) as caught:
        load_mnist(folder, download=False)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# --- the real files ------------------------------------------------------------------------------


def test_real_mnist_shapes_dtypes_and_content(real_dir):
    data = load_mnist(real_dir, download=False)
    assert data.train_images.shape == (60000, 784) and data.train_images.dtype == np.float32
    assert data.test_images.shape == (10000, 784) and data.test_images.dtype == np.float32
    assert data.train_labels.shape == (60000,) and data.train_labels.dtype == np.uint8
    assert data.test_labels.shape == (10000,) and data.test_labels.dtype == np.uint8
    for images in (data.train_images, data.test_images):
        assert images.min() == 0.0 and images.max() == 1.0
    assert data.train_images.mean() == pytest.approx(0.1307, abs=1e-4)
    assert np.bincount(data.train_labels, minlength=10).tolist() == TRAIN_LABEL_COUNTS
    assert np.bincount(data.test_labels, minlength=10).tolist() == TEST_LABEL_COUNTS
    assert data.train_labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert data.test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    # Pixel values are exactly the bytes divided by 255.
    first_image = np.frombuffer(
        real_content(real_dir, "train-images-idx3-ubyte")[16 : 16 + 784], dtype=np.uint8
    )
    np.testing.assert_array_equal(data.train_images[0], first_image.astype(np.float32) / 255)
    assert data.sha256 == dict(MNIST_SHA256)
    assert data.source_dir == real_dir


def test_real_mnist_is_cached_and_read_only(real_dir):
    first = load_mnist(real_dir, download=False)
    start = time.perf_counter()
    second = load_mnist(real_dir, download=False)
    assert time.perf_counter() - start < 0.05
    assert second.train_images is first.train_images
    for array in (first.train_images, first.train_labels, first.test_images, first.test_labels):
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[0] = 0
    first.sha256.clear()
    assert load_mnist(real_dir, download=False).sha256 == dict(MNIST_SHA256)


def test_env_var_folder_is_used(real_dir, monkeypatch):
    monkeypatch.setenv(paths.MNIST_DIR_ENV, str(real_dir))
    assert find_mnist_dir() == real_dir
    assert load_mnist(download=False).source_dir == real_dir


def test_explicit_folder_wins_over_env_var(real_dir, monkeypatch, tmp_path):
    monkeypatch.setenv(paths.MNIST_DIR_ENV, str(tmp_path / "nowhere"))
    assert find_mnist_dir(real_dir) == real_dir


def test_plain_and_gzipped_files_can_be_mixed(real_dir, real_copy):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (real_copy / f"{name}.gz").unlink()
        (real_copy / name).write_bytes(real_content(real_dir, name))
    data = load_mnist(real_copy, download=False)
    assert data.test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    pixels = np.frombuffer(real_content(real_dir, "t10k-images-idx3-ubyte"), np.uint8, offset=16)
    np.testing.assert_array_equal(data.test_images.ravel(), pixels / np.float32(255))


def test_truncated_gzip_is_reported(real_dir, real_copy):
    name = "t10k-labels-idx1-ubyte"
    good = gzip.compress(real_content(real_dir, name), mtime=0)
    replace_gz(real_copy, name, good[: len(good) // 2])
    assert_error(real_copy, f"{name}.gz", "not a complete gzip file", "truncated")


def test_checksum_mismatch_is_reported(real_dir, real_copy):
    name = "t10k-labels-idx1-ubyte"
    content = bytearray(real_content(real_dir, name))
    content[8] = (content[8] + 1) % 10  # one wrong label, structure intact
    replace_gz(real_copy, name, gzip.compress(bytes(content)))
    assert_error(real_copy, f"{name}.gz", "checksum mismatch", MNIST_SHA256[name])


def test_image_label_count_mismatch_in_real_copy_is_reported(real_dir, real_copy):
    name = "t10k-labels-idx1-ubyte"
    content = real_content(real_dir, name)
    replace_gz(real_copy, name, gzip.compress(idx(2049, (9999,), content[8:-1])))
    assert_error(
        real_copy,
        "count mismatch",
        "t10k-images-idx3-ubyte",
        "10000 images",
        f"{name}.gz holds 9999 labels",
    )


# --- synthetic files -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "train-images-idx3-ubyte",
            images_idx(6, magic=2049),
            "wrong magic number 2049, expected 2051",
        ),
        (
            "t10k-labels-idx1-ubyte",
            labels_idx(4, magic=2051),
            "wrong magic number 2051, expected 2049",
        ),
        ("t10k-images-idx3-ubyte", images_idx(4, rows=27), "images are 27x28, expected 28x28"),
        ("train-images-idx3-ubyte", images_idx(6, payload_items=5), "truncated"),
        ("train-labels-idx1-ubyte", labels_idx(6) + b"\0", "has trailing bytes"),
        ("t10k-labels-idx1-ubyte", b"\0\0\x08", "too short for an IDX header"),
    ],
)
def test_malformed_file_is_reported(tmp_path, name, content, problem):
    folder = write_synthetic(tmp_path / "mnist", {name: content})
    message = assert_error(folder, f"{name}.gz", problem)
    assert "--mnist-dir" in message  # how to fix it


def test_wrong_counts_are_reported(tmp_path):
    folder = write_synthetic(tmp_path / "mnist")
    assert_error(folder, "train-images-idx3-ubyte.gz", "holds 6 images, expected 60000")


def test_image_label_count_mismatch_is_reported(tmp_path):
    folder = write_synthetic(tmp_path / "mnist", {"t10k-labels-idx1-ubyte": labels_idx(3)})
    assert_error(
        folder,
        "count mismatch",
        "t10k-images-idx3-ubyte.gz holds 4 images",
        "t10k-labels-idx1-ubyte.gz holds 3 labels",
    )


def test_file_that_is_not_gzip_is_reported(tmp_path):
    folder = write_synthetic(tmp_path / "mnist")
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(labels_idx(6))
    assert_error(folder, "train-labels-idx1-ubyte.gz", "not a complete gzip file")


def test_bad_file_in_cache_says_to_delete_it(isolated_mnist_env):
    write_synthetic(isolated_mnist_env)
    assert_error(
        isolated_mnist_env,
        "train-images-idx3-ubyte.gz",
        "Delete it and run again to re-download it",
    )


def test_missing_file_in_explicit_folder_is_reported(tmp_path):
    folder = write_synthetic(tmp_path / "mnist")
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    with pytest.raises(MnistError) as caught:
        find_mnist_dir(folder)
    message = str(caught.value)
    assert "lacks t10k-images-idx3-ubyte" in message and str(folder) in message
    assert "train-images" not in message
    assert "--mnist-dir" in message


def test_explicit_folder_without_files_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    message = assert_error(tmp_path / "empty", *MNIST_FILES)
    assert "--mnist-dir" in message
    assert_error(tmp_path / "absent", "does not exist", str(tmp_path / "absent"))


def test_env_var_folder_without_files_is_an_error(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv(paths.MNIST_DIR_ENV, str(tmp_path / "empty"))
    with pytest.raises(MnistError, match=f"given by {paths.MNIST_DIR_ENV}.*lacks train-images"):
        find_mnist_dir()


def test_cache_folder_is_found_only_when_complete(isolated_mnist_env):
    assert find_mnist_dir() is None
    write_synthetic(isolated_mnist_env)
    assert find_mnist_dir() == isolated_mnist_env
    (isolated_mnist_env / "t10k-labels-idx1-ubyte.gz").unlink()
    assert find_mnist_dir() is None


def test_nothing_found_without_download_is_an_error(isolated_mnist_env):
    with pytest.raises(MnistError) as caught:
        load_mnist(download=False)
    message = str(caught.value)
    assert paths.MNIST_DIR_ENV in message and "--mnist-dir" in message
    assert str(isolated_mnist_env) in message


# --- validation_split ----------------------------------------------------------------------------


def test_validation_split_is_a_deterministic_partition():
    images = np.arange(200, dtype=np.float32).reshape(100, 2)
    labels = np.arange(100) % 10
    train_x, train_y, val_x, val_y = validation_split(images, labels, share=0.2, seed=3)
    assert train_x.shape == (80, 2) and val_x.shape == (20, 2)
    rows = np.concatenate([train_x[:, 0], val_x[:, 0]]) // 2
    assert sorted(rows.astype(int).tolist()) == list(range(100))  # a partition of the rows
    np.testing.assert_array_equal(train_y, (train_x[:, 0] // 2).astype(int) % 10)  # pairs kept
    np.testing.assert_array_equal(val_y, (val_x[:, 0] // 2).astype(int) % 10)
    again = validation_split(images, labels, share=0.2, seed=3)
    np.testing.assert_array_equal(again[2], val_x)
    other = validation_split(images, labels, share=0.2, seed=4)
    assert not np.array_equal(other[2], val_x)


def test_validation_split_rejects_bad_arguments():
    images = np.zeros((10, 784), np.float32)
    with pytest.raises(ValueError, match="share"):
        validation_split(images, np.zeros(10), share=1.0)
    with pytest.raises(ValueError, match="labels"):
        validation_split(images, np.zeros(9))


def test_validation_split_of_real_training_set(real_dir):
    data = load_mnist(real_dir, download=False)
    train_x, train_y, val_x, val_y = validation_split(data.train_images, data.train_labels)
    assert len(train_x) == len(train_y) == 54000 and len(val_x) == len(val_y) == 6000
    assert train_x.flags.writeable  # copies, not views of the shared read-only arrays
