"""DigitPad: draw a digit and watch our own neural network (package ``trainer``) read it live.

The PySide6 desktop app. ``digitpad.app`` holds the main window and the ``main()`` entry point;
everything about the network, the data and the stroke function comes from ``trainer``.
"""

# Importing trainer first also points Numba's cache at the user's cache folder before numba loads.
from trainer import __version__

__all__ = ["__version__"]
