"""`fit`, `predict` and `score`: the neural-network-basics guide's training API for any model.

    history = nn.fit(model, nn.BCELoss(), nn.Adam(model.parameters(), lr=0.01),
                     X_train, y_train, epochs=100, batch_size=32)
    history.loss[-1], history.accuracy[-1]
    probabilities = nn.predict(model, X_test)
    nn.score(model, X_test, y_test)          # accuracy, or R² for regression

`fit` is the ordinary loop (zero_grad, forward, loss, backward, step) over
mini-batches, with a tqdm bar over epochs when tqdm is installed and stderr
is a terminal.

Which metric: with `metric=None`, `fit` reports accuracy when the loss is a
classification loss (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss or their
functions; with logits the class is output > 0) and R² when it is MSE or L1.
For any other loss, and in `score` (which sees no loss), the targets decide:
accuracy when they are integers, booleans or only 0s and 1s (class labels,
one-hot rows), R² otherwise. Accuracy takes the argmax of several outputs
and thresholds a single one. Pass `metric="accuracy"`
or `"r2"` to choose yourself.
"""
import sys

import numpy as np

from autograd_lite import Value, default_generator, no_grad
from autograd_lite import compile as _compile

from . import losses
from .lr_scheduler import ReduceLROnPlateau

__all__ = ["History", "fit", "predict", "score", "accuracy", "r2_score"]

class History(dict):
    """Per-epoch records of a `fit` run, as a dict and as attributes.

    Keys: "loss" (mean training loss of each epoch), "lr" (group 0's learning
    rate during the epoch), the metric ("accuracy" or "r2", if any) and, with
    validation data, "val_loss" and "val_accuracy"/"val_r2".
    `history.loss` is `history["loss"]`.
    """

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"History has no {name!r}; it has {sorted(self)}") from None


# --- metrics ----------------------------------------------------------------------------
def _as_array(x):
    return x.data if isinstance(x, Value) else np.asarray(x)


def accuracy(outputs, y, threshold=0.5):
    """Fraction of correct predictions.

    Several output columns: the class is the argmax. One output (shape (N,) or
    (N, 1)): the class is 1 where the output is above `threshold` (0.5 for
    probabilities; use 0.0 for logits).
    """
    outputs, y = _as_array(outputs), _as_array(y)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = outputs.argmax(axis=1)
        y = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y  # one-hot targets
    else:
        predicted = (outputs > threshold).astype(int)
    if predicted.size != y.size:
        raise ValueError(f"accuracy: {predicted.size} predictions (outputs of shape "
                         f"{outputs.shape}) for {y.size} targets (shape {y.shape})")
    return float(np.mean(predicted.reshape(-1) == y.reshape(-1)))


def r2_score(outputs, y):
    """Coefficient of determination 1 - SS_res / SS_tot (averaged over output columns,
    as scikit-learn's r2_score; 1.0 for a perfect fit of constant targets, else 0.0)."""
    outputs, y = _as_array(outputs), _as_array(y)
    if outputs.shape != y.shape:
        raise ValueError(f"r2_score: outputs of shape {outputs.shape} and targets of shape "
                         f"{y.shape} must be the same")
    outputs = outputs.reshape(len(outputs), -1).astype(np.float64)
    y = y.reshape(len(y), -1).astype(np.float64)
    ss_res = np.sum((y - outputs) ** 2, axis=0)
    ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
    safe_tot = np.where(ss_tot > 0, ss_tot, 1.0)
    constant = np.where(ss_res == 0, 1.0, np.where(np.isnan(ss_res), np.nan, 0.0))  # NaN stays NaN
    per_column = np.where(ss_tot > 0, 1 - ss_res / safe_tot, constant)
    return float(np.mean(per_column))


def _metric_function(metric, threshold):
    if metric == "accuracy":
        return lambda outputs, y: accuracy(outputs, y, threshold)
    if metric == "r2":
        return r2_score
    raise ValueError(f"unknown metric {metric!r}; use 'accuracy', 'r2' or None (automatic)")


# the metric each known loss implies, and the threshold for one-output classifiers
_LOSS_METRICS = {
    losses.binary_cross_entropy: ("accuracy", 0.5), losses.BCELoss: ("accuracy", 0.5),
    losses.binary_cross_entropy_with_logits: ("accuracy", 0.0),
    losses.BCEWithLogitsLoss: ("accuracy", 0.0),
    losses.cross_entropy: ("accuracy", 0.5), losses.CrossEntropyLoss: ("accuracy", 0.5),
    losses.mse_loss: ("r2", 0.5), losses.MSELoss: ("r2", 0.5),
    losses.l1_loss: ("r2", 0.5), losses.L1Loss: ("r2", 0.5),
}


def _loss_metric(loss_fn):
    """(metric, threshold) for a known loss function or loss module, else (None, 0.5)."""
    return _LOSS_METRICS.get(loss_fn, _LOSS_METRICS.get(type(loss_fn), (None, 0.5)))


# --- predict and score --------------------------------------------------------------------
def _batches(n, batch_size, order=None):
    order = np.arange(n) if order is None else order
    size = max(n, 1) if batch_size is None else batch_size
    return [order[start:start + size] for start in range(0, n, size)]


def _check_batch_size(name, batch_size):
    if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                   or batch_size < 1):
        raise ValueError(f"{name}: batch_size must be a positive integer or None, "
                         f"got {batch_size!r}")


def _outputs(model, X, batch_size):
    """The model's outputs on X as one numpy array, without recording a graph."""
    with no_grad():
        outputs = [_as_array(model(X[index])) for index in _batches(len(X), batch_size)]
    return np.concatenate(outputs) if outputs else np.empty((0,))


def _in_eval_mode(model, work):
    """Run `work()` with the model in eval mode, restoring its previous mode after."""
    was_training = getattr(model, "training", None)
    if was_training is not None:
        model.eval()
    try:
        return work()
    finally:
        if was_training:
            model.train()


def predict(model, X, batch_size=None):
    """The model's outputs on X as a numpy array: eval mode, no graph recorded.

    Raw outputs (probabilities, logits or values); for class labels use
    `predict(...) > 0.5` or `.argmax(axis=1)`. The model's train/eval mode is
    restored afterwards.
    """
    _check_batch_size("predict", batch_size)
    X = _as_array(X)
    return _in_eval_mode(model, lambda: _outputs(model, X, batch_size))


def _auto_metric(y):
    """Targets that are integers, booleans or only 0s and 1s (labels, one-hot) mean a classifier."""
    y = _as_array(y)
    return "accuracy" if y.dtype.kind in "iub" or np.isin(y, (0, 1)).all() else "r2"


def score(model, X, y, metric=None, threshold=0.5, batch_size=None):
    """Accuracy for classifiers, R² for regression (see the module docstring for the choice).

    `threshold` turns a single output into a class (0.5 for probabilities,
    0.0 for a model that outputs logits).
    """
    outputs = predict(model, X, batch_size)
    metric = _auto_metric(y) if metric is None else metric
    return _metric_function(metric, threshold)(outputs, y)


# --- fit ----------------------------------------------------------------------------------
def _progress_bar(epochs, progress):
    """A tqdm bar over the epochs, or a plain range when off, not on a terminal, or no tqdm."""
    if progress and sys.stderr.isatty():
        try:
            from tqdm import tqdm
        except ImportError:
            return None, range(epochs)
        bar = tqdm(range(epochs), desc="fit", unit="epoch")
        return bar, bar
    return None, range(epochs)


def _scalar_loss(loss):
    if not isinstance(loss, Value) or loss.size != 1:
        raise ValueError(f"fit: loss_fn must return a single-number Value (reduction 'mean' "
                         f"or 'sum'), got {type(loss).__name__} of shape {np.shape(loss)}")
    return loss


def _validation(model, loss_fn, validation_data, batch_size, metric_fn):
    """Loss and metric on (X_val, y_val) in eval mode."""
    X_val, y_val = validation_data
    y_val = _as_array(y_val)
    outputs = predict(model, X_val, batch_size)
    with no_grad():
        loss = _scalar_loss(loss_fn(Value(outputs, requires_grad=False), y_val)).item()
    return loss, metric_fn(outputs, y_val)


def _forward_and_loss(model, loss_fn):
    """The step `fit` runs on a batch: (the model's outputs, the loss)."""
    def step(inputs, targets):
        output = model(inputs)
        return output, _scalar_loss(loss_fn(output, targets))
    return step


def fit(model, loss_fn, optimizer, X, y, epochs, batch_size=None, shuffle=True, scheduler=None,
        validation_data=None, progress=True, rng=None, metric=None, compile=False):
    """Train `model` on (X, y) for `epochs` passes and return a `History`.

    X and y are numpy arrays (or Values) with the samples along the first axis.
    Each mini-batch of `batch_size` samples (None: all of them, full-batch
    gradient descent) runs zero_grad, forward, `loss_fn(outputs, targets)`,
    backward and `optimizer.step()`. Samples are reshuffled every epoch when
    `shuffle` (with `rng`: a np.random.Generator or a seed; default the
    library's generator, see `autograd_lite.manual_seed`).

    `scheduler` steps once per epoch; a `ReduceLROnPlateau` gets the epoch's
    validation loss (training loss without validation data).
    `validation_data=(X_val, y_val)` is scored after every epoch in eval mode.
    `metric`: "accuracy", "r2", or None to choose from the loss (module docstring).
    `history.loss` is each epoch's batch losses averaged, weighted by batch
    size (for a mean-reduced loss: the mean loss over the samples); training
    metrics come from the same forward passes (so they mix the model's states
    during the epoch, as Keras's do). `progress=False` keeps it silent.
    `compile=True` runs each step through `autograd_lite.compile` (traced once per batch
    shape and train/eval mode, then replayed: the same numbers, faster on small networks).
    """
    X, y = _as_array(X), _as_array(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} samples but y has {len(y)}")
    if len(X) == 0:
        raise ValueError("fit: no training samples")
    if not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    _check_batch_size("fit", batch_size)
    loss_metric, threshold = _loss_metric(loss_fn)
    metric = metric or loss_metric  # None: decided from the data after the first epoch
    if metric is not None:
        _metric_function(metric, threshold)  # reject an unknown name before training
    rng = rng if isinstance(rng, np.random.Generator) else (
        default_generator() if rng is None else np.random.default_rng(rng))

    history = History(loss=[], lr=[])
    if validation_data is not None:
        history["val_loss"] = []
    step = _forward_and_loss(model, loss_fn)
    step = _compile(step) if compile else step
    bar, epoch_range = _progress_bar(epochs, progress)
    try:
        for _ in epoch_range:
            history["lr"].append(optimizer.param_groups[0]["lr"])
            if hasattr(model, "train"):
                model.train()
            order = rng.permutation(len(X)) if shuffle else None
            total, seen, outputs, targets = 0.0, 0, [], []
            for index in _batches(len(X), batch_size, order):
                optimizer.zero_grad()
                output, loss = step(X[index], y[index])
                loss.backward()
                optimizer.step()
                total += loss.item() * len(index)
                outputs.append(_as_array(output))
                targets.append(y[index])
                seen += len(index)
                if bar is not None:
                    bar.set_postfix(loss=f"{total / seen:.4g}", refresh=False)
            history["loss"].append(total / len(X))
            outputs, targets = np.concatenate(outputs), np.concatenate(targets)
            metric = metric or _auto_metric(targets)
            metric_fn = _metric_function(metric, threshold)
            history.setdefault(metric, []).append(metric_fn(outputs, targets))
            watched = history["loss"][-1]
            if validation_data is not None:
                val_loss, val_metric = _validation(model, loss_fn, validation_data, batch_size,
                                                   metric_fn)
                history["val_loss"].append(val_loss)
                history.setdefault("val_" + metric, []).append(val_metric)
                watched = val_loss
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(watched)
            elif scheduler is not None:
                scheduler.step()
    finally:
        if bar is not None:
            bar.close()
    return history
