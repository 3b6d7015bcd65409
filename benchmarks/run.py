"""Benchmark harness for issue 7: every workload on every engine, each in its own process.

    python benchmarks/run.py                      # everything, 5 repeats
    python benchmarks/run.py --quick              # tiny sizes: proves it works in seconds
    python benchmarks/run.py --workloads 1,4 --engines ours,torch --repeat 3
    python benchmarks/run.py --repeat 2 --rounds 4  # engines take turns: fairer on a busy machine
    python benchmarks/run.py --out results.json   # or results.md for the markdown

Each (workload, engine) runs in a fresh subprocess with one BLAS/OpenMP
thread (and torch.set_num_threads(1)); it builds the problem from one numpy
seed, copies it into the engine (untimed), then times `repeat` runs of the
training loop, each from the same initial parameters. The tables give the
median, ours ÷ each engine from the same run, the final loss of every engine
(same math: they must agree), the issue-7 targets as PASS/MISS, peak memory
for workloads 4 and 5, the scaling of workload 4, and the cost of the
version-counter check of issue 9.
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
# (workload, baseline variant, ours ÷ baseline must be at most this): issue 7's targets
TARGETS = [("1", "torch", 0.6), ("2", "torch", 0.6), ("3", "torch", 0.6), ("8", "torch", 0.6),
           ("4", "numpy", 1.1), ("5", "torch", 1.2), ("6", "micrograd", 0.8), ("7", "torch", 1.0)]
MEMORY_TARGET = ("4", "numpy", 1.3)
SCALING = ("4", "4b256", "4b512", "4w512")
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


# --- the child: one (engine variant, workload) in this process --------------------
def _prepare(engine, variant, workload, quick):
    module = importlib.import_module(f"benchmarks.engines.{ENGINES[engine]}")
    problem = workloads.WORKLOADS[workload][2](quick)
    return module.RUNNERS[variant][problem["kind"]](problem)


def _maxrss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def child(engine, variant, workload, quick, repeat, memory):
    """Run and print one JSON line: times and final numbers, or peak memory, or the error."""
    try:
        train = _prepare(engine, variant, workload, quick)
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
            report = {"times": times, "result": result, "rss_delta": _maxrss_bytes() - rss_before}
    except Exception as error:  # reported as "fails" in the table, e.g. micrograd on 7
        report = {"error": f"{type(error).__name__}: {str(error)[:200]}"}
    print(json.dumps(report))


# --- the parent: start children, collect, print tables -------------------------------
def _spawn(args, timeout):
    env = dict(os.environ, **SINGLE_THREAD)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    try:
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", *args],
                              capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"error": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


def _variants(engine):
    """{variant: kinds} of an engine, or the ImportError text when its library is missing."""
    code = (f"import json, benchmarks.engines.{ENGINES[engine]} as m; "
            f"print(json.dumps({{v: list(k) for v, k in m.RUNNERS.items()}}))")
    env = dict(os.environ, PYTHONPATH=ROOT, **SINGLE_THREAD)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
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
    run["result"] = more["result"]
    run["rss_delta"] = max(run["rss_delta"], more["rss_delta"])


def measure(workload_ids, engines, repeat, quick, memory=True, log=print, rounds=1):
    """Run everything; returns {"runs": [...], "skipped": {engine: why}}.

    With `rounds` > 1 the engines of a workload take turns, round after round
    (`repeat` runs each per round), so a slow spell of the machine hits all of
    them alike instead of whichever engine happened to run then.
    """
    timeout = 120 if quick else 900
    runs, skipped, available = [], {}, {}
    for engine in engines:
        found = _variants(engine)
        if isinstance(found, str):
            skipped[engine] = found
        else:
            available[engine] = found
    for workload in workload_ids:
        kind = workloads.WORKLOADS[workload][1]
        jobs = [(engine, variant) for engine, variants in available.items()
                for variant, kinds in variants.items() if kind in kinds]
        done = {}
        for round_ in range(rounds):
            for engine, variant in jobs:
                if "error" in done.get(variant, {}):
                    continue  # failed once (e.g. micrograd's RecursionError): not again each round
                args = [engine, variant, workload, str(repeat)] + (["--quick"] if quick else [])
                report = _spawn(args, timeout)
                if variant in done:
                    _merge(done[variant], report)
                    continue
                run = done[variant] = {"workload": workload, "engine": variant, **report}
                if memory and workload in workloads.MEMORY_WORKLOADS and "error" not in run \
                        and engine in TRACEMALLOC_ENGINES:
                    run.update(_spawn(args + ["--memory"], timeout))
        for variant, run in done.items():
            log(f"  {workload:>5} {variant:<13} " + (
                run["error"] if "error" in run else f"{statistics.median(run['times']):.4f} s"))
            runs.append(run)
    return {"runs": runs, "skipped": skipped}


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


def _target_rows(runs):
    """One row per target: the verdict is on the ratio of medians (the issue's rule); the
    ratio of the fastest runs is shown beside it, as the less noise-prone estimate."""
    rows = []
    for workload, baseline, limit in TARGETS:
        ours, base = _median(runs, workload, "ours"), _median(runs, workload, baseline)
        if base is None or (ours is None and _find(runs, workload, "ours") is None):
            continue
        ratio = ours / base if ours is not None else None
        fastest = (_fastest(runs, workload, "ours") / _fastest(runs, workload, baseline)
                   if ratio is not None else None)
        verdict = "PASS" if ratio is not None and ratio <= limit else "MISS"
        rows.append(f"| {workload} | ours/{baseline} ≤ {limit} | "
                    f"{f'{ratio:.2f}' if ratio is not None else 'fails'} | "
                    f"{f'{fastest:.2f}' if fastest is not None else ''} | {verdict} |")
    workload, baseline, limit = MEMORY_TARGET
    ours, base = _find(runs, workload, "ours"), _find(runs, workload, baseline)
    if ours and base and ours.get("tracemalloc_peak") and base.get("tracemalloc_peak"):
        ratio = ours["tracemalloc_peak"] / base["tracemalloc_peak"]
        rows.append(f"| {workload} | peak memory ours/{baseline} ≤ {limit} | {ratio:.2f} | | "
                    f"{'PASS' if ratio <= limit else 'MISS'} |")
    return rows


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
    lines += ["", "Targets (issue 7):", "",
              "| workload | target | ratio of medians | ratio of fastest runs | result |",
              "|---|---|---:|---:|---|"] + _target_rows(runs)
    memory = [r for r in runs if r["workload"] in workloads.MEMORY_WORKLOADS and "times" in r]
    if memory:
        lines += ["", "Peak memory during training (MiB):", "",
                  "| workload | engine | tracemalloc peak | ru_maxrss growth |", "|---|---|---:|---:|"]
        lines += [f"| {r['workload']} | {r['engine']} | {_mib(r.get('tracemalloc_peak'))} | "
                  f"{_mib(r['rss_delta'])} |" for r in memory]
    scaling = [w for w in SCALING if any(r["workload"] == w for r in runs)]
    if len(scaling) > 1:
        engines = [e for e in ("ours", "numpy", "torch") if _median(runs, scaling[0], e)]
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
        lines += ["", "Version-counter check (issue 9), workload 8:", "",
                  "| ours (with check) | ours-nocheck | ratio |", "|---:|---:|---:|",
                  f"| {checked:.4f} | {unchecked:.4f} | {checked / unchecked:.3f} |"]
    for engine, why in report["skipped"].items():
        lines.append(f"\nSkipped engine {engine}: {why}")
    return "\n".join(lines)


def machine():
    import numpy
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor()) \
        if os.path.exists("/proc/cpuinfo") else platform.processor()
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {numpy.__version__}"


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
    for name, known in (("workload", workloads.WORKLOADS), ("engine", ENGINES)):
        unknown = [x for x in (workload_ids if name == "workload" else engines) if x not in known]
        if unknown:
            parser.error(f"unknown {name}(s) {unknown}; choose from {sorted(known)}")
    print(f"# {machine()}; repeat {args.repeat}, rounds {args.rounds}{', quick' if args.quick else ''}")
    report = measure(workload_ids, engines, args.repeat, args.quick, not args.no_memory,
                     rounds=args.rounds)
    report["machine"] = machine()
    text = markdown(report)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(json.dumps(report, indent=1) if args.out.endswith(".json") else text + "\n")
    return report


if __name__ == "__main__":
    main()
