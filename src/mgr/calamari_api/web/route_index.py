"""URL path → what the dispatcher resolved for it, for the cacheable GETs it has served.

The full path (``app.CalamariApp``, CherryPy + Routes) owns the index and records into it; the fast path only reads
it, so the fast path never matches URLs itself and serves only paths the full path has resolved the same way."""
from threading import Lock
from typing import Dict, Mapping, NamedTuple, Optional

from .endpoint import Endpoint, Handler
from .routes import Route

MAX_PATHS = 8192          # distinct paths remembered (an OSD list of 3000 OSDs has 3000 osd/<id> paths)


class Resolved(NamedTuple):
    """One URL path's endpoint, GET route, handler and path parameters."""
    endpoint: Endpoint
    route: Route
    handler: Handler
    params: Mapping[str, str]


class RouteIndex:
    def __init__(self, max_paths: int = MAX_PATHS) -> None:
        self._paths: Dict[str, Resolved] = {}
        self._max = max_paths
        self._lock = Lock()

    def record(self, path: str, resolved: Resolved) -> None:
        with self._lock:
            if len(self._paths) >= self._max:
                self._paths.clear()
            self._paths[path] = resolved

    def get(self, path: str) -> Optional[Resolved]:
        return self._paths.get(path)
