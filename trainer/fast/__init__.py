"""The speed tricks, fenced off from the learning algorithm they serve.

Kernels compiled with Numba (``kernels.py``), eight-lane vectors kept in registers
(``simd.py``), the input layer's products over the inked pixels only (``sparse_input.py``), and
where Numba caches the compiled code (``numba_cache.py``). Nothing here changes *what* the
network computes; ``tests/`` compares each kernel with a plain NumPy reference.
"""
