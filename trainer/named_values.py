"""Enumerations whose values are the words saved in files and printed in ``--json`` output.

A member compares equal to its word (``RunStatus.CANCELLED == "cancelled"``), is written to JSON
as that word and prints as it, so saved files and scripts reading the output do not change.
"""

from __future__ import annotations

from enum import Enum


class NamedValue(str, Enum):
    """A str-valued Enum that prints and formats as its value (as 3.11's StrEnum does)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class RunStatus(NamedValue):
    """How a training run ended (``TrainingResult.status``, the app's ``TrainingOutcome.status``)."""

    COMPLETED = "completed"
    EARLY_STOPPED = "early_stopped"  # the best epoch's weights restored
    CANCELLED = "cancelled"  # the network must be discarded
    DIVERGED = "diverged"  # the cost became NaN, infinite or far too large
    FAILED = "failed"  # the app's run ended with an error before or around training

    @property
    def title(self) -> str:
        """What a person is told: "Training diverged"."""
        return _RUN_TITLES[self]


_RUN_TITLES = {
    RunStatus.COMPLETED: "Completed",
    RunStatus.EARLY_STOPPED: "Stopped early",
    RunStatus.CANCELLED: "Cancelled",
    RunStatus.DIVERGED: "Training diverged",
    RunStatus.FAILED: "Training failed",
}
