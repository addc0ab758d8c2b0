"""The network and how it learns, in the order a reader meets them.

``network.py`` (the multilayer perceptron), ``activations.py`` (their names), ``forward.py`` (the
forward pass in plain NumPy), ``backprop.py`` (the gradients: backpropagation's four equations),
``optimizers.py`` (SGD, momentum, Adam), ``training.py`` (epochs and mini-batches), then what is
built on a trained network: ``evaluation.py``, ``verdict.py``, ``attribution.py`` and
``personal.py`` (fine-tuning on one person's drawings). The compiled speed-ups they call live in
``trainer/fast/``.
"""
