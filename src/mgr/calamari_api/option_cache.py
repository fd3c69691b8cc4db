"""Module options as last read, for the code that reads them on every request.

ceph-mgr's ``get_module_option`` lets go of the GIL and takes a lock of the mgr's.  From one thread that is about
1.3 µs, from four at once 12 µs of wall time a read (``bench/option-cost``); but a session's check read its idle
timeout four times a request, and under load each read that lets go of the GIL hands it to another worker thread:
with those reads a cached GET took about 880 µs of the mgr's CPU, without them about 700 (the regression of
2026-12-07, README "Performance").  So values are kept: until the mgr says the options changed (``config_notify``
calls ``forget``), and for at most ``MAX_AGE`` seconds, in case a change is seen before its notification."""
import time
from typing import Any, Callable, Dict, Tuple

MAX_AGE = 1.0


class OptionCache:
    """``cache(name)``: the option's value as ``read(name)`` gave it at most MAX_AGE seconds ago."""

    def __init__(self, read: Callable[[str], Any], clock: Callable[[], float] = time.monotonic,
                 max_age: float = MAX_AGE) -> None:
        self._read = read
        self._clock = clock
        self._max_age = max_age
        self._values: Dict[str, Tuple[float, Any]] = {}

    def __call__(self, name: str) -> Any:
        values = self._values           # (forget replaces the dict: a read under way stores into the old one)
        now = self._clock()
        kept = values.get(name)
        if kept is not None and now - kept[0] < self._max_age:
            return kept[1]
        value = self._read(name)
        values[name] = (now, value)
        return value

    def forget(self) -> None:
        """Read every option again at its next use (the mgr notified a change)."""
        self._values = {}
