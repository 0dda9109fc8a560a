"""Fixtures for identification tests: a fake world, the four fake services, fast test options."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.fakes import FakeServices, Library, Rates, build_library
from wkmp_ai.config import Settings
from wkmp_ai.identify import IdentifyOptions, RetryPolicy

# Quick retries so fault tests take milliseconds; the policy is the real one otherwise.
FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05, jitter=0.1, max_retry_after_s=0.2)


def fast_options(**changes: object) -> IdentifyOptions:
    # A timeout no loaded 2-core test machine reaches by accident: a request that timed out would be
    # retried and counted twice by the fakes. Tests of timeouts pass their own.
    base = IdentifyOptions(retry=FAST_RETRY, timeout_s=20.0, batch_linger_s=0.01)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def library() -> Library:
    return build_library()


@pytest.fixture
def fakes(library: Library) -> Iterator[FakeServices]:
    """All four services, enforcing a fast 20/s limit (the rate is not the subject of most tests).

    The fakes time arrivals in server threads; a request on a new connection is timed only once
    its thread has started, some milliseconds late. At 50 ms intervals a 50 % tolerance absorbs
    that (5 % at the real rates; the limiter's own spacing is checked exactly with a fake clock
    in test_identify_http.py).
    """
    with FakeServices(library.world, rates=Rates.fast(20.0), tolerance=0.5) as services:
        yield services


@pytest.fixture
def ident_settings(settings: Settings, fakes: FakeServices) -> Settings:
    return replace(settings, **fakes.settings_changes())
