"""The command lines: ``digitpad-train`` (``train_cli.py``), ``digitpad-eval`` (``eval_cli.py``),
and what both share (``terminal.py``)."""
