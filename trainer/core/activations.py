"""Names of the activations and costs, and the integer codes the compiled kernels use for them.

Kept apart from ``kernels.py`` so that loading a model and predicting with the NumPy forward pass
(``trainer/core/forward.py``, what the app uses at start-up) never imports Numba.
"""

from __future__ import annotations

# Activation codes. SOFTMAX is only valid on the output layer.
SIGMOID = 0
TANH = 1
RELU = 2
SOFTMAX = 3

# Cost codes.
QUADRATIC = 0
CROSS_ENTROPY = 1

ACTIVATIONS = {"sigmoid": SIGMOID, "tanh": TANH, "relu": RELU, "softmax": SOFTMAX}
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu")
OUTPUT_ACTIVATIONS = ("sigmoid", "softmax")
COSTS = {"quadratic": QUADRATIC, "cross_entropy": CROSS_ENTROPY}
