"""Shared test set-up: Hypothesis profiles and the `device` fixture.

The `device` fixture runs a test on "cpu", on "strict" (a GPU-like backend that
refuses implicit conversion to NumPy, see strict_backend.py) and on "cuda" where a
usable GPU exists.  TINYGRAD_EDU_TEST_DEVICES (comma-separated) overrides the list,
e.g. `TINYGRAD_EDU_TEST_DEVICES=cuda` for a run on the GPU only.

Profiles (choose with HYPOTHESIS_PROFILE): `ci` (derandomized, bounded examples, no
deadline: predictable time on a shared 2-core machine), `dev` (the default here),
`thorough` (many more examples, for before a release).
"""

import os

import pytest
import strict_backend
from hypothesis import HealthCheck, settings

import tinygrad_edu as tg

strict_backend.register()

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
settings.register_profile("ci", max_examples=25, derandomize=True, **_common)
settings.register_profile("dev", max_examples=40, **_common)
settings.register_profile("thorough", max_examples=500, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _devices():
    chosen = os.environ.get("TINYGRAD_EDU_TEST_DEVICES")
    if chosen:
        return [name.strip() for name in chosen.split(",") if name.strip()]
    names = ["cpu", "strict"]
    if tg.cuda_is_available():
        names.append("cuda")
    return names


@pytest.fixture(params=_devices())
def device(request):
    """Every test that takes `device` runs on each usable device."""
    return request.param
