"""What both command-line tools share about the terminal: safe text and one-line endings.

* :func:`printable` — text that came from a file (a model's name, a stroke file's source, an error
  quoting either) is shown with its control characters escaped: an ANSI escape in a model's name
  could otherwise clear the screen and print a fake result, and a lone surrogate would end the
  program with ``UnicodeEncodeError``.
* :func:`run_cli` — the console-script entry: imports the tool itself (NumPy and Numba take a
  while), so a Ctrl-C at any moment, even during those imports or a save, ends with one line and
  status 130, and SIGTERM with one line and status 143, instead of a traceback. Both unwind
  normally, so a save in progress removes its temporary file.

Exit statuses of both tools: 0 done, 1 training diverged (``digitpad-train``), 2 bad arguments or
an unreadable/invalid model or data file, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""
from __future__ import annotations

import importlib
import signal
import sys
import unicodedata

EXIT_OK = 0
EXIT_DIVERGED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM."""


def printable(text, *, one_line: bool = False) -> str:
    """``text`` with control, format and surrogate characters written as Python escapes
    (``\\x1b``, ``\\u202e``, ``\\ud800``); newlines are kept unless ``one_line``."""
    out = []
    for char in str(text):
        if char == "\n" and not one_line:
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            out.append(char.encode("unicode_escape").decode("ascii"))
        else:
            out.append(char)
    return "".join(out)


def _terminate(signum, frame) -> None:
    raise Terminated


def run_cli(prog: str, module_name: str) -> int:
    """Import ``module_name`` and run its ``main()``; see the module doc."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return importlib.import_module(module_name).main()
    except KeyboardInterrupt:
        print(f"{prog}: interrupted (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print(f"{prog}: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED


def train() -> int:
    """The ``digitpad-train`` console script."""
    return run_cli("digitpad-train", "trainer.train_cli")


def evaluate() -> int:
    """The ``digitpad-eval`` console script."""
    return run_cli("digitpad-eval", "trainer.eval_cli")
