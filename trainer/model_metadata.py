"""The metadata record saved beside a trained model's weights (``model_io.save_model``).

It says how the model was made (the trainer's and the preprocessing's versions, every training
setting, the run's status and history) and how well it does, and which MNIST files it learnt from.
``digitpad-train`` and the app's Retrain both write it.
"""

from __future__ import annotations

from trainer import __version__
from trainer.config import TrainingConfig
from trainer.core.training import TrainingResult
from trainer.data.mnist import MnistData
from trainer.strokes.strokes_to_input import PREPROCESSING_VERSION


def model_metadata(
    config: TrainingConfig,
    result: TrainingResult,
    test,
    mnist: MnistData,
    seconds: float,
    *,
    name: str,
    preset: str,
) -> dict:
    """The metadata record saved with a trained model (``digitpad-train`` and the app alike).

    ``test`` is the ``Evaluation`` of the trained network on MNIST's test set.
    """
    return {
        "name": name,
        "trainer_version": __version__,
        "preprocessing_version": PREPROCESSING_VERSION,
        "training": {
            **config.to_dict(),
            "preset": preset,
            "seconds": round(seconds, 1),
            "status": result.status,
        },
        "metrics": {
            "mnist_test_accuracy": test.accuracy,
            "mnist_test_loss": test.loss,
            "val_accuracy": result.epochs[-1].val_accuracy if result.epochs else None,
        },
        "history": [record.to_dict() for record in result.epochs],
        "mnist_sha256": dict(mnist.sha256),
    }
