"""The cluster maps as the API sees them: read through ``MgrModule.get()`` once per map version and
cached, together with every view derived from them, until ``notify()`` says the map changed."""
import json
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Optional, Tuple

if TYPE_CHECKING:
    from mgr_module import MgrModule

# What each mgr notification makes stale.  Sources with no notification of their own also expire
# after MAX_AGE seconds, so nothing is served older than that.
INVALIDATED_BY: Dict[str, Tuple[str, ...]] = {
    'osd_map': ('osd_map', 'osd_map_tree', 'osd_map_crush', 'osd_metadata', 'servers', 'mgr_map'),
    'mon_map': ('mon_map', 'mon_status', 'servers', 'mon_metadata'),
    'health': ('health', 'mon_status', 'servers', 'mgr_map'),
    'pg_summary': ('pg_summary', 'pool_stats', 'df'),
    'fs_map': ('fs_map', 'servers', 'mds_metadata'),
}
MAX_AGE: Dict[str, float] = {
    'config': 10.0, 'mon_status': 10.0, 'servers': 10.0, 'osd_metadata': 30.0, 'mon_metadata': 30.0,
    'mds_metadata': 30.0, 'mgr_map': 10.0, 'keys': 5.0, 'pool_stats': 5.0, 'df': 5.0,
}
# Module-owned state that cached responses may depend on: bumped with ClusterState.touch() when it changes.
LOCAL_STATE = ('keys', 'events')
JSON_WRAPPED = ('mon_status', 'health')     # get() returns {"json": "<string>"} for these
SOURCES = ('osd_map', 'osd_map_tree', 'osd_map_crush', 'osd_metadata', 'mon_map', 'mon_status', 'health',
           'pg_summary', 'fs_map', 'config', 'mgr_map', 'mon_metadata', 'mds_metadata', 'servers', 'pool_stats', 'df',
           'crush_rule_sizes')
# Sources the module keeps itself in its KV store (changed with touch()): the CRUSH rule sizes a release without
# them in CRUSH still shows (compat.RULE_SIZE_DEFAULTS).
STORE_SOURCES = ('crush_rule_sizes',)
OSD_MAP_DEPS = ('osd_map', 'osd_map_tree', 'osd_map_crush', 'osd_metadata')     # what the OSD map views read
RULE_DEPS = OSD_MAP_DEPS + ('crush_rule_sizes',)


def isoformat(ts: float) -> str:
    """Calamari's timestamp format: UTC with microseconds and ``+00:00``."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f+00:00')


class ClusterState:
    """Versioned cache of mgr maps and derived views.

    ``source(name)`` returns the parsed map; ``derived(key, deps, fn)`` memoizes ``fn()`` until any of the
    ``deps`` sources changes.  Both are safe to call from many HTTP threads at once; ``invalidate`` is
    called from ``notify()`` and is O(1).
    """

    def __init__(self, mgr: 'MgrModule', clock: Callable[[], float] = time.time) -> None:
        self._mgr = mgr
        self._clock = clock
        self._lock = threading.Lock()
        self._generation: Dict[str, int] = {name: 0 for name in SOURCES + LOCAL_STATE}
        self._sources: Dict[str, Tuple[int, float, Any]] = {}
        self._derived: Dict[Any, Tuple[Tuple[int, ...], float, Any]] = {}
        self._update_time: Optional[float] = None

    # -- invalidation ---------------------------------------------------------------------------
    def invalidate(self, notify_type: str) -> None:
        """A map changed: everything built from it is stale."""
        names = INVALIDATED_BY.get(notify_type)
        if names is None:
            return
        with self._lock:
            for name in names:
                self._generation[name] += 1
            self._update_time = self._clock()

    def touch(self, name: str) -> None:
        """Module-owned state (LOCAL_STATE) changed: responses built from it are stale."""
        with self._lock:
            self._generation[name] += 1

    def invalidate_all(self) -> None:
        with self._lock:
            for name in self._generation:
                self._generation[name] += 1
            self._derived.clear()

    def generations(self, deps: Iterable[str]) -> Tuple[int, ...]:
        with self._lock:
            return tuple(self._generation[d] for d in deps)

    # -- reading --------------------------------------------------------------------------------
    def _fresh(self, name: str, stamp: float) -> bool:
        max_age = MAX_AGE.get(name)
        return max_age is None or self._clock() - stamp < max_age

    def source(self, name: str) -> Any:
        with self._lock:
            gen = self._generation[name]
            cached = self._sources.get(name)
        if cached and cached[0] == gen and self._fresh(name, cached[1]):
            return cached[2]
        value = self._read(name)
        with self._lock:
            self._sources[name] = (gen, self._clock(), value)
            if self._update_time is None:
                self._update_time = self._clock()
        return value

    def _read(self, name: str) -> Any:
        if name == 'mon_metadata':
            return {m['name']: self._mgr.get_metadata('mon', m['name']) or {}
                    for m in (self.source('mon_map') or {}).get('mons', [])}
        if name == 'mds_metadata':
            return self._mgr.get('mds_metadata') or {}
        if name == 'servers':
            return self._mgr.list_servers()
        if name in STORE_SOURCES:
            try:
                return json.loads(self._mgr.get_store(name) or '{}')
            except ValueError:
                return {}
        value = self._mgr.get(name)
        if name in JSON_WRAPPED:
            try:
                return json.loads(value['json']) if value and value.get('json') else None
            except ValueError:
                return None
        return value

    def derived(self, key: Any, deps: Tuple[str, ...], build: Callable[[], Any]) -> Any:
        """Memoize ``build()`` until one of ``deps`` changes (or expires)."""
        gens = self.generations(deps)
        with self._lock:
            cached = self._derived.get(key)
        if cached and cached[0] == gens and all(self._fresh(d, cached[1]) for d in deps):
            return cached[2]
        value = build()
        with self._lock:
            self._derived[key] = (gens, self._clock(), value)
        return value

    # -- identity -------------------------------------------------------------------------------
    @property
    def fsid(self) -> str:
        return self.source('mon_map')['fsid']

    @property
    def name(self) -> str:
        return (self.source('config') or {}).get('cluster') or 'ceph'

    @property
    def update_time(self) -> str:
        return isoformat(self.update_timestamp)

    @property
    def update_timestamp(self) -> float:
        """When a map last changed (the first read of a map, until a notification comes)."""
        if self._update_time is None:
            self.source('mon_map')
        return self._update_time or self._clock()
