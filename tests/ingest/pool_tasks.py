"""Task functions the worker-pool tests send to real worker processes."""

from __future__ import annotations

import os
import signal
import time


def square(x: int) -> int:
    return x * x


def pid_of_worker() -> int:
    return os.getpid()


def parent_pid() -> int:
    return os.getppid()


def sleep_then(seconds: float, value: str) -> str:
    time.sleep(seconds)
    return value


def segfault() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)


def exit_hard() -> None:
    os._exit(3)


def raise_value_error(message: str) -> None:
    raise ValueError(message)


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("cannot travel")
        self.handle = lambda: None  # lambdas do not pickle


def raise_unpicklable() -> None:
    raise Unpicklable


def big_list(n: int) -> list[int]:
    return list(range(n))


def loaded(names: tuple[str, ...]) -> list[str]:
    """Which of ``names`` the worker had imported before this task (a preload's doing)."""
    import sys

    return [name for name in names if name in sys.modules]


def timed_sleep(seconds: float) -> tuple[float, float]:
    """Sleep; return when the task began and ended on the machine-wide monotonic clock."""
    began = time.monotonic()
    time.sleep(seconds)
    return began, time.monotonic()
