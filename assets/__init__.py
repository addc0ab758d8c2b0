"""Data files shipped with DigitPad: the trained model, the icon and the desktop entry."""
