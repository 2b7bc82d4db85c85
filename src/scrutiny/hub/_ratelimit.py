"""A small in-process rate limiter: a sliding window per (bucket, key).

Reports, comments and sign-in attempts are limited (``HubSettings``:
``reports_per_hour``, ``comments_per_minute``, ``signins_per_minute``). Each
bucket keeps, per key (a user id, or the client's address for sign-in), the
times of the recent attempts; an attempt past the limit is answered with
429, the error envelope and a ``Retry-After`` header. The counts live in the
process: with several workers each counts on its own (put a proxy limit in
front for a hard global cap).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, ClassVar

from scrutiny.hub._errors import HubError

#: bucket -> (settings field holding the limit, window in seconds, what is limited)
BUCKETS: dict[str, tuple[str, int, str]] = {
    "report": ("reports_per_hour", 3600, "reports"),
    "comment": ("comments_per_minute", 60, "comments and new discussions"),
    "signin": ("signins_per_minute", 60, "sign-in attempts"),
}


class RateLimitedError(HubError):
    """429: too many attempts in the window; ``retry_after`` seconds until the next one."""

    status: ClassVar[int] = 429
    code: ClassVar[str] = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        """``Retry-After``, in whole seconds."""
        return {"Retry-After": str(self.retry_after)}


class RateLimiter:
    """Sliding-window counters, safe across threads.

    Parameters
    ----------
    clock : callable, default=time.monotonic
        The time source (tests pass a fake one).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, key: str, *, limit: int, window: float) -> float:
        """Count one attempt; 0.0 when allowed, else the seconds until one is allowed."""
        now = self.clock()
        with self._lock:
            times = self._hits.setdefault((bucket, key), deque())
            while times and times[0] <= now - window:
                times.popleft()
            if len(times) >= limit:
                return max(times[0] + window - now, 0.001)
            times.append(now)
            return 0.0


def limiter(hub: Any) -> RateLimiter:
    """The hub's limiter (one per :class:`~scrutiny.hub._app.Hub`, made on first use)."""
    found = getattr(hub, "_rate_limiter", None)
    if found is None:
        found = RateLimiter()
        hub._rate_limiter = found  # the hub carries it: each hub (each test) counts afresh
    return found


def check_rate(hub: Any, bucket: str, key: str) -> None:
    """Count an attempt in ``bucket`` for ``key``; raise :class:`RateLimitedError` if over."""
    setting, window, what = BUCKETS[bucket]
    limit = int(getattr(hub.settings, setting))
    wait = limiter(hub).hit(bucket, key, limit=limit, window=window)
    if wait:
        seconds = math.ceil(wait)
        unit = "hour" if window == 3600 else "minute"
        msg = (f"Too many {what}: at most {limit} per {unit} ({setting}). Wait {seconds} "
               "seconds and try again.")
        raise RateLimitedError(msg, retry_after=seconds, field=bucket)
