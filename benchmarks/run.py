"""Benchmark harness for the speed targets: every workload on every engine, each in its own process.

    python benchmarks/run.py                      # everything, 5 repeats
    python benchmarks/run.py --quick              # tiny sizes: proves it works in seconds
    python benchmarks/run.py --workloads 1,4 --engines ours,torch --repeat 3
    python benchmarks/run.py --repeat 2 --rounds 4  # engines take turns: fairer on a busy machine
    python benchmarks/run.py --out results.json   # or results.md for the markdown
    python benchmarks/run.py --before /work/before  # also every ours* variant from that checkout

Each (workload, engine) runs in a fresh subprocess with one BLAS/OpenMP
thread (and torch.set_num_threads(1)); it builds the problem from one numpy
seed, copies it into the engine (untimed), then times `repeat` runs of the
training loop, each from the same initial parameters. The tables give the
median, ours ÷ each engine from the same run, the final loss of every engine
(same math: they must agree), the speed targets as PASS/MISS, peak memory
for workloads 4 and 5, the scaling of workload 4, and the cost of the
version-counter check.

With `--before PATH` (another checkout of this repository, e.g. the state
before an engine rewrite) every `ours*` variant that runs also runs from PATH,
labelled `before*` (`ours-nn` -> `before-nn`): a subprocess of PATH's own
benchmarks/run.py, so it imports PATH's autograd_lite, nn and benchmarks. The
before engines take their turns in every round like the others, and a table
gives after ÷ before per workload and variant.
"""
import argparse
import gc
import importlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import workloads  # noqa: E402

# engine name -> module in benchmarks/engines; a module may define several variants
ENGINES = {"ours": "ours", "numpy": "numpy_ref", "torch": "torch_ref",
           "autograd": "hips_autograd", "micrograd": "micrograd_ref", "minimal": "minimal"}
# engines whose arrays are numpy arrays, so tracemalloc sees every allocation
TRACEMALLOC_ENGINES = ("ours", "numpy", "autograd")
# (workload, baseline variant, ours ÷ baseline must be at most this): the speed targets
TARGETS = [("1", "torch", 0.6), ("2", "torch", 0.6), ("3", "torch", 0.7), ("8", "torch", 0.6),
           ("4", "numpy", 1.1), ("5", "torch", 1.2), ("6", "micrograd", 0.5), ("7", "torch", 1.0)]
# the same targets, judged for the variant written with nn layers and losses
NN_TARGET_WORKLOADS = ("1", "2", "3", "4")
MEMORY_TARGET = ("4", "numpy", 1.3)
# the compiled engine (variant ours-compiled, a column of its own): near the hand-written numpy
COMPILED_TARGETS = [("1", "numpy", 1.3), ("2", "numpy", 1.3), ("3", "numpy", 1.3),
                    ("8", "numpy", 2.0), ("4", "numpy", 1.02), ("5", "torch", 0.6)]
COMPILED_MEMORY_TARGET = ("4", "numpy", 1.1)
TRACE_COST_LIMIT = 3.0  # the first compiled step (the trace) ÷ an eager step
# with --before: after ÷ before (ratio of medians) must be at most this on every workload
BEFORE_LIMIT = 1.1
SCALING = ("4", "4b256", "4b512", "4w512")
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


# --- the child: one (engine variant, workload) in this process --------------------
def _prepare(engine, variant, workload, quick):
    module = importlib.import_module(f"benchmarks.engines.{ENGINES[engine]}")
    problem = workloads.WORKLOADS[workload][2](quick)
    return module.RUNNERS[variant][problem["kind"]](problem)


def _trace_cost(train):
    """(first compiled call, second call) ÷ an eager step, as the compiled variant measured."""
    return [train.trace_ratio, train.second_call_ratio]


def _maxrss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def child(engine, variant, workload, quick, repeat, memory):
    """Run and print one JSON line: times and final numbers, or peak memory, or the error."""
    try:
        train = _prepare(engine, variant, workload, quick)
        trace_ratios = [_trace_cost(train)] if hasattr(train, "trace_ratio") else []
        gc.collect()
        if memory:  # tracemalloc slows Python code down: never in the timed runs
            tracemalloc.start()
            train()
            report = {"tracemalloc_peak": tracemalloc.get_traced_memory()[1]}
        else:
            times, rss_before = [], _maxrss_bytes()
            for _ in range(repeat):
                start = time.perf_counter()
                result = train()
                times.append(time.perf_counter() - start)
                train = _prepare(engine, variant, workload, quick)  # fresh initial parameters
                trace_ratios += [_trace_cost(train)] if hasattr(train, "trace_ratio") else []
            report = {"times": times, "result": result, "rss_delta": _maxrss_bytes() - rss_before}
            if trace_ratios:
                report["trace_ratios"] = trace_ratios
    except Exception as error:  # reported as "fails" in the table, e.g. micrograd on 7
        report = {"error": f"{type(error).__name__}: {str(error)[:200]}"}
    print(json.dumps(report))


# --- the parent: start children, collect, print tables -------------------------------
def _spawn(args, timeout, root=ROOT):
    """Run `root`/benchmarks/run.py --child ARGS (root: this checkout or --before's) and parse its line."""
    env = dict(os.environ, **SINGLE_THREAD)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    try:
        done = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "run.py"), "--child",
                               *args], capture_output=True, text=True, env=env, timeout=timeout,
                              cwd=root)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


def _variants(engine, root=ROOT):
    """{variant: kinds} of an engine, or the ImportError text when its library is missing."""
    code = (f"import json, benchmarks.engines.{ENGINES[engine]} as m; "
            f"print(json.dumps({{v: list(k) for v, k in m.RUNNERS.items()}}))")
    env = dict(os.environ, PYTHONPATH=root, **SINGLE_THREAD)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=root)  # cwd: `-c` puts it first on sys.path
    if done.returncode:
        return done.stderr.strip().splitlines()[-1]
    return json.loads(done.stdout)


def _merge(run, more):
    """Add a later round's report to `run` (an error in any round stands)."""
    if "error" in run or "error" in more:
        run.setdefault("error", more.get("error"))
        run.pop("times", None)
        return
    run["times"] += more["times"]
    run["trace_ratios"] = run.get("trace_ratios", []) + more.get("trace_ratios", [])
    run["result"] = more["result"]
    run["rss_delta"] = max(run["rss_delta"], more["rss_delta"])


def before_label(variant):
    """The label of an `ours*` variant run from the --before checkout: ours-nn -> before-nn."""
    return "before" + variant[len("ours"):]


def measure(workload_ids, engines, repeat, quick, memory=True, log=print, rounds=1, before=None):
    """Run everything; returns {"runs": [...], "skipped": {engine: why}}.

    With `rounds` > 1 the engines of a workload take turns, round after round
    (`repeat` runs each per round), so a slow spell of the machine hits all of
    them alike instead of whichever engine happened to run then.

    `before` (a path to another checkout): its `ours*` variants run too, each
    right after this checkout's engine "ours" in every round, labelled `before*`;
    they run when `engines` names "ours" or "before".
    """
    timeout = 120 if quick else 900
    runs, skipped = [], {}
    available = []  # (name, engine module key, root or None, {variant: kinds})
    for engine in engines:
        if engine == "before":
            continue  # placed below
        found = _variants(engine)
        if isinstance(found, str):
            skipped[engine] = found
        else:
            available.append((engine, engine, None, found))
    if before is not None and ("ours" in engines or "before" in engines):
        found = _variants("ours", root=before)
        if isinstance(found, str):
            skipped["before"] = found
        else:
            place = next((i + 1 for i, entry in enumerate(available) if entry[0] == "ours"),
                         len(available))
            available.insert(place, ("before", "ours", before, found))
    for workload in workload_ids:
        kind = workloads.WORKLOADS[workload][1]
        jobs = [(engine, variant, root, before_label(variant) if root else variant)
                for _, engine, root, variants in available
                for variant, kinds in variants.items() if kind in kinds]
        done = {}
        for round_ in range(rounds):
            for engine, variant, root, label in jobs:
                if "error" in done.get(label, {}):
                    continue  # failed once (e.g. micrograd's RecursionError): not again each round
                args = [engine, variant, workload, str(repeat)] + (["--quick"] if quick else [])
                where = {"root": root} if root else {}
                report = _spawn(args, timeout, **where)
                if label in done:
                    _merge(done[label], report)
                    continue
                run = done[label] = {"workload": workload, "engine": label, **report}
                if memory and workload in workloads.MEMORY_WORKLOADS and "error" not in run \
                        and engine in TRACEMALLOC_ENGINES:
                    run.update(_spawn(args + ["--memory"], timeout, **where))
        for label, run in done.items():
            log(f"  {workload:>5} {label:<15} " + (
                run["error"] if "error" in run else f"{statistics.median(run['times']):.4f} s"))
            runs.append(run)
    return {"runs": runs, "skipped": skipped, **({"before": before} if before else {})}


def _median(runs, workload, engine):
    for run in runs:
        if run["workload"] == workload and run["engine"] == engine and "times" in run:
            return statistics.median(run["times"])
    return None


def _find(runs, workload, engine):
    return next((r for r in runs if r["workload"] == workload and r["engine"] == engine), None)


def _numbers(result):
    return ", ".join(f"{k}={v:.6g}" for k, v in result.items())


def _mib(n):
    return f"{n / 2**20:.1f}" if n is not None else "n/a"


def _fastest(runs, workload, engine):
    run = _find(runs, workload, engine)
    return min(run["times"]) if run and "times" in run else None


def _ratio_cells(runs, workload, engine, baseline):
    """(ratio of medians, ratio of fastest runs) of engine ÷ baseline; None where one is missing."""
    mine, base = _median(runs, workload, engine), _median(runs, workload, baseline)
    if mine is None or base is None:
        return None, None
    return mine / base, _fastest(runs, workload, engine) / _fastest(runs, workload, baseline)


def _target_rows(runs, engine="ours", only=None, extra=None, targets=TARGETS,
                 memory_target=MEMORY_TARGET):
    """One row per target of `engine` (on the workloads in `only`, or all): the verdict is on
    the ratio of medians (the targets' rule); the ratio of the fastest runs is shown beside it,
    as the less noise-prone estimate. `extra(workload)` adds a last cell to each row."""
    rows = []
    for workload, baseline, limit in targets:
        if only is not None and workload not in only:
            continue
        if _median(runs, workload, baseline) is None or _find(runs, workload, engine) is None:
            continue
        ratio, fastest = _ratio_cells(runs, workload, engine, baseline)
        verdict = "PASS" if ratio is not None and ratio <= limit else "MISS"
        rows.append(f"| {workload} | {engine}/{baseline} ≤ {limit} | "
                    f"{f'{ratio:.2f}' if ratio is not None else 'fails'} | "
                    f"{f'{fastest:.2f}' if fastest is not None else ''} | {verdict} |"
                    + (f" {extra(workload)} |" if extra else ""))
    if engine not in ("ours", "ours-compiled") or only is not None:
        return rows
    workload, baseline, limit = memory_target
    ours, base = _find(runs, workload, engine), _find(runs, workload, baseline)
    if ours and base and ours.get("tracemalloc_peak") and base.get("tracemalloc_peak"):
        ratio = ours["tracemalloc_peak"] / base["tracemalloc_peak"]
        rows.append(f"| {workload} | peak memory {engine}/{baseline} ≤ {limit} | {ratio:.2f} | | "
                    f"{'PASS' if ratio <= limit else 'MISS'} |" + (" |" if extra else ""))
    return rows


def _compiled_rows(runs):
    """The compiled engine's targets, with compiled ÷ eager (ours-nn where it runs, else ours)
    beside each, and a row for the tracing cost."""
    def versus_eager(workload):
        mine = _median(runs, workload, "ours-compiled")
        eager = _median(runs, workload, "ours-nn") or _median(runs, workload, "ours")
        return f"{mine / eager:.2f}" if mine and eager else ""
    rows = _target_rows(runs, "ours-compiled", extra=versus_eager, targets=COMPILED_TARGETS,
                        memory_target=COMPILED_MEMORY_TARGET)
    for run in runs:
        if run["engine"] == "ours-compiled" and run.get("trace_ratios"):
            first = [r[0] for r in run["trace_ratios"]]
            second = statistics.median(r[1] for r in run["trace_ratios"])
            verdict = "PASS" if statistics.median(first) <= TRACE_COST_LIMIT else "MISS"
            rows.append(f"| {run['workload']} | first call (trace) ÷ eager step ≤ "
                        f"{TRACE_COST_LIMIT:g} | {statistics.median(first):.2f} | "
                        f"{max(first):.2f} (worst) | {verdict} | second call (code written) "
                        f"{second:.1f} |")
    return rows


def _before_rows(runs):
    """After ÷ before per workload and `ours*` variant that ran from both checkouts."""
    rows = []
    for run in runs:
        after = run["engine"]
        if not after.startswith("ours"):
            continue
        before = before_label(after)
        if _find(runs, run["workload"], before) is None:
            continue
        ratio, fastest = _ratio_cells(runs, run["workload"], after, before)
        if ratio is None:
            rows.append((run["workload"], after, before, None, None, "MISS"))
            continue
        rows.append((run["workload"], after, before, ratio, fastest,
                     "PASS" if ratio <= BEFORE_LIMIT else "MISS"))
    return rows


def _before_table(runs, path):
    rows = _before_rows(runs)
    if not rows:
        return []
    lines = ["", f"After ÷ before (before: {path}); the rule: after ÷ before ≤ {BEFORE_LIMIT} "
             "on every workload (ratio of medians):", "",
             "| workload | variant | after median s | before median s | ratio of medians | "
             "ratio of fastest runs | result |", "|---|---|---:|---:|---:|---:|---|"]
    for workload, after, before, ratio, fastest, verdict in rows:
        times = [_median(runs, workload, e) for e in (after, before)]
        lines.append(f"| {workload} | {after} | " +
                     " | ".join(f"{t:.4f}" if t is not None else "fails" for t in times) +
                     (f" | {ratio:.3f} | {fastest:.3f} | {verdict} |" if ratio is not None
                      else f" | | | {verdict} |"))
    missed = sorted({f"{w} ({a})" for w, a, _, _, _, v in rows if v == "MISS"})
    lines += ["", f"Rule after ÷ before ≤ {BEFORE_LIMIT}: " +
              (f"PASS on all {len(rows)} rows" if not missed else "MISS on " + ", ".join(missed))]
    return lines


def markdown(report):
    """The report as markdown tables."""
    runs, lines = report["runs"], []
    lines += ["| workload | engine | median s | min s | ours ÷ engine | final numbers |",
              "|---|---|---:|---:|---:|---|"]
    for run in runs:
        workload, engine = run["workload"], run["engine"]
        if "error" in run:
            lines.append(f"| {workload} | {engine} | fails | | | {run['error']} |")
            continue
        median, ours = statistics.median(run["times"]), _median(runs, workload, "ours")
        ratio = f"{ours / median:.2f}" if ours is not None else ""
        lines.append(f"| {workload} | {engine} | {median:.4f} | {min(run['times']):.4f} | "
                     f"{ratio} | {_numbers(run['result'])} |")
    target_rows = _target_rows(runs)
    if target_rows:
        lines += ["", "Targets:", "",
                  "| workload | target | ratio of medians | ratio of fastest runs | result |",
                  "|---|---|---:|---:|---|"] + target_rows
    nn_rows = _target_rows(runs, "ours-nn", NN_TARGET_WORKLOADS, extra=lambda w: (
        f"{_median(runs, w, 'ours-nn') / _median(runs, w, 'ours'):.2f}"
        if _median(runs, w, "ours-nn") and _median(runs, w, "ours") else ""))
    if nn_rows:
        lines += ["", "The same targets for `ours-nn` (written with nn layers and nn losses):", "",
                  "| workload | target | ratio of medians | ratio of fastest runs | result | "
                  "ours-nn ÷ ours |", "|---|---|---:|---:|---|---:|"] + nn_rows
    compiled_rows = _compiled_rows(runs)
    if compiled_rows:
        lines += ["", "The compiled engine (`ours-compiled`: the loss function through "
                  "`autograd_lite.compile`):", "",
                  "| workload | target | ratio of medians | ratio of fastest runs | result | "
                  "compiled ÷ eager |", "|---|---|---:|---:|---|---:|"] + compiled_rows
    memory = [r for r in runs if r["workload"] in workloads.MEMORY_WORKLOADS and "times" in r]
    if memory:
        lines += ["", "Peak memory during training (MiB):", "",
                  "| workload | engine | tracemalloc peak | ru_maxrss growth |", "|---|---|---:|---:|"]
        lines += [f"| {r['workload']} | {r['engine']} | {_mib(r.get('tracemalloc_peak'))} | "
                  f"{_mib(r['rss_delta'])} |" for r in memory]
    scaling = [w for w in SCALING if any(r["workload"] == w for r in runs)]
    if len(scaling) > 1:
        engines = [e for e in ("ours", "before", "numpy", "torch") if _median(runs, scaling[0], e)]
        lines += ["", "Scaling of workload 4 (median s):", "",
                  "| size | " + " | ".join(engines) + " | ours/numpy |", "|---|" + "---:|" * (len(engines) + 1)]
        for w in scaling:
            times = [_median(runs, w, e) for e in engines]
            ours, numpy_time = _median(runs, w, "ours"), _median(runs, w, "numpy")
            ratio = f"{ours / numpy_time:.2f}" if ours and numpy_time else ""
            lines.append(f"| {workloads.WORKLOADS[w][0]} | " +
                         " | ".join(f"{t:.4f}" if t else "" for t in times) + f" | {ratio} |")
    checked, unchecked = _median(runs, "8", "ours"), _median(runs, "8", "ours-nocheck")
    if checked and unchecked:
        # the heading's wording is what tests/test_benchmarks.py looks for
        lines += ["", "Version-counter check, workload 8:", "",
                  "| ours (with check) | ours-nocheck | ratio |", "|---:|---:|---:|",
                  f"| {checked:.4f} | {unchecked:.4f} | {checked / unchecked:.3f} |"]
    if report.get("before"):
        lines += _before_table(runs, report["before"])
    for engine, why in report["skipped"].items():
        lines.append(f"\nSkipped engine {engine}: {why}")
    return "\n".join(lines)


def machine():
    import numpy
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor()) \
        if os.path.exists("/proc/cpuinfo") else platform.processor()
    try:  # the installed version, without the seconds that importing torch takes
        from importlib.metadata import version
        torch = f", torch {version('torch')}"
    except Exception:
        torch = ""
    return (f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"numpy {numpy.__version__}{torch}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and steps")
    parser.add_argument("--workloads", default=",".join(workloads.WORKLOADS))
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per process")
    parser.add_argument("--rounds", type=int, default=1,
                        help="engines take turns this many times (repeat runs each per turn)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--out", help="write results: .json for raw data, anything else markdown")
    parser.add_argument("--before", metavar="PATH",
                        help="another checkout of this repository: its ours* variants run too, "
                             "labelled before*, with an after ÷ before table")
    parser.add_argument("--child", nargs=4, metavar=("ENGINE", "VARIANT", "WORKLOAD", "REPEAT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        engine, variant, workload, repeat = args.child
        return child(engine, variant, workload, args.quick, int(repeat), args.memory)
    if args.repeat < 1 or args.rounds < 1:
        parser.error("--repeat and --rounds must be at least 1")
    workload_ids = args.workloads.split(",")
    engines = args.engines.split(",")
    before = None
    if args.before:
        before = os.path.abspath(args.before)
        if not os.path.isfile(os.path.join(before, "benchmarks", "run.py")):
            parser.error(f"--before {args.before}: no benchmarks/run.py there")
        if before == ROOT:
            parser.error("--before names this checkout itself")
    for name, known in (("workload", workloads.WORKLOADS),
                        ("engine", {**ENGINES, **({"before": None} if before else {})})):
        unknown = [x for x in (workload_ids if name == "workload" else engines) if x not in known]
        if unknown:
            parser.error(f"unknown {name}(s) {unknown}; choose from {sorted(known)}")
    print(f"# {machine()}; repeat {args.repeat}, rounds {args.rounds}{', quick' if args.quick else ''}"
          + (f"; before: {before}" if before else ""))
    report = measure(workload_ids, engines, args.repeat, args.quick, not args.no_memory,
                     rounds=args.rounds, before=before)
    report["machine"] = machine()
    text = markdown(report)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(json.dumps(report, indent=1) if args.out.endswith(".json") else text + "\n")
    return report


if __name__ == "__main__":
    main()
