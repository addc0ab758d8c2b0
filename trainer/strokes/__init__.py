"""Strokes become the network's 784 inputs, the way MNIST was made: ``strokes_to_input.py`` is
the API, its steps compiled in ``stroke_kernels.py`` and in plain NumPy in ``stroke_numpy.py``."""
