"""The benchmark's floor, served from inside ceph-mgr by the bench-only mgr module ``calamari_bench``.

bench/bench.py compares each cached GET with bare cheroot answering the same request with a fixed body of the
same size.  Served from here, that floor runs in the mgr's own Python (its libpython, a shared library that runs
Python code slower than the python3 executable does), in its process, with the module's thread count and the
settings its servers share (``server.ServingThread``): the ratio then measures what the module adds to cheroot,
and nothing else.  ``GET /<n>`` answers n bytes."""
from typing import Any, Callable, Dict, Iterable, List, Tuple

from calamari_api.web.server import ServingThread     # the settings calamari_api's servers share

MAX_BODY = 16 << 20         # bytes
MAX_BODIES = 16             # sizes kept


class FixedBodies:
    """The bare WSGI app: ``GET /<n>`` → n bytes, anything else → 404."""

    def __init__(self) -> None:
        self._bodies: Dict[int, bytes] = {}

    def __call__(self, environ: Dict[str, Any],
                 start_response: Callable[[str, List[Tuple[str, str]]], Any]) -> Iterable[bytes]:
        text = environ.get('PATH_INFO', '')[1:]
        size = int(text) if text.isdigit() and len(text) < 9 else -1
        if not 0 <= size <= MAX_BODY:
            start_response('404 Not Found', [('Content-Length', '0')])
            return [b'']
        body = self._bodies.get(size)
        if body is None:
            if len(self._bodies) >= MAX_BODIES:
                self._bodies.clear()
            body = self._bodies[size] = b'x' * size
        start_response('200 OK', [('Content-Type', 'application/json'), ('Content-Length', str(size))])
        return [body]


class BenchFloor(ServingThread):
    """Bare cheroot serving FixedBodies, with the settings the module's servers share."""
    thread_name = 'calamari_api-floor'

    def __init__(self, addr: str, port: int, threads: int) -> None:
        super().__init__(FixedBodies(), addr, port, threads)
