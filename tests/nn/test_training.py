"""fit / predict / score: training really learns, history bookkeeping, progress output, errors."""
import io
import sys

import numpy as np
import pytest

import nn
from autograd_lite import Value, manual_seed

sklearn_datasets = pytest.importorskip("sklearn.datasets")
from sklearn.metrics import r2_score as sklearn_r2  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


@pytest.fixture(scope="module")
def blobs():
    """The guide's two-class, two-feature problem, as two separable Gaussian blobs, scaled."""
    X, y = sklearn_datasets.make_blobs(n_samples=400, centers=2, n_features=2, cluster_std=1.0,
                                       random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y.reshape(-1, 1), test_size=0.25,
                                                        random_state=0)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def guide_mlp(seed=0):
    return nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid",
                  rng=np.random.default_rng(seed))


# --- it learns ------------------------------------------------------------------------------
def test_guide_mlp_learns_the_two_blobs(blobs):
    X_train, X_test, y_train, y_test = blobs
    model = guide_mlp()
    history = nn.fit(model, nn.BCELoss(), nn.SGD(model.parameters(), lr=0.5), X_train, y_train,
                     epochs=300, progress=False, rng=0)
    assert history.loss[-1] < history.loss[0] / 3
    assert nn.score(model, X_test, y_test) >= 0.95
    assert history.accuracy[-1] >= 0.95


def test_linear_logits_model_learns_the_two_blobs_with_minibatches(blobs):
    X_train, X_test, y_train, y_test = blobs
    model = nn.Linear(2, 1, rng=np.random.default_rng(0))
    history = nn.fit(model, nn.BCEWithLogitsLoss(), nn.Adam(model.parameters(), lr=0.05),
                     X_train, y_train.astype(float), epochs=20, batch_size=32, progress=False,
                     rng=0)
    assert nn.score(model, X_test, y_test, threshold=0.0) >= 0.95
    # fit knows the outputs are logits (threshold 0), so its accuracy agrees with score's
    assert history.accuracy[-1] >= 0.95


def test_small_cnn_learns_8x8_digits():
    digits = sklearn_datasets.load_digits()
    X = (digits.images / 16.0).reshape(-1, 1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(X, digits.target, test_size=0.25,
                                                        random_state=0, stratify=digits.target)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10, rng=rng))
    optimizer = nn.Adam(model.parameters(), lr=2e-2)
    history = nn.fit(model, nn.CrossEntropyLoss(), optimizer, X_train, y_train, epochs=8,
                     batch_size=32, scheduler=nn.CosineAnnealingLR(optimizer, T_max=8),
                     progress=False, rng=0)
    assert history.loss[-1] < 0.2
    assert nn.score(model, X_test, y_test) >= 0.95


def test_regression_learns_and_reports_r2():
    X, y = sklearn_datasets.make_regression(n_samples=200, n_features=3, noise=10,
                                            random_state=42)
    X = StandardScaler().fit_transform(X)
    y = StandardScaler().fit_transform(y.reshape(-1, 1))
    model = nn.MLP([3, 5, 5, 1], activation="relu", rng=np.random.default_rng(0))
    history = nn.fit(model, nn.MSELoss(), nn.Adam(model.parameters(), lr=0.02), X, y,
                     epochs=100, progress=False, rng=0)
    assert "r2" in history and "accuracy" not in history
    assert history.r2[-1] > 0.9
    assert nn.score(model, X, y) == pytest.approx(sklearn_r2(y, nn.predict(model, X)))


# --- history ---------------------------------------------------------------------------------
def test_history_lengths_keys_and_validation(blobs):
    X_train, X_test, y_train, y_test = blobs
    model = guide_mlp()
    history = nn.fit(model, nn.BCELoss(), nn.SGD(model.parameters(), lr=0.5), X_train, y_train,
                     epochs=7, batch_size=50, validation_data=(X_test, y_test), progress=False,
                     rng=0)
    assert sorted(history) == ["accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert all(len(values) == 7 for values in history.values())
    assert history.loss is history["loss"]
    # the last validation numbers are those of the trained model on the test set
    assert history.val_accuracy[-1] == nn.score(model, X_test, y_test)
    probabilities = nn.predict(model, X_test)
    expected_loss = nn.binary_cross_entropy(Value(probabilities), y_test).item()
    assert history.val_loss[-1] == pytest.approx(expected_loss, rel=1e-12)
    with pytest.raises(AttributeError, match="History has no 'r2'"):
        history.r2


def test_full_batch_loss_is_the_loss_before_each_step(blobs):
    X_train, _, y_train, _ = blobs
    model = guide_mlp()
    before = nn.binary_cross_entropy(model(X_train), y_train).item()
    history = nn.fit(model, nn.binary_cross_entropy, nn.SGD(model.parameters(), lr=0.5),
                     X_train, y_train, epochs=2, progress=False)
    assert history.loss[0] == pytest.approx(before, rel=1e-12)
    assert "accuracy" in history  # the function form is recognised as well as the module


def test_same_seed_same_run(blobs):
    X_train, _, y_train, _ = blobs
    runs = []
    for _ in range(2):
        model = guide_mlp()
        runs.append(nn.fit(model, nn.BCELoss(), nn.Adam(model.parameters(), lr=0.01), X_train,
                           y_train, epochs=3, batch_size=16, progress=False, rng=5).loss)
    assert runs[0] == runs[1]
    manual_seed(3)  # rng=None draws the shuffles from the library generator
    model = guide_mlp()
    third = nn.fit(model, nn.BCELoss(), nn.Adam(model.parameters(), lr=0.01), X_train, y_train,
                   epochs=3, batch_size=16, progress=False).loss
    assert third != runs[0]


def test_custom_loss_metric_is_chosen_from_the_data(rng):
    X, labels = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    model = nn.Linear(4, 3, rng=rng)
    history = nn.fit(model, lambda out, y: nn.cross_entropy(out, y) * 2.0,
                     nn.SGD(model.parameters(), lr=0.1), X, labels, epochs=2, progress=False)
    assert "accuracy" in history
    history = nn.fit(model, nn.CrossEntropyLoss(), nn.SGD(model.parameters(), lr=0.1), X,
                     labels, epochs=1, progress=False, metric="accuracy")
    assert "accuracy" in history


# --- schedulers in fit --------------------------------------------------------------------------
def test_scheduler_steps_once_per_epoch(blobs):
    X_train, _, y_train, _ = blobs
    model = guide_mlp()
    optimizer = nn.SGD(model.parameters(), lr=1.0)
    history = nn.fit(model, nn.BCELoss(), optimizer, X_train, y_train, epochs=5, batch_size=100,
                     scheduler=nn.StepLR(optimizer, step_size=2, gamma=0.5), progress=False)
    assert history.lr == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_plateau_scheduler_watches_the_validation_loss(blobs):
    X_train, X_test, y_train, y_test = blobs
    seen = []

    class Recording(nn.ReduceLROnPlateau):
        def step(self, metrics):
            seen.append(metrics)
            super().step(metrics)

    model = guide_mlp()
    optimizer = nn.SGD(model.parameters(), lr=0.5)
    history = nn.fit(model, nn.BCELoss(), optimizer, X_train, y_train, epochs=4,
                     validation_data=(X_test, y_test), scheduler=Recording(optimizer),
                     progress=False)
    assert seen == history.val_loss
    history = nn.fit(model, nn.BCELoss(), optimizer, X_train, y_train, epochs=2,
                     scheduler=Recording(optimizer), progress=False)
    assert seen[-2:] == history.loss


# --- progress output -----------------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def small_fit(**kwargs):
    X, y = np.random.default_rng(0).normal(size=(20, 2)), np.zeros((20, 1))
    model = nn.Linear(2, 1)
    return nn.fit(model, nn.MSELoss(), nn.SGD(model.parameters(), lr=0.1), X, y, epochs=3,
                  **kwargs)


def test_progress_false_and_non_terminal_output_print_nothing(capsys):
    small_fit(progress=False)
    small_fit()  # pytest's captured stderr is not a terminal
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_bar_on_a_terminal_shows_the_loss(monkeypatch):
    pytest.importorskip("tqdm")
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    small_fit()
    assert "3/3" in terminal.getvalue() and "loss=" in terminal.getvalue()
    terminal.truncate(0)
    small_fit(progress=False)
    assert terminal.getvalue() == ""


def test_fit_works_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert len(small_fit().loss) == 3
    assert terminal.getvalue() == ""


# --- predict and score ------------------------------------------------------------------------------
def test_predict_uses_eval_mode_without_a_graph_and_restores_the_mode(rng):
    model = nn.Sequential(nn.Linear(3, 8, rng=rng), nn.Dropout(0.5), nn.Linear(8, 2, rng=rng))
    X = rng.normal(size=(10, 3))
    first, second = nn.predict(model, X), nn.predict(model, X, batch_size=3)
    assert isinstance(first, np.ndarray) and first.shape == (10, 2)
    np.testing.assert_allclose(first, second, rtol=1e-12)  # no dropout, batches agree
    assert model.training
    model.eval()
    nn.predict(model, X)
    assert not model.training


def test_score_accuracy_and_r2(rng):
    model = nn.Linear(2, 3, rng=rng)
    X = rng.normal(size=(40, 2))
    outputs = nn.predict(model, X)
    labels = rng.integers(0, 3, size=40)
    assert nn.score(model, X, labels) == np.mean(outputs.argmax(axis=1) == labels)
    assert nn.score(model, X, np.eye(3)[labels]) == nn.score(model, X, labels)  # one-hot
    several = rng.normal(size=(40, 3))  # multi-output regression: R² averaged per column
    assert nn.score(model, X, several) == pytest.approx(sklearn_r2(several, outputs))
    one = nn.Linear(2, 1, rng=rng)
    y = rng.integers(0, 2, size=(40, 1))
    logits = nn.predict(one, X)
    assert nn.score(one, X, y, threshold=0.0) == np.mean((logits > 0) == y)
    assert nn.score(one, X, y.astype(float)) == np.mean((logits > 0.5) == y)  # 0/1 floats
    targets = rng.normal(size=(40, 1))
    assert nn.score(one, X, targets) == pytest.approx(sklearn_r2(targets, logits))
    assert nn.score(one, X, y, metric="r2") == pytest.approx(sklearn_r2(y, logits))


def test_r2_of_constant_targets_follows_scikit_learn():
    assert nn.r2_score(np.ones(4), np.ones(4)) == 1.0
    assert nn.r2_score(np.zeros(4), np.ones(4)) == 0.0


# --- errors --------------------------------------------------------------------------------------
def test_fit_errors_are_clear(rng):
    model = nn.Linear(2, 1, rng=rng)
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    X = rng.normal(size=(10, 2))
    with pytest.raises(ValueError, match="X has 10 samples but y has 9"):
        nn.fit(model, nn.MSELoss(), optimizer, X, np.zeros((9, 1)), epochs=1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        nn.fit(model, nn.MSELoss(), optimizer, X, np.zeros((10, 1)), epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        nn.fit(model, nn.MSELoss(), optimizer, X, np.zeros((10, 1)), epochs=1, metric="f1")
    with pytest.raises(ValueError, match=r"loss_fn must return a single-number Value.*\(10, 1\)"):
        nn.fit(model, nn.MSELoss(reduction="none"), optimizer, X, np.zeros((10, 1)), epochs=1,
               progress=False)
    with pytest.raises(ValueError, match=r"mse_loss: input shape \(10, 1\) and target shape "
                                         r"\(10,\)"):
        nn.fit(model, nn.MSELoss(), optimizer, X, np.zeros(10), epochs=1, progress=False)
