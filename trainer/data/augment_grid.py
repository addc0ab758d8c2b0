"""The 28×28 pixel grid the augmentation's compiled kernels share, and the floating-point rule
they are all compiled with.

Images travel through the kernels as flat float32 rows of 784 pixels (row-major 28×28); a
pixel's coordinates are its 0-based ``(row, col)`` centre.

Per-pixel work is float32 loops over all 784 pixels at once (or over rows of the elastic field's
grid), which LLVM vectorises. The kernels allow LLVM one fast-math liberty, ``nsz`` (the sign
of a zero does not matter), and on purpose no ``contract`` or ``reassoc``: with them LLVM fused
and reordered differently when a kernel was compiled in the process than in the copy Numba had
cached, so a first run (empty cache) and a second one augmented a few images differently (by
~1e-6) and trained different models from one seed (``tests/test_cache_reproducibility.py``).
Without them the speed is the same here and each image's arithmetic is fixed.
"""

from __future__ import annotations

#: MNIST puts the intensity-weighted centre of mass of each digit here (0-based row, col).
MNIST_CENTRE = 14.0
SIDE = 28
PIXELS = SIDE * SIDE
#: The fast-math flags of every augmentation kernel that does float work (see above).
FASTMATH = {"nsz"}
