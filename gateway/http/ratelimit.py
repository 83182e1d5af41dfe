"""Token buckets per key (a client address, an agency), in bounded memory.

Each key's bucket holds up to ``burst`` tokens and refills at ``rate`` per second; a request
takes one. A bucket idle long enough to be full again is the same as no bucket, so those are
dropped; beyond ``max_buckets`` the least recently used goes first (it then starts full again,
which errs towards the client, never towards unbounded memory).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        max_buckets: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._max = max_buckets
        self._clock = clock
        self._refill_time = burst / rate if rate > 0 else math.inf
        # key -> (tokens after the last take, time of the last take); oldest use first.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0 if granted, else the seconds until one is available."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        self._evict_idle(now)
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1 - tokens) / self.rate
        if len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return wait

    def _evict_idle(self, now: float) -> None:
        # The oldest entries come first, so stop at the first one not yet refilled.
        while self._buckets:
            key, (_, last) = next(iter(self._buckets.items()))
            if now - last < self._refill_time:
                return
            del self._buckets[key]


def retry_after(wait: float) -> str:
    """The Retry-After header's whole seconds, rounded up so a client waiting them succeeds."""
    return str(max(1, math.ceil(wait)))
