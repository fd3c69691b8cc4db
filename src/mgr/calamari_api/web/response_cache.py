"""Rendered GET responses, cached until a map they depend on changes: the serialized JSON, its ETag and a
gzipped copy, so a poll of an unchanged resource costs a dict lookup (or a 304)."""
import gzip
import hashlib
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Dict, Optional, Tuple

from .http import ApiRequest, render_json

GZIP_MIN_BYTES = 1024
MAX_ENTRIES = 256


class Rendered:
    """A 200 JSON body, ready to send."""

    def __init__(self, value: Any) -> None:
        self.body = render_json(value)
        self.etag = '"%s"' % hashlib.blake2b(self.body, digest_size=12).hexdigest()
        self._gzipped: Optional[bytes] = None

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=5, mtime=0)
        return self._gzipped


class ResponseCache:
    """LRU of Rendered bodies keyed by request, valid while ``generations(deps)`` is unchanged."""

    def __init__(self, generations: Callable[[Tuple[str, ...]], Tuple[int, ...]],
                 max_ages: Dict[str, float], max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.time) -> None:
        self._generations = generations
        self._max_ages = max_ages
        self._clock = clock
        self._max = max_entries
        self._lock = threading.Lock()
        self._entries: 'OrderedDict[Any, Tuple[Tuple[int, ...], float, Rendered]]' = OrderedDict()
        self._building: Dict[Any, threading.Lock] = {}

    def _lookup(self, key: Any, gens: Tuple[int, ...], max_age: Optional[float]) -> Optional[Rendered]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] == gens and (max_age is None or self._clock() - entry[1] < max_age):
                self._entries.move_to_end(key)
                return entry[2]
        return None

    def _max_age(self, deps: Tuple[str, ...]) -> Optional[float]:
        return min((self._max_ages[d] for d in deps if d in self._max_ages), default=None)

    def peek(self, key: Any, deps: Tuple[str, ...]) -> Optional[Rendered]:
        """The cached rendering if it is still valid (what ``get`` would return without building), else None."""
        return self._lookup(key, self._generations(deps), self._max_age(deps))

    def get(self, key: Any, deps: Tuple[str, ...], build: Callable[[], Any]) -> Rendered:
        """The cached rendering, unless a dep changed or one with a maximum age (no notification of its
        own, see cluster.MAX_AGE) is older than that.  One thread rebuilds a stale entry; concurrent
        requests for the same key wait for it rather than all rebuilding at once."""
        gens = self._generations(deps)
        max_age = self._max_age(deps)
        rendered = self._lookup(key, gens, max_age)
        if rendered is not None:
            return rendered
        with self._lock:
            building = self._building.setdefault(key, threading.Lock())
        with building:
            rendered = self._lookup(key, gens, max_age)       # built by the thread we waited for?
            if rendered is None:
                rendered = Rendered(build())
                with self._lock:
                    self._entries[key] = (gens, self._clock(), rendered)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self._max:
                        self._entries.popitem(last=False)
        with self._lock:
            if not building.locked():
                self._building.pop(key, None)
        return rendered

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def cache_key(action: str, request: ApiRequest) -> Tuple[Any, ...]:
    """What a cached response depends on besides the maps: the action, the URL and the Host it was asked
    through (paginated lists and the API root hold absolute URLs)."""
    return (action, request.path, tuple(sorted((k, tuple(v)) for k, v in request.query.items())),
            request.headers.get('Host', ''))
