"""One module per engine. Each exposes `RUNNERS = {variant: {problem kind: prepare}}`.

`prepare(problem)` copies the problem's numpy arrays into the engine's own
types (untimed) and returns `train()`, which runs every step (timed) and
returns a dict of final numbers, e.g. {"loss": ...}, that must agree across
engines. An engine imports its library at module import, so a missing library
shows up as ImportError and the harness skips that engine with a note.
"""
