"""A seed reproduces a model whatever the state of the compiled-kernel cache.

The README promises that its command reproduces ``assets/model.npz`` bit for bit. A fresh clone
trains with an empty Numba cache (every kernel compiled in the process); a second run loads them
from the cache. Both must train the same weights: once they did not, because fast-math flags let
LLVM fuse a warp kernel's arithmetic differently in the two cases (one synthesised negative of
this very run differed by 2.5e-6, and so did every weight after it).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from trainer.model_io import load_model


@pytest.mark.needs_mnist
def test_an_empty_and_a_filled_kernel_cache_train_the_same_model(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache), "XDG_DATA_HOME": str(tmp_path / "data")}
    weights = []
    for run in ("empty-cache", "filled-cache"):
        out = tmp_path / f"{run}.npz"
        done = subprocess.run(
            [sys.executable, "-m", "trainer.cli.train_cli", "--preset", "default"]
            + ["--epochs", "1", "--subset", "6000", "--quiet", "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        network, _ = load_model(out)
        weights.append(network.weights + network.biases)
    assert any(cache.rglob("*.nbi"))  # the second run did find compiled kernels
    for first, second in zip(*weights):
        assert np.array_equal(first, second)
