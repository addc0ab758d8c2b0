"""trainer: DigitPad's learning library — our own multilayer perceptron, backpropagation and SGD.

It knows nothing of Qt and uses no deep-learning framework: NumPy arrays, with the hot loops
compiled by Numba and the matrix products on BLAS.
"""

from trainer.fast.numba_cache import configure_numba_cache
from trainer.fast.numba_threads import configure_numba_threads

configure_numba_cache()
configure_numba_threads()

__version__ = "0.1.0"
