"""The input layer's products split over two cores (trainer/fast/sparse_input.py, input_layer.py,
numba_threads.py), the other layers' split or side by side (split_products.py, backprop.py), and
training kept to one core beside the next epoch's images (blas_threads.py): the same numbers bit
for bit as on one core, and safe on several threads."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import threadpoolctl
from synthetic_data import sparse_matrix

from trainer.config import TrainingConfig
from trainer.core import optimizers, training
from trainer.core.training import TrainingData, network_for, train
from trainer.data.epoch_images import EpochImages
from trainer.fast import blas_threads, core_share, input_layer, numba_threads, sparse_input

WIDTHS = [30, 100, 512, 800]
BATCHES = [1, 7, 128]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("parts", [2, 3])
def test_split_products_equal_the_one_core_products_bit_for_bit(width, batch, parts):
    rng = np.random.default_rng(width * 1000 + batch)
    x = sparse_matrix(rng, 300, 784, blank_row=3)
    compressed = sparse_input.compress_rows(x)
    rows = rng.choice(300, batch, replace=False).astype(np.int64)
    rows[0] = 3
    w = rng.standard_normal((784, width)).astype(np.float32)
    one, split = (
        np.full((batch, width), np.nan, np.float32),
        np.full((batch, width), np.nan, np.float32),
    )
    sparse_input.rows_times(compressed, rows, w, one)
    sparse_input.rows_times_split_by_columns(compressed, rows, w, split, parts)
    np.testing.assert_array_equal(split, one)
    np.testing.assert_allclose(split, x[rows] @ w, rtol=1e-5, atol=1e-4)

    delta = rng.standard_normal((batch, width)).astype(np.float32)
    start = rng.standard_normal((784, width)).astype(np.float32)
    one, split = start.copy(), start.copy()
    sparse_input.add_transposed_times(compressed, rows, delta, -0.37, one)
    sparse_input.add_transposed_times_split_by_pixels(compressed, rows, delta, -0.37, split, parts)
    assert split.tobytes() == one.tobytes()
    np.testing.assert_allclose(split, start - 0.37 * (x[rows].T @ delta), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("width", [*range(1, 17), 70, 520])
@pytest.mark.parametrize("parts", [2, 3])
def test_no_column_is_written_by_two_threads(width, parts):
    """Rows narrower than a vector are done element by element, and a last block narrower than a
    vector has its vectors reach into the block before: each must be one thread's alone (a batch
    of 6 554 samples or more splits even a 10-unit layer). The threads race only now and then,
    so the product is repeated."""
    rng = np.random.default_rng(width)
    x = sparse_matrix(rng, 300, 784)
    compressed = sparse_input.compress_rows(x)
    rows = rng.permutation(300)[:128].astype(np.int64)
    w = rng.standard_normal((784, width)).astype(np.float32)
    one = np.empty((128, width), np.float32)
    sparse_input.rows_times(compressed, rows, w, one)
    for _ in range(20):
        split = np.full((128, width), np.nan, np.float32)
        sparse_input.rows_times_split_by_columns(compressed, rows, w, split, parts)
        assert split.tobytes() == one.tobytes()


def test_small_batches_stay_on_one_thread_and_training_batches_use_two():
    assert numba_threads.parallel_threads() >= 2  # this machine: 2 cores, GNU OpenMP
    assert input_layer.threads_for(10, 30) == 1  # Nielsen's network: waking a thread costs more
    assert input_layer.threads_for(128, 30) == 1
    assert input_layer.threads_for(128, 100) == numba_threads.parallel_threads()
    assert input_layer.threads_for(128, 800) == numba_threads.parallel_threads()


def _sparse_training_data(seed=0, n=900):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = sparse_matrix(rng, n, 784, blank_row=3)
    for digit in range(10):
        images[labels == digit, digit * 78 : digit * 78 + 20] = 0.9
    half = n * 2 // 3
    return TrainingData(images[:half], labels[:half], images[half:], labels[half:])


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_on_two_cores_gives_the_one_core_weights_bit_for_bit(monkeypatch, optimizer):
    assert 784 * 400 >= optimizers.SPLIT_MIN_SIZE
    config = TrainingConfig(
        hidden_layers=(400,),  # W¹ large enough for Adam to split it (optimizers.SPLIT_MIN_SIZE)
        hidden_activation="relu",
        output_activation="softmax",
        cost="cross_entropy",
        optimizer=optimizer,
        learning_rate=1e-3 if optimizer == "adam" else 0.1,
        dropout=0.2,
        batch_size=64,
        epochs=2,
        seed=5,
    )
    data = _sparse_training_data()
    trained = {}
    for threads in (1, 2):
        monkeypatch.setattr(input_layer, "threads_for", lambda batch, units, t=threads: t)
        network = network_for(config)
        result = train(network, config, data)
        assert result.usable
        trained[threads] = network
    for one, two in zip(
        trained[1].weights + trained[1].biases, trained[2].weights + trained[2].biases
    ):
        assert two.tobytes() == one.tobytes()


def test_batches_beside_the_next_epochs_images_run_on_one_core_with_the_same_weights(monkeypatch):
    """While the next epoch's images are being made, a chunk of batches runs on one thread; on
    two cores, on two threads of its own with BLAS held to one (split_products.py); the weights
    are the same bit for bit (the 512 × 512 product is large enough to be split)."""
    config = TrainingConfig(
        hidden_layers=(512, 512),
        hidden_activation="relu",
        output_activation="softmax",
        cost="cross_entropy",
        optimizer="adam",
        learning_rate=1e-3,
        dropout=0.2,
        augment=True,
        batch_size=128,
        epochs=2,
        seed=5,
    )
    data = _sparse_training_data()
    run_batches = training.run_batches
    trained, threads_seen = {}, {}
    for busy in (False, True):
        seen = threads_seen[busy] = set()

        def recording(*arguments, seen=seen):
            seen.add((arguments[5].inputs.threads, _blas_threads()))
            return run_batches(*arguments)

        monkeypatch.setattr(EpochImages, "busy", lambda self, busy=busy: busy)
        monkeypatch.setattr(core_share.CoreShare, "two_threads_allowed", lambda self: True)
        monkeypatch.setattr(training, "run_batches", recording)
        network = network_for(config)
        assert train(network, config, data).usable
        trained[busy] = network.weights + network.biases
    cores = numba_threads.parallel_threads()  # this machine: 2 cores, and OpenBLAS uses both
    assert threads_seen == {False: {(cores, 1)}, True: {(1, 1)}}
    assert _blas_threads() == cores  # set back after each chunk
    for two, one in zip(trained[False], trained[True]):
        assert one.tobytes() == two.tobytes()


def test_one_core_blocks_on_two_threads_take_turns_and_leave_blas_on_all_its_threads():
    """A block on one thread, then blocks on two threads at once (two trainings), then one on
    this thread while the others are still alive: each holds BLAS to one thread, they never
    overlap, and BLAS gets all its threads back."""
    cores, inside, events, stay = _blas_threads(), [], [], threading.Event()

    def block(name):
        with blas_threads.at_most(1):
            events.append(f"{name} in")
            inside.append(_blas_threads())
            time.sleep(0.05)
            events.append(f"{name} out")
        stay.wait()  # alive after its block, as a training thread is between chunks

    workers = [threading.Thread(target=block, args=(name,)) for name in "ab"]
    for worker in workers:
        worker.start()
    time.sleep(0.2)
    with blas_threads.at_most(1):
        inside.append(_blas_threads())
    stay.set()
    for worker in workers:
        worker.join()
    assert inside == [1, 1, 1]
    assert events in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert _blas_threads() == cores >= 2


def _blas_threads() -> int:
    """How many threads the BLAS libraries loaded may use (all the same number)."""
    (threads,) = {
        library["num_threads"]
        for library in threadpoolctl.threadpool_info()
        if library["user_api"] == "blas"
    }
    return threads


def test_validation_on_two_cores_gives_the_one_core_figures(monkeypatch):
    from trainer.core.evaluation import evaluate

    data = _sparse_training_data(n=2400)
    compressed = sparse_input.compress_rows(data.val_images)  # 800: one evaluation batch
    network = network_for(TrainingConfig(hidden_layers=(512,), seed=3))
    compressed_inputs, threads_given = input_layer.compressed, []

    def recording(*arguments, **keywords):
        inputs = compressed_inputs(*arguments, **keywords)
        threads_given.append(inputs.threads)
        return inputs

    monkeypatch.setattr(input_layer, "compressed", recording)
    on_two = evaluate(network, data.val_images, data.val_labels, compressed=compressed)
    monkeypatch.setattr(input_layer, "threads_for", lambda batch, units: 1)
    on_one = evaluate(network, data.val_images, data.val_labels, compressed=compressed)
    assert threads_given == [numba_threads.parallel_threads(), 1]
    assert on_two == on_one


def test_two_python_threads_can_train_on_both_cores_at_once():
    """The workqueue threading layer aborts the process here; the layer chosen must allow it."""
    script = textwrap.dedent(
        """
        import threading
        import numpy as np
        import trainer, numba
        from trainer.fast import numba_threads, sparse_input

        threads = numba_threads.parallel_threads()
        print(numba.threading_layer(), threads)
        rng = np.random.default_rng(0)
        x = rng.uniform(0, 1, (500, 784)).astype(np.float32)
        x[rng.random(x.shape) < 0.8] = 0
        compressed = sparse_input.compress_rows(x)

        def work(seed):
            rows = np.random.default_rng(seed).permutation(500)[:128].astype(np.int64)
            w = np.ones((784, 256), np.float32)
            out = np.empty((128, 256), np.float32)
            for _ in range(300):
                sparse_input.rows_times_split_by_columns(compressed, rows, w, out, threads)
                sparse_input.add_transposed_times_split_by_pixels(
                    compressed, rows, out, 1e-6, w, threads)

        workers = [threading.Thread(target=work, args=(seed,)) for seed in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        print("done")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    layer, threads = result.stdout.split()[:2]
    assert layer in numba_threads.THREAD_SAFE_LAYERS and int(threads) >= 2
    assert result.stdout.split()[-1] == "done"


def _without_thread_settings() -> dict:
    """This process's environment without the thread settings trainer makes (nor the user's)."""
    names = set(numba_threads.THREAD_ENVIRONMENT)
    return {k: v for k, v in os.environ.items() if k not in names}


def test_openmp_threads_spin_briefly_after_a_parallel_region_then_sleep():
    """What ``numba_threads.THREAD_ENVIRONMENT`` asks of libgomp, seen in the process's CPU time:
    after a parallel region its idle thread keeps a core busy for a moment (so the next region of
    a batch finds it awake) and then sleeps (so that it takes nothing from the image thread or
    the app while training pauses). ``passive`` alone spins not at all, the default or ``active``
    for 6 ms to minutes."""
    script = textwrap.dedent(
        """
        import os, time
        import numpy as np
        import trainer
        from numba import njit, prange

        @njit(parallel=True)
        def region(a):
            for i in prange(2):
                a[i] += 1.0

        def cpu_seconds_while_asleep(seconds):
            started = time.process_time()
            time.sleep(seconds)
            return time.process_time() - started

        a = np.zeros(2)
        region(a)  # compiles, and starts OpenMP's threads
        time.sleep(0.5)
        rounds = []
        for _ in range(5):
            region(a)
            just_after = cpu_seconds_while_asleep(0.3)
            rounds.append((just_after, cpu_seconds_while_asleep(0.3)))
        spun = max(just_after - later for just_after, later in rounds)
        longest = max(just_after for just_after, later in rounds)
        print(os.environ["GOMP_SPINCOUNT"], spun, longest)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env=_without_thread_settings(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    spin_count, spun, longest = result.stdout.split()
    assert spin_count == numba_threads.THREAD_ENVIRONMENT["GOMP_SPINCOUNT"]
    # Some round shows the spin (the scheduler may hide it in one: seen once in the whole suite) ...
    assert float(spun) > 0.3e-3  # 100 000 turns: ~2 ms here; without a spin under 0.1 ms
    assert float(longest) < 0.1  # ... and none spins on: the threads then sleep
