"""Shared test set-up: Hypothesis profiles and the `device` fixture.

Profiles (choose with HYPOTHESIS_PROFILE): `ci` (derandomized, bounded examples, no
deadline: predictable time on a shared 2-core machine), `dev` (the default here),
`thorough` (many more examples, for before a release).
"""

import os

import pytest
from hypothesis import HealthCheck, settings

import tinygrad_edu as tg

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
settings.register_profile("ci", max_examples=25, derandomize=True, **_common)
settings.register_profile("dev", max_examples=40, **_common)
settings.register_profile("thorough", max_examples=500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _devices():
    names = ["cpu"]
    if tg.cuda_is_available():
        names.append("cuda")
    return names


@pytest.fixture(params=_devices())
def device(request):
    """Every test that takes `device` runs on each usable device."""
    return request.param
