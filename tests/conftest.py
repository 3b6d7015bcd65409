"""Shared test setup: reproducible hypothesis profiles and float64 helpers.

The default profile, "ci", is derandomized with a fixed example budget so a
green run means the same thing twice. `HYPOTHESIS_PROFILE=thorough` draws
many more examples for local bug hunting.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", derandomize=True, max_examples=40, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "thorough", max_examples=1000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng():
    """A fixed-seed numpy generator, so every test draws the same numbers every run."""
    return np.random.default_rng(0)
