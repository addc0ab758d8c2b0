"""Training's batches keep to one thread while other programs take the cores
(trainer/fast/core_share.py), judged from the share of a core the training thread got."""

import numpy as np
from test_two_cores import _sparse_training_data

from trainer.config import TrainingConfig
from trainer.core import training
from trainer.core.training import network_for, train
from trainer.data.epoch_images import EpochImages
from trainer.fast import core_share, numba_threads


class _Clocks:
    """A wall clock and a CPU clock that a test moves by hand."""

    def __init__(self):
        self.wall = self.cpu = 0.0

    def run(self, seconds: float, share: float) -> None:
        self.wall += seconds
        self.cpu += seconds * share


def _chunk(share_of_cores, clocks, seconds, share, on_two_threads):
    share_of_cores.start()
    clocks.run(seconds, share)
    share_of_cores.stop(on_two_threads)


def test_a_busy_chunk_on_two_threads_keeps_the_next_ones_on_one_until_the_retry():
    clocks = _Clocks()
    cores = core_share.CoreShare(clock=lambda: clocks.wall, cpu_clock=lambda: clocks.cpu)
    assert cores.two_threads_allowed()
    _chunk(cores, clocks, 0.1, 0.99, on_two_threads=True)
    assert cores.two_threads_allowed()
    _chunk(cores, clocks, 0.1, 0.5, on_two_threads=True)  # other programs took the cores
    assert not cores.two_threads_allowed()
    # Chunks on one thread prove nothing: beside one busy program they get their whole core.
    _chunk(cores, clocks, 0.1, 1.0, on_two_threads=False)
    assert not cores.two_threads_allowed()
    _chunk(cores, clocks, core_share.RETRY_SECONDS - 0.3, 0.5, on_two_threads=False)
    assert not cores.two_threads_allowed()
    _chunk(cores, clocks, 0.2, 1.0, on_two_threads=False)
    assert cores.two_threads_allowed()  # the retry
    _chunk(cores, clocks, 0.1, 0.55, on_two_threads=True)  # still busy
    assert not cores.two_threads_allowed()
    clocks.run(core_share.RETRY_SECONDS, 1.0)
    _chunk(cores, clocks, 0.1, 0.95, on_two_threads=True)  # the cores are free again
    assert cores.two_threads_allowed()


def test_the_share_is_the_training_threads_own_cpu_time():
    cores = core_share.CoreShare()
    cores.start()
    busy_until = core_share.time.perf_counter() + 0.05
    while core_share.time.perf_counter() < busy_until:  # computing: a whole core
        pass
    cores.stop(on_two_threads=True)
    assert cores.two_threads_allowed()
    cores.start()
    core_share.time.sleep(0.05)  # off the core
    cores.stop(on_two_threads=True)
    assert not cores.two_threads_allowed()


def test_training_on_busy_cores_runs_its_batches_on_one_thread_with_the_same_weights(
    monkeypatch,
):
    config = TrainingConfig(
        hidden_layers=(512,),
        hidden_activation="relu",
        output_activation="softmax",
        cost="cross_entropy",
        optimizer="adam",
        learning_rate=1e-3,
        augment=True,
        batch_size=128,
        epochs=2,
        seed=4,
    )
    data = _sparse_training_data()
    monkeypatch.setattr(EpochImages, "busy", lambda self: False)
    run_batches, threads_given = training.run_batches, []

    def recording(*arguments):
        threads_given.append(arguments[5].inputs.threads)
        return run_batches(*arguments)

    monkeypatch.setattr(training, "run_batches", recording)
    cores, trained = numba_threads.parallel_threads(), []
    for cpu_clock in (core_share.time.perf_counter, lambda: 0.0):  # free cores, then busy ones

        class Measured(core_share.CoreShare):
            def __init__(self, cpu_clock=cpu_clock):
                super().__init__(cpu_clock=cpu_clock)

        monkeypatch.setattr(core_share, "CoreShare", Measured)
        threads_given.clear()
        network = network_for(config)
        assert train(network, config, data).usable
        trained.append(network.weights + network.biases)
        if len(trained) == 1:
            assert set(threads_given) == {cores}
        else:  # the first chunk finds the cores busy, and the next ones keep to one thread
            assert threads_given[0] == cores and threads_given[1:3] == [1, 1]
    for free, busy in zip(*trained):
        np.testing.assert_array_equal(free, busy)
