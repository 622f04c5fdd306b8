"""Helpers of the HttpClient tests (tests/test_http*.py): a client whose waits are recorded
instead of slept."""

from __future__ import annotations

import random

from shopagent.tools.http import HttpClient

BASE = "http://upstream.test"


class SleepRecorder:
    """An injectable sleep that records the waits and does not wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fast_client(url: str = BASE, **kwargs: object) -> tuple[HttpClient, SleepRecorder]:
    sleep = SleepRecorder()
    options: dict[str, object] = {
        "timeout": 1.0,
        "retries": 3,
        "backoff_base_s": 0.1,
        "backoff_max_s": 0.3,
        "retry_after_max_s": 10.0,
        "sleep": sleep,
        "rng": random.Random(1),
    }
    options.update(kwargs)
    return HttpClient(url, **options), sleep  # type: ignore[arg-type]
