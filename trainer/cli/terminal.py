"""What both command-line tools share about the terminal: safe text and one-line endings.

* :func:`printable` — text that came from a file (a model's name, a stroke file's source, an error
  quoting either) is shown with its control characters escaped: an ANSI escape in a model's name
  could otherwise clear the screen and print a fake result, and a lone surrogate would end the
  program with ``UnicodeEncodeError``.
* :func:`run_cli` — the console-script entry: imports the tool itself (NumPy and Numba take a
  while), so a Ctrl-C at any moment, even during those imports or a save, ends with one line and
  status 130, and SIGTERM with one line and status 143, instead of a traceback. The signal is
  handled by removing the temporary file of a save in progress (``atomic_write.temporaries``) and
  ending the process at once: unwinding with ``KeyboardInterrupt`` instead could pass through
  Numba's compiler (which crashed with SIGSEGV when interrupted there) or be swallowed by a
  callback (the run then went on and ended with status 0).

Exit statuses of both tools: 0 done, 1 training diverged (``digitpad-train``), 2 bad arguments or
an unreadable/invalid model or data file, 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import sys
import unicodedata

EXIT_DIVERGED = 1
EXIT_BAD_INPUT = 2


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


def _handle(prog: str, signum: int) -> None:
    """Install a handler for ``signum`` that says one line, removes the temporary file of a save in
    progress and ends the process with 128 + the signal's number."""
    said = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}[signum]

    def end(received, frame) -> None:
        from trainer.atomic_write import temporaries

        for path in list(temporaries):
            with contextlib.suppress(OSError):
                os.unlink(path)
        print(f"{prog}: {said}", file=sys.stderr, flush=True)
        os._exit(128 + received)

    signal.signal(signum, end)


def run_cli(prog: str, module_name: str) -> int:
    """Import ``module_name`` and run its ``main()``; see the module doc."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        _handle(prog, signum)
    return importlib.import_module(module_name).main()


def train() -> int:
    """The ``digitpad-train`` console script."""
    return run_cli("digitpad-train", "trainer.cli.train_cli")


def evaluate() -> int:
    """The ``digitpad-eval`` console script."""
    return run_cli("digitpad-eval", "trainer.cli.eval_cli")
