"""Where the app's model comes from and where a kept model goes.

* The user's kept model lives at ``trainer.paths.user_data_dir() / "model.npz"``. Keeping a model
  writes it there with ``trainer.model_io.save_model``, which is atomic (temp file, fsync, rename),
  so a crash never leaves half a model behind.
* At start-up the app loads, in order: the model given with ``--model`` (if any), else the user's
  kept model, else the shipped one. A corrupt or unreadable file never crashes the app: it gives a
  warning string and the next candidate is tried, down to the shipped model.
* The shipped model (``digitpad.assets.shipped_model_path()``) is only ever read.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from digitpad.assets import shipped_model_path
from digitpad.choice_names import choice_name
from trainer.named_values import NamedValue

log = logging.getLogger(__name__)

USER_MODEL_NAME = "model.npz"


class ModelSource(NamedValue):
    """Where the model in use came from."""

    EXPLICIT = "explicit"  # a file named with --model or opened from the File menu
    USER = "user"  # the model the user kept after retraining
    SHIPPED = "shipped"  # assets/model.npz
    NONE = "none"

    @property
    def phrase(self) -> str:
        """The source in a sentence: "your kept model"."""
        return _SOURCE_WORDS[self][0]

    @property
    def mark(self) -> str:
        """What the window adds after a model's name: "shipped", or nothing."""
        return _SOURCE_WORDS[self][1]


#: (in a sentence, beside the model's name in the window) for each source
_SOURCE_WORDS = {
    ModelSource.EXPLICIT: ("the model file", ""),
    ModelSource.USER: ("your kept model", "your kept model"),
    ModelSource.SHIPPED: ("the shipped model", "shipped"),
    ModelSource.NONE: ("no model", ""),
}


@dataclass
class LoadedModel:
    """A network with its metadata and where it came from."""

    network: object | None
    metadata: dict = field(default_factory=dict)
    path: Path | None = None
    source: ModelSource = ModelSource.NONE
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.source = ModelSource(self.source)

    @property
    def warning(self) -> str | None:
        """All warnings raised while looking for a loadable model, or ``None``."""
        return "\n".join(self.warnings) if self.warnings else None

    @property
    def name(self) -> str:
        return model_name(self.metadata, self.path, self.source)

    @property
    def test_accuracy(self) -> float | None:
        return model_accuracy(self.metadata)


def user_model_path() -> Path:
    from trainer import paths

    return paths.user_data_dir() / USER_MODEL_NAME


def load_model_file(path: str | os.PathLike[str]) -> tuple[object, dict]:
    """Load one model file; raises ``trainer.model_io.ModelFileError`` (or OSError/ValueError)."""
    from trainer import model_io

    network, metadata = model_io.load_model(Path(path))
    return network, dict(metadata or {})


def _describe(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    return str(reason) if reason else (str(error) or type(error).__name__)


def load_startup_model(explicit: str | os.PathLike[str] | None = None) -> LoadedModel:
    """The model to start with (see the module doc); never raises for a bad model file."""
    warnings: list[str] = []
    candidates: list[tuple[ModelSource, Path]] = []
    if explicit is not None:
        candidates.append((ModelSource.EXPLICIT, Path(explicit).expanduser()))
    user = user_model_path()
    _remove_stale_temporaries(user)
    if user.exists():
        candidates.append((ModelSource.USER, user))
    try:
        candidates.append((ModelSource.SHIPPED, shipped_model_path()))
    except Exception as exc:  # model_io missing or broken: the app still starts, without a model
        warnings.append(f"Cannot locate the shipped model: {_describe(exc)}")
    for source, path in candidates:
        try:
            network, metadata = load_model_file(path)
        except FileNotFoundError:
            warnings.append(f"{_capitalised(source.phrase)} {path} does not exist.")
        except Exception as exc:  # corrupt, truncated, wrong format, unreadable...
            warnings.append(
                f"{_capitalised(source.phrase)} {path} could not be loaded: {_describe(exc)}."
            )
        else:
            if warnings:
                warnings.append(f"Using {source.phrase} {path.name} instead.")
                for w in warnings:
                    log.warning(w)
            return LoadedModel(network, metadata, path, source, warnings)
    warnings.append(
        "No usable model was found: the app can draw but not read digits until you "
        "open or train a model."
    )
    for w in warnings:
        log.warning(w)
    return LoadedModel(None, {}, None, ModelSource.NONE, warnings)


def _remove_stale_temporaries(path: Path) -> None:
    """Clear what a save killed mid-way left beside the kept model (never read as a model)."""
    try:
        from trainer import model_io

        for stale in model_io.remove_stale_temporaries(path):
            log.info("removed %s, left by an interrupted save", stale)
    except Exception as exc:  # tidying up must never stop the app from starting
        log.warning("could not tidy up beside %s: %s", path, exc)


def keep_model(network, metadata: dict) -> Path:
    """Make ``network`` the user's model from now on: saved atomically to :func:`user_model_path`."""
    from trainer import model_io

    path = user_model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    model_io.save_model(network, path, metadata)
    return path


def forget_kept_model() -> bool:
    """Delete the user's kept model so the shipped one is used; True if there was one."""
    path = user_model_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


# ---------------------------------------------------------------------------- reading metadata
def model_accuracy(metadata: dict) -> float | None:
    """The model's MNIST test accuracy (a fraction) from its metadata, or ``None``.

    Models record it as ``metrics.mnist_test_accuracy`` (``digitpad-train`` and the retrain dialog).
    """
    metrics = metadata.get("metrics")
    value = metrics.get("mnist_test_accuracy") if isinstance(metrics, dict) else None
    if isinstance(value, (int, float)) and 0.0 <= value <= 1.0:
        return float(value)
    return None


def model_name(metadata: dict, path: Path | None, source: ModelSource) -> str:
    """The name in the metadata, else the file's name, else what the source is called."""
    name = metadata.get("name")
    if name:
        return str(name)
    if source in (ModelSource.SHIPPED, ModelSource.USER) or path is None:
        return source.phrase
    return path.name


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def architecture_text(network) -> str:
    """E.g. ``784-800-800-10, ReLU hidden, Softmax output, Cross-entropy cost``."""
    return (
        f"{'-'.join(str(n) for n in network.layer_sizes)}, "
        f"{choice_name(network.hidden_activation)} hidden, "
        f"{choice_name(network.output_activation)} output, {choice_name(network.cost)} cost"
    )
