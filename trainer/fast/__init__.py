"""The speed tricks, fenced off from the learning algorithm they serve.

Kernels compiled with Numba (``kernels.py``), the input layer's tricks for mostly blank images
(``input_layer.py``: products over the inked pixels only, in ``sparse_input.py``, split over the
cores in training, and plain SGD's step written onto the inked rows of W¹), the other layers'
forward product split over training's threads (``split_products.py``), sixteen-lane vectors kept
in registers (``simd.py``) and buffers that start on a cache line for them (``aligned.py``),
where Numba caches the compiled code (``numba_cache.py``), which threads run its parallel
kernels (``numba_threads.py``) and how many BLAS may use for a while (``blas_threads.py``).
Nothing here changes *what* the network computes; ``tests/`` compares each kernel with a plain
NumPy reference.
"""
