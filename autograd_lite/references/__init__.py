"""The source documents' networks and their hand-derived gradients, in plain numpy.

One module per document in `shared/seeds/`:

- `cosine_post`  "Neural Networks I: First Network from Scratch" (1-5-1 tanh network);
- `nn_basics`    "Neural Network Basics" (L-layer network, two implementations
                 and a formula section);
- `sine_readme`  the sin(x) approximator README (1-30-1 tanh network, MSE);
- `slides`       "An Introduction to Neural networks" (a neuron with binary
                 cross-entropy, and a convolution).

Each module holds the document's forward pass, its backward pass transcribed
as written — mistakes included, never silently fixed — and, where a formula is
not the gradient of the loss the document reports, a corrected one beside it.
Every function's docstring quotes the line it implements. Each module also
builds the reported loss from `autograd_lite` ops (`engine_*` functions), so
the tests and `check_gradients` can compare the hand derivation with the engine.
"""
from . import cosine_post, nn_basics, sine_readme, slides

__all__ = ["cosine_post", "nn_basics", "sine_readme", "slides"]
