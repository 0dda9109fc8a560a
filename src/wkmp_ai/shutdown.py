"""A hard deadline for stopping: after SIGTERM or Ctrl-C the process ends in time, whatever its threads do.

The graceful path (cancel the import at a file boundary, close the server) normally takes well under
2 s. But a thread can be stuck where Python cannot reach it: a write waiting for a lock another
program holds on ``wkmp.db``, a read from a hung network file system. Python would then wait for that
thread at exit, for ever. :class:`ExitDeadline` ends the process instead, at :data:`STOP_WITHIN_S`
after the first signal, with a message. Nothing is lost that the next import would not redo: every
write is a transaction (the database is WAL), exactly as after ``kill -9``.

Two clocks, in case one cannot run: a daemon thread that exits with a message, and, half a second
later, ``SIGALRM`` with its default action, which the kernel carries out even when a C call holds the
interpreter's lock.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["EXIT_FORCED", "STOP_WITHIN_S", "ExitDeadline"]

STOP_WITHIN_S = 5.0
EXIT_FORCED = 1


class ExitDeadline:
    """``arm()`` once a stop is requested; the process then exits within ``seconds``."""

    def __init__(self, what: str, *, seconds: float = STOP_WITHIN_S, code: int = EXIT_FORCED):
        self.what = what
        self.seconds = seconds
        self.code = code
        self._timer: threading.Timer | None = None

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def arm(self) -> None:
        if self._timer is not None:
            return
        self._timer = threading.Timer(max(0.1, self.seconds - 1.0), self._expire)
        self._timer.daemon = True
        self._timer.start()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            signal.setitimer(signal.ITIMER_REAL, max(0.2, self.seconds - 0.5))

    def _expire(self) -> None:
        message = (
            f"wkmp-ai: {self.what} is still stopping {self.seconds - 1.0:.1f} s after the signal "
            "(a thread is blocked, e.g. by another program's lock on wkmp.db); exiting now. "
            "Everything committed is kept; the next import redoes the rest.\n"
        )
        try:
            os.write(2, message.encode())  # not sys.stderr: a blocked thread may hold its lock
        finally:
            os._exit(self.code)
