"""Take the digits CNN out of autograd_lite: ONNX Runtime, PyTorch and safetensors.

Trains the slides' digit CNN (examples/digits_cnn.py: two Conv2d → ReLU →
MaxPool2d blocks, then Flatten → Linear) on scikit-learn's 8×8 digits, then
leaves through each of the three doors and scores the same 450 test digits
in each engine:

1. `nn.export_onnx` writes digits_cnn.onnx (open it in Netron to see the
   layers), and ONNX Runtime runs it;
2. `nn.to_torch` gives the same model as a `torch.nn.Sequential`;
3. `nn.save(model, "digits_cnn.safetensors")` writes the weights under
   PyTorch's names, and a CNN written in plain PyTorch loads them with
   `load_state_dict(safetensors.torch.load_file(...))`.

Prints the accuracy in each (all equal; 98.0 % after the full 20 epochs) and
the largest difference between the engines' class scores: ONNX Runtime computes
in float32 (1.1e-5 on scores up to 24), PyTorch in float64 (0 here: at most
round-off). Needs the `export` extra (onnx, onnxruntime, safetensors) and PyTorch.

    python examples/export_model.py [--out out/] [--quick] [--seed 0]
"""
import numpy as np
import onnxruntime
import safetensors.torch
import torch

import nn
from _common import Stopwatch, parse_args, report
from digits_cnn import EPOCHS, digit_cnn, load_data, train


def torch_digit_cnn():
    """The same architecture written directly in PyTorch, as a PyTorch user would."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(32 * 2 * 2, 10)).double()


def accuracy(scores, labels):
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    rng = np.random.default_rng(args.seed)
    X_train, X_test, y_train, y_test = load_data()
    if args.quick:  # as digits_cnn.py's --quick: 600 training images, three epochs
        X_train, y_train = X_train[:600], y_train[:600]
    model = digit_cnn(rng)
    with Stopwatch("train"):
        train(model, X_train, y_train, X_test, y_test, epochs=3 if args.quick else EPOCHS, rng=rng)
    model.eval()
    ours = nn.predict(model, X_test)
    report("accuracy_autograd_lite", accuracy(ours, y_test))

    onnx_path = args.out / "digits_cnn.onnx"
    nn.export_onnx(model, X_test[:1], onnx_path)  # one example: the batch size stays free
    session = onnxruntime.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    in_onnx = session.run(None, {"input": X_test.astype(np.float32)})[0]
    print(f"wrote {onnx_path}")
    report("accuracy_onnxruntime", accuracy(in_onnx, y_test))
    report("max_output_difference_onnxruntime", float(np.abs(in_onnx - ours).max()))

    with torch.no_grad():
        in_torch = nn.to_torch(model)(torch.from_numpy(X_test)).numpy()
    report("accuracy_torch", accuracy(in_torch, y_test))
    report("max_output_difference_torch", float(np.abs(in_torch - ours).max()))

    weights_path = args.out / "digits_cnn.safetensors"
    nn.save(model, weights_path)
    print(f"wrote {weights_path}")
    plain_torch = torch_digit_cnn().eval()
    plain_torch.load_state_dict(safetensors.torch.load_file(str(weights_path)))
    with torch.no_grad():
        from_file = plain_torch(torch.from_numpy(X_test)).numpy()
    report("accuracy_safetensors_in_torch", accuracy(from_file, y_test))


if __name__ == "__main__":
    main()
