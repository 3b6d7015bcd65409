"""The benchmark harness runs end to end in its tiny mode (no timing assertions).

It proves each engine does the same math: the final losses of ours and the
hand-written numpy reference agree on every workload they share.
"""
import math
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from benchmarks import run, workloads  # noqa: E402


QUICK_WORKLOADS = ["1", "2", "3", "4", "5", "6", "7", "8", "4b256"]


@pytest.fixture(scope="module")
def quick_report():
    return run.measure(QUICK_WORKLOADS, ["ours", "numpy"], repeat=1, quick=True,
                       log=lambda line: None)


def _final(report, workload, engine):
    return next(r for r in report["runs"] if r["workload"] == workload and r["engine"] == engine)


def test_every_workload_runs_on_ours_and_numpy(quick_report):
    for workload in QUICK_WORKLOADS:
        for engine in ("ours", "numpy"):
            run_ = _final(quick_report, workload, engine)
            assert "error" not in run_, (workload, engine, run_.get("error"))
            assert len(run_["times"]) == 1 and run_["times"][0] > 0


def test_ours_and_numpy_reach_the_same_final_numbers(quick_report):
    for workload in QUICK_WORKLOADS:
        ours, ref = _final(quick_report, workload, "ours"), _final(quick_report, workload, "numpy")
        for key, value in ref["result"].items():
            assert math.isclose(ours["result"][key], value, rel_tol=1e-4), (workload, key)


def test_variants_cover_nn_scalar_demo_and_version_check(quick_report):
    engines = {(r["workload"], r["engine"]) for r in quick_report["runs"]}
    assert ("6", "ours-vec") in engines and ("8", "ours-nocheck") in engines
    for workload in ("1", "4"):  # the nn-layer version of the same network
        assert math.isclose(_final(quick_report, workload, "ours-nn")["result"]["loss"],
                            _final(quick_report, workload, "ours")["result"]["loss"], rel_tol=1e-5)
    assert _final(quick_report, "8", "ours-nocheck")["result"] == \
        _final(quick_report, "8", "ours")["result"]


def test_peak_memory_is_measured_for_workloads_4_and_5(quick_report):
    for workload in workloads.MEMORY_WORKLOADS:
        assert _final(quick_report, workload, "ours")["tracemalloc_peak"] > 0


def test_markdown_has_the_tables_and_a_verdict_per_target(quick_report):
    text = run.markdown(quick_report)
    assert "| 4 | ours/numpy ≤ 1.1 |" in text and "Scaling of workload 4" in text
    assert "Version-counter check, workload 8" in text
    verdicts = [line for line in text.splitlines() if line.endswith(("PASS |", "MISS |"))]
    assert len(verdicts) == 2  # workload 4's time and memory: numpy is the only baseline here


def test_missing_engine_is_skipped_with_a_note(monkeypatch):
    monkeypatch.setitem(run.ENGINES, "absent", "no_such_engine_module")
    report = run.measure(["8"], ["absent"], repeat=1, quick=True, log=lambda line: None)
    assert report["runs"] == [] and "absent" in report["skipped"]
    assert "Skipped engine absent" in run.markdown(report)


def test_a_failing_engine_is_reported_not_raised():
    # micrograd's recursive topological sort overflows the stack on workload 7's chain
    pytest.importorskip("micrograd")
    report = run.measure(["7"], ["micrograd"], repeat=1, quick=False, log=lambda line: None)
    assert "RecursionError" in _final(report, "7", "micrograd")["error"]


def test_command_line_rejects_unknown_names():
    with pytest.raises(SystemExit):
        run.main(["--workloads", "99"])


def test_version_check_comparison_removes_only_the_check():
    from benchmarks import version_check
    checked, unchecked = version_check.compare(rounds=2, iterations=20)
    assert checked > 0 and unchecked > 0
    # outside the comparison the engine's check is back in place
    from autograd_lite import Value
    x = Value([1.0, 2.0])
    y = (x * x).sum()
    x.data = x.data + 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        y.backward()


def test_rounds_interleave_engines_and_pool_their_runs(monkeypatch):
    spawned = []

    def fake_spawn(args, timeout):
        spawned.append(args[1])
        return {"times": [float(len(spawned))], "result": {"loss": 1.0}, "rss_delta": 0}

    monkeypatch.setattr(run, "_spawn", fake_spawn)
    monkeypatch.setattr(run, "_variants", lambda engine: {engine: ["overhead"]})
    report = run.measure(["8"], ["ours", "numpy"], repeat=1, quick=True, rounds=3,
                         memory=False, log=lambda line: None)
    assert spawned == ["ours", "numpy"] * 3  # the engines take turns, round after round
    assert _final(report, "8", "ours")["times"] == [1.0, 3.0, 5.0]
    assert _final(report, "8", "numpy")["times"] == [2.0, 4.0, 6.0]


def test_an_error_in_any_round_is_kept():
    run_ = {"workload": "8", "engine": "ours", "times": [1.0], "result": {}, "rss_delta": 0}
    run._merge(run_, {"error": "RuntimeError: boom"})
    assert run_["error"] == "RuntimeError: boom" and "times" not in run_


def test_a_target_row_judges_the_medians_and_shows_the_fastest_runs_too():
    runs = [{"workload": "1", "engine": "ours", "times": [1.0, 3.0, 2.0], "result": {}},
            {"workload": "1", "engine": "torch", "times": [4.0, 5.0, 2.5], "result": {}}]
    assert run._target_rows(runs) == ["| 1 | ours/torch ≤ 0.6 | 0.50 | 0.40 | PASS |"]


def test_a_failed_job_is_not_spawned_again_in_later_rounds(monkeypatch):
    spawned = []

    def fake_spawn(args, timeout):
        spawned.append(args[1])
        if args[1] == "micrograd":
            return {"error": "RecursionError: maximum recursion depth exceeded"}
        return {"times": [1.0], "result": {"loss": 1.0}, "rss_delta": 0}

    monkeypatch.setattr(run, "_spawn", fake_spawn)
    monkeypatch.setattr(run, "_variants", lambda engine: {engine: ["chain"]})
    report = run.measure(["7"], ["ours", "micrograd"], repeat=1, quick=True, rounds=3,
                         memory=False, log=lambda line: None)
    assert spawned == ["ours", "micrograd", "ours", "ours"]
    assert "RecursionError" in _final(report, "7", "micrograd")["error"]


@pytest.mark.parametrize("flag", ["--rounds", "--repeat"])
def test_rounds_and_repeat_must_be_positive(flag):
    with pytest.raises(SystemExit):
        run.main([flag, "0"])


def test_the_minimal_reference_engine_does_the_same_math_as_numpy():
    """benchmarks/engines/minimal.py (no features, the baseline kind) reaches numpy's numbers."""
    from benchmarks.engines import minimal, numpy_ref
    assert run.ENGINES["minimal"] == "minimal"
    for workload in ("1", "2", "3", "4", "8"):
        results = []
        for runners in (minimal.RUNNERS["minimal"], numpy_ref.RUNNERS["numpy"]):
            problem = workloads.WORKLOADS[workload][2](True)
            results.append(runners[problem["kind"]](problem)())
        for key, value in results[1].items():
            assert math.isclose(results[0][key], value, rel_tol=1e-6), (workload, key)


@pytest.mark.parametrize("workload", ["1", "2", "3"])
def test_replay_bound_does_the_engines_math(workload):
    """The replayed tape ends at the loss the engine's own loop ends at."""
    from benchmarks import replay_bound
    problem = workloads.WORKLOADS[workload][2](True)
    replay_bound.same_math(problem, epochs=3)
    tape, _ = replay_bound.record(problem)
    assert len(tape) >= 8  # every op of the step: 3 per layer and the loss's


def test_replay_bound_check_fails_when_the_replay_differs(monkeypatch):
    """same_math raises when the replayed step is not the engine's (here: twice the learning rate)."""
    from benchmarks import replay_bound
    original = replay_bound.Replay.__init__

    def doubled_learning_rate(self, problem):
        original(self, problem)
        self.lr *= 2

    monkeypatch.setattr(replay_bound.Replay, "__init__", doubled_learning_rate)
    with pytest.raises(AssertionError):
        replay_bound.same_math(workloads.WORKLOADS["3"][2](True), epochs=2)


def test_replay_bound_command_line(capsys):
    from benchmarks import replay_bound
    replay_bound.main(["--workloads", "1", "--rounds", "1", "--epochs", "2"])
    out = capsys.readouterr().out
    assert out.splitlines()[2].startswith("| 1 |")
    with pytest.raises(SystemExit):
        replay_bound.main(["--workloads", "4"])
