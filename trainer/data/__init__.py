"""Everything the network learns from: MNIST (read, verified, downloaded), digits stored as
strokes and the user's own collection, and what training adds to them (augmentation, slashed
zeros, synthesised non-digits, each epoch's images)."""
