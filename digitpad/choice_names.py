"""How the trainer's names for settings' values are shown on screen ("Cross-entropy" for
``cross_entropy``): in the Retrain dialog's lists and in a model's description."""

#: What the choices are called on screen; the trainer's own names are in each item's tooltip.
CHOICE_NAMES = {
    "sigmoid": "Sigmoid",
    "tanh": "tanh",
    "relu": "ReLU",
    "softmax": "Softmax",
    "quadratic": "Quadratic (squared error)",
    "cross_entropy": "Cross-entropy",
    "normal": "Normal N(0, 1) (Nielsen)",
    "he": "He (for ReLU)",
    "glorot": "Glorot (Keras)",
    "sgd": "SGD",
    "momentum": "SGD with momentum",
    "adam": "Adam",
    "constant": "Constant",
    "exponential": "Exponential decay",
    "cosine": "Cosine",
}


def choice_name(value: str) -> str:
    """How a setting's value is shown: "Cross-entropy" for ``cross_entropy``."""
    return CHOICE_NAMES.get(value, value.replace("_", " ").capitalize())
