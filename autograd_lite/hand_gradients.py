"""Checking a hand-derived gradient against the engine and finite differences.

A learner who derived a backward pass by hand has a numpy function that returns
the loss and the gradients. `check_gradients` runs it, computes the same
gradients twice more — with the engine (from the loss written with
autograd_lite ops) and by central differences — and says, per parameter,
whether the hand version is right and, when it is not, what kind of wrong:

    def hand(w, b):                     # numpy: forward + derivation; x (m, n), y (m,)
        err = x @ w + b - y
        return (err ** 2).mean(), {"w": 2 * x.T @ err / len(x), "b": 2 * err.mean()}

    def loss(w, b):                     # the same loss from Value ops
        return ((x @ w + b - y) ** 2).mean()

    report = check_gradients(hand, loss, {"w": w0, "b": b0})
    print(report)                       # a table, with hints
    report.passed, report["w"].max_abs_error, report["w"].factor

When hand_fn's forward part runs on `Value`s as well (numpy's functions accept
them: `np.tanh`, `np.dot`, `np.mean`, ...), the loss need not be written twice:
`check_gradients(hand, {"w": w0, "b": b0})` runs `hand` on `Value`s and
differentiates the loss it computes itself. Where `Value`s cannot follow hand
(item assignment such as `g[np.arange(n), labels] -= 1`), the error names the
line and asks for loss_fn.

Hints name a constant ratio between the hand and the automatic gradient (a
sign flip, a factor 2 or ½, the batch size N or 1/N), entries that disagree
while the rest agree (typically a missing activation derivative), a missing
key, a transposed gradient and a gradient not summed over the batch.
"""
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from .backprop import grad
from .numerical import numerical_grad
from .value import Value

# Automatic and numerical gradients agree to about eps² (truncation) plus
# rounding/eps; these bounds are far above both for eps ~ 1e-6 in float64.
NUMERIC_RTOL, NUMERIC_ATOL = 1e-4, 1e-6
_TRANSPOSED = "transposed — the right values, the other way round (x.T @ δ vs δ.T @ x)"


@dataclass
class ParameterCheck:
    """One parameter's verdict: errors of hand vs automatic, the worst element, a hint."""
    name: str
    shape: tuple
    passed: bool
    max_abs_error: float = float("nan")
    max_rel_error: float = float("nan")
    worst_index: tuple = ()
    hand: float = float("nan")       # the three gradients at worst_index
    auto: float = float("nan")
    numeric: float = float("nan")
    factor: float = None             # hand / auto when that ratio is one constant (50.0, not
                                     # 49.999999999999986, when within 1e-9 of a simple fraction)
    hand_shape: tuple = None         # the hand gradient's shape; None when hand_fn gave none
    differing: int = 0               # how many entries fail the tolerance
    hint: str = ""
    numeric_agrees: bool = True      # engine vs finite differences (a kink, or loss_fn != hand's loss)


@dataclass
class GradientReport:
    """The result of `check_gradients`: plain data, printed as a table by `str()`."""
    hand_loss: float
    auto_loss: float
    loss_passed: bool
    loss_hint: str
    parameters: dict = field(default_factory=dict)   # name -> ParameterCheck
    notes: list = field(default_factory=list)

    @property
    def passed(self):
        return self.loss_passed and all(p.passed for p in self.parameters.values())

    def __getitem__(self, name):
        return self.parameters[name]

    @staticmethod
    def _row(p):
        """One parameter's table cells; a missing or wrongly shaped hand gradient has no
        errors to show, so one cell says what is wrong instead."""
        if p.hand_shape is None or p.hand_shape != p.shape:
            problem = ("hand gradient missing" if p.hand_shape is None
                       else f"hand shape {p.hand_shape} vs {p.shape}")
            return (p.name, str(p.shape), problem, "NO")
        return (p.name, str(p.shape), f"{p.max_abs_error:.2e}", f"{p.max_rel_error:.2e}",
                str(p.worst_index), f"{p.hand:.6g}", f"{p.auto:.6g}", f"{p.numeric:.6g}",
                "yes" if p.passed else "NO")

    def __str__(self):
        wrong = [p for p in self.parameters.values() if not p.passed]
        head = "PASSED" if self.passed else (
            f"FAILED ({len(wrong)} of {len(self.parameters)} parameters wrong"
            f"{', loss wrong' if not self.loss_passed else ''})")
        lines = [f"gradient check: {head}",
                 f"loss: hand {self.hand_loss:.10g}, engine {self.auto_loss:.10g} "
                 f"{'ok' if self.loss_passed else 'MISMATCH'}"]
        header = ("param", "shape", "max abs err", "max rel err", "worst at", "hand", "auto",
                  "numeric", "ok")
        rows = [header] + [self._row(p) for p in self.parameters.values()]
        full = [row for row in rows if len(row) == len(header)]
        widths = [max(len(row[i]) for row in full) for i in range(len(header))]
        span = sum(widths[2:-1]) + 2 * (len(widths) - 4)  # the error columns, as one cell
        for row in rows:
            cells = zip(row, widths if len(row) == len(header) else widths[:2] + [span, 0])
            lines.append("  ".join(cell.ljust(w) for cell, w in cells).rstrip())
        by_hint = {}  # parameters sharing a hint are listed together
        for p in self.parameters.values():
            if p.hint:
                by_hint.setdefault(p.hint, []).append(p.name)
        hints = ([f"loss: {self.loss_hint}"] if self.loss_hint else []) + [
            f"{', '.join(names)}: {hint}" for hint, names in by_hint.items()] + self.notes
        if hints:
            lines.append("hints:")
            lines += [f"  - {h}" for h in hints]
        return "\n".join(lines)


def check_gradients(hand_fn, loss_fn=None, params=None, *, eps=1e-6, rtol=1e-5, atol=1e-8,
                    batch_size=None):
    """Compare a hand-derived gradient with the engine's and with finite differences.

    Called as check_gradients(hand_fn, params) or check_gradients(hand_fn, loss_fn, params).

    hand_fn(**arrays) -> (loss, {name: gradient}): the learner's numpy forward and
        backward, called with one keyword numpy array (a float64 copy) per parameter.
        Its gradients are always the ones from this numpy call, checked as written.
    loss_fn(**values) -> scalar Value: optional, the same loss written with
        autograd_lite ops, called with one keyword `Value` per parameter. The
        engine differentiates it; central differences (step `eps`) of it give
        the numerical gradient. Without it, hand_fn itself is called with
        `Value`s and the engine differentiates the loss it returns; the
        numerical gradient is then of hand_fn's numpy loss. Where `Value`s cannot
        follow hand_fn, a TypeError names the line and asks for loss_fn.
    params: {name: array}, the point to check at (the second argument when
        loss_fn is left out).
    batch_size: optional; lets a hint name a factor of N or 1/N as the batch size.

    An entry passes when |hand - auto| <= atol + rtol * |auto|; the losses must
    agree to the same tolerance. The numerical gradient is shown beside them;
    where it disagrees with the engine's, a hint says so (the loss has a kink
    there, such as a relu input at exactly 0). Returns a `GradientReport`;
    nothing is raised for a wrong gradient (a hand_fn or loss_fn returning the
    wrong kind of thing raises TypeError or ValueError).
    """
    if params is None and isinstance(loss_fn, Mapping):  # check_gradients(hand_fn, params)
        loss_fn, params = None, loss_fn
    if not isinstance(params, Mapping):
        raise TypeError(f"check_gradients: params must be a {{name: array}} dict, as in "
                        f"check_gradients(hand_fn, params) or check_gradients(hand_fn, loss_fn, "
                        f"params); got {type(params).__name__}")
    if loss_fn is not None and not callable(loss_fn):
        raise TypeError(f"check_gradients: loss_fn must be a function of the parameters "
                        f"returning a scalar Value, got {type(loss_fn).__name__}")
    arrays = {name: np.array(value, dtype=np.float64) for name, value in params.items()}
    result = hand_fn(**{n: a.copy() for n, a in arrays.items()})
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        raise TypeError(f"check_gradients: hand_fn must return (loss, {{name: gradient}}), "
                        f"got {type(result).__name__}")
    hand_loss, hand_grads = result
    if loss_fn is None:  # the engine differentiates hand_fn's own loss, run on Values
        other = "its own loss run on Values"
        auto_loss, auto, numeric = automatic_and_numerical(
            hand_loss_on_values(hand_fn), arrays, eps=eps, numeric_fn=_numpy_loss(hand_fn))
    else:
        other = "loss_fn's"
        auto_loss, auto, numeric = automatic_and_numerical(loss_fn, arrays, eps=eps)
    names = list(arrays)
    hand_loss = float(np.asarray(hand_loss))
    loss_passed = abs(hand_loss - auto_loss) <= atol + rtol * abs(auto_loss)
    loss_hint = "" if loss_passed else (
        f"hand_fn's loss differs from {other}; {_describe_ratio(hand_loss / auto_loss, batch_size)}"
        if auto_loss != 0 else f"hand_fn's loss differs from {other} (which is 0)")
    report = GradientReport(hand_loss, auto_loss, loss_passed, loss_hint)
    for name in names:
        report.parameters[name] = _check_one(name, hand_grads.get(name), auto[name],
                                             numeric[name], rtol, atol, batch_size)
    extra = sorted(set(hand_grads) - set(names))
    if extra:
        report.notes.append(f"hand_fn returned gradients for unknown names {extra} "
                            f"(parameters are {names})")
    return report


def automatic_and_numerical(loss_fn, params, eps=1e-6, numeric_fn=None):
    """(loss, {name: engine gradient}, {name: central-difference gradient}) of
    loss_fn(**{name: Value}) at params ({name: array}), all float64 numpy. The
    central differences are of numeric_fn(**{name: Value}) when given (a number
    or a scalar Value), else of loss_fn."""
    names = list(params)
    values = [Value(np.array(params[n], dtype=np.float64), name=n) for n in names]
    loss = loss_fn(**dict(zip(names, values)))
    if not isinstance(loss, Value) or loss.size != 1:
        raise ValueError(f"check_gradients: loss_fn must return a scalar Value, got "
                         f"{type(loss).__name__} of shape {np.shape(getattr(loss, 'data', loss))}")
    auto = grad(loss, values, allow_unused=True)
    auto = {n: np.zeros(v.shape) if g is None else np.asarray(g.data, dtype=np.float64)
            for n, g, v in zip(names, auto, values)}
    numeric_fn = numeric_fn or loss_fn
    numeric = numerical_grad(lambda *vs: numeric_fn(**dict(zip(names, vs))), values, eps=eps)
    return loss.item(), auto, dict(zip(names, numeric))


# Frames in these folders are the engine's and numpy's, not the learner's; the
# documents' code in references/ counts as the learner's.
_ENGINE_DIR, _NUMPY_DIR = Path(__file__).resolve().parent, Path(np.__file__).resolve().parent
_REFERENCES_DIR = _ENGINE_DIR / "references"
_ASK_FOR_LOSS_FN = ("pass the same loss written with Value ops as loss_fn: "
                    "check_gradients(hand_fn, loss_fn, params)")


def hand_loss_on_values(hand_fn):
    """A loss_fn made from hand_fn: call it with `Value`s and keep the loss it returns,
    so the engine differentiates the learner's own forward code. Raises TypeError
    naming hand_fn's line when `Value`s cannot follow it (its numpy run succeeded,
    so whatever fails here fails because of the `Value`s)."""
    def loss_fn(**values):
        try:
            result = hand_fn(**values)
        except Exception as error:  # noqa: BLE001 - any failure: Values cannot follow this code
            raise TypeError(_unfollowable(error)) from error
        loss = result[0] if isinstance(result, tuple) and result else result
        if not isinstance(loss, Value):
            raise TypeError(f"check_gradients: run on Values, hand_fn returned a loss of type "
                            f"{type(loss).__name__}, not a Value, so its graph cannot be "
                            f"differentiated (did it use .data, float() or np.asarray?); "
                            f"{_ASK_FOR_LOSS_FN}")
        return loss
    return loss_fn


def _numpy_loss(hand_fn):
    """hand_fn's loss computed in numpy from the data of `Value`s: the finite
    differences are then of exactly the learner's numpy code."""
    return lambda **values: hand_fn(**{n: v.data.copy() for n, v in values.items()})[0]


def _learner_frame(error):
    """The innermost traceback frame in the learner's code (not the engine's or numpy's)."""
    def engine_or_numpy(frame):
        path = Path(frame.filename).resolve()
        return (_NUMPY_DIR in path.parents or _ENGINE_DIR in path.parents
                and _REFERENCES_DIR not in path.parents)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not engine_or_numpy(f)]
    return frames[-1] if frames else None


def _unfollowable(error):
    """Why hand_fn cannot run on Values: its line, the error, what to do instead."""
    frame = _learner_frame(error)
    where = ("" if frame is None else
             f' at this line:\n  File "{frame.filename}", line {frame.lineno}, in {frame.name}'
             + (f"\n    {frame.line}" if frame.line else ""))
    line = frame.line if frame is not None and frame.line else ""
    tip = ""
    if "item assignment" in str(error) or re.search(r"\]\s*(?:[-+*/@%]|\*\*|//)?=(?!=)", line):
        tip = ("Item assignment (a[i] = ..., a[i] -= ...) is not an op a Value can record: "
               "build such arrays with np.stack, np.concatenate or np.where. Or p")
    return (f"check_gradients without loss_fn runs hand_fn on Values to differentiate the "
            f"loss it computes, but Values cannot follow hand_fn{where}\n"
            f"{type(error).__name__}: {error}\n{tip or 'P'}{_ASK_FOR_LOSS_FN[1:]}.")


def _check_one(name, hand, auto, numeric, rtol, atol, batch_size):
    check = ParameterCheck(name, auto.shape, passed=False)
    numeric_ok = np.abs(auto - numeric) <= NUMERIC_ATOL + NUMERIC_RTOL * np.abs(numeric)
    check.numeric_agrees = bool(numeric_ok.all())
    if hand is None:
        check.hint = "missing: hand_fn returned no gradient for it"
        return _with_numeric_note(check, numeric_ok)
    hand = np.asarray(hand, dtype=np.float64)
    check.hand_shape = hand.shape
    if hand.shape != auto.shape:
        check.hint = _shape_hint(hand, auto, rtol, atol)
        return _with_numeric_note(check, numeric_ok)
    error = np.abs(hand - auto)
    bad = ~(error <= atol + rtol * np.abs(auto))  # NaN counts as wrong
    worst = np.unravel_index(np.argmax(error / (atol + rtol * np.abs(auto))), auto.shape)
    check.passed = not bad.any()
    check.max_abs_error = float(error.max(initial=0.0))
    scale = np.maximum(np.maximum(np.abs(hand), np.abs(auto)), max(atol, np.finfo(float).tiny))
    check.max_rel_error = float((error / scale).max(initial=0.0))  # entries below atol: absolute
    check.worst_index = tuple(int(i) for i in worst)
    if auto.size:
        check.hand, check.auto, check.numeric = (float(hand[worst]), float(auto[worst]),
                                                 float(numeric[worst]))
    check.differing = int(bad.sum())
    square = hand.ndim == 2 and hand.shape[0] == hand.shape[1]
    if not np.isfinite(hand).all():
        check.hint = f"{int((~np.isfinite(hand)).sum())} of {hand.size} entries are NaN or inf"
    elif not check.passed and square and np.allclose(hand.T, auto, rtol=rtol, atol=atol):
        check.hint = _TRANSPOSED
    elif not check.passed:
        check.factor = _constant_ratio(hand, auto, rtol, atol)
        check.hint = (_describe_ratio(check.factor, batch_size, auto.size > 1)
                      if check.factor is not None else _pattern_hint(hand, auto, bad))
    return _with_numeric_note(check, numeric_ok)


def _with_numeric_note(check, numeric_ok):
    if not numeric_ok.all():
        note = (f"the engine and finite differences disagree on {int((~numeric_ok).sum())} of "
                f"{numeric_ok.size} entries: the loss may not be differentiable there (a relu "
                f"input at 0?), or loss_fn is not a smooth function of this parameter")
        check.hint = f"{check.hint}; {note}" if check.hint else note
    return check


def _constant_ratio(hand, auto, rtol, atol):
    """hand / auto if it is one number for every entry (and 0 where auto is 0), else None."""
    small = np.abs(auto) <= atol
    if small.all() or np.any(np.abs(hand[small]) > atol):
        return None
    ratios = hand[~small] / auto[~small]
    ratio = float(np.median(ratios))
    if ratio != 0 and np.allclose(hand, ratio * auto, rtol=rtol, atol=atol):
        simple = _simple_fraction(ratio)
        return ratio if simple is None else float(simple)
    return None


def _simple_fraction(number):
    """number as a Fraction with a denominator up to 1000 when it is that within 1e-9
    (relative): 49.999999999999986 is 50, 0.33333333333 is 1/3; else None."""
    simple = Fraction(number).limit_denominator(1000)
    return simple if np.isclose(float(simple), number, rtol=1e-9, atol=0) else None


def _describe_ratio(ratio, batch_size, several_entries=True):
    """Name a constant factor hand = ratio × auto the way a learner would look for it."""
    def close(value):
        return np.isclose(ratio, value, rtol=1e-6, atol=0)

    sign = -1 if ratio < 0 else 1
    size = abs(ratio)
    text = f"hand = {ratio:.6g} × auto"
    if close(-1):
        return text + ": a sign flip — (y - ŷ) instead of (ŷ - y)? or gradient ascent's sign?"
    causes = {2: "a factor 2 — the loss has a ½ (e.g. ½·MSE) that the derivation dropped?",
              0.5: "a factor ½ — the derivative of (ŷ - y)² is 2(ŷ - y): the 2 is missing?"}
    if batch_size:
        causes[batch_size] = (f"a factor N = {batch_size} (the batch size) — the loss takes "
                              f"the mean over the batch, the gradient sums over it: missing 1/N?")
        causes[1 / batch_size] = (f"a factor 1/N = 1/{batch_size} — divided by the batch size "
                                  f"twice (once in ∂L/∂ŷ, again in the sums)?")
    for value, cause in causes.items():
        if close(value) or close(-value):
            return f"{text}: {cause}" + (" and a flipped sign" if sign < 0 else "")
    simple = _simple_fraction(size)
    if simple is not None:
        if simple.denominator == 1:
            return (f"{text}: a constant factor {sign * simple.numerator} — if that is your batch "
                    f"size, the gradient sums over the batch where the loss takes the mean")
        if simple.numerator == 1:
            return (f"{text}: a constant factor {'-' if sign < 0 else ''}1/{simple.denominator} "
                    f"— if that is your batch size, you divided by it once too often")
        return f"{text}: a constant factor {sign * simple}"
    if not several_entries:
        return f"{text} (a single entry: no pattern to read)"
    return f"{text}: a constant factor — a scale in the loss (a mean, a ½) differs from the derivation"


def _pattern_hint(hand, auto, bad):
    """For entries that disagree without a common factor."""
    count = f"{int(bad.sum())} of {bad.size} entries differ"
    zero_auto = bad & (auto == 0)
    if bad.sum() < bad.size and zero_auto.any() and zero_auto.sum() == bad.sum():
        return (f"{count}, all where the true gradient is exactly 0 and yours is not: a missing "
                f"activation derivative (relu's is 0 where its input was negative)?")
    zero_hand = bad & (hand == 0)
    if zero_hand.any() and zero_hand.sum() == bad.sum():
        return f"{count}, all where your gradient is 0 and the true one is not: a mask too many?"
    if bad.sum() < bad.size:
        return (f"{count} (the rest agree): an elementwise factor is wrong for some entries — "
                f"a missing activation derivative f'(z)?")
    return (f"{count}, by varying ratios: not a constant factor — a missing or wrong elementwise "
            f"factor such as an activation derivative f'(z)?")


def _shape_hint(hand, auto, rtol, atol):
    text = f"shape {hand.shape} but the parameter's is {auto.shape}"
    if hand.ndim == 2 and hand.T.shape == auto.shape:
        if np.allclose(hand.T, auto, rtol=rtol, atol=atol):
            return f"{text}: {_TRANSPOSED}"
        return text + ": transposed, and the values differ too"
    if hand.ndim == auto.ndim + 1 and hand.shape[1:] == auto.shape:
        summed = np.allclose(hand.sum(axis=0), auto, rtol=rtol, atol=atol)
        return text + (": one gradient per sample — sum them over the batch (axis 0)" if summed
                       else ": one row per sample? the sum over axis 0 is still wrong")
    if hand.size == auto.size:
        return text + ": the same number of entries — reshape it"
    return text
