"""The benchmark's floor, served from inside ceph-mgr (test only: module option ``bench_floor_port``, 0 = off).

bench/bench.py compares each cached GET with bare cheroot answering the same request with a fixed body of the
same size.  Served from here, that floor runs in the mgr's own Python (its libpython, a shared library that runs
Python code slower than the python3 executable does), in its process, with the module's thread count, worker
priority and keep-alive limit: the ratio then measures what the module adds to cheroot, and nothing else.
``GET /<n>`` answers n bytes."""
import logging
import threading
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from cheroot import wsgi

from .server import KEEPALIVE_CONNECTIONS, LISTEN_BACKLOG, ServerConfigError, niced

log = logging.getLogger(__name__)

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


class BenchFloor:
    """Bare cheroot serving FixedBodies in a thread, with the module's server settings."""

    def __init__(self, addr: str, port: int, threads: int) -> None:
        self.server = wsgi.Server((addr, port), niced(FixedBodies()), numthreads=threads,
                                  request_queue_size=LISTEN_BACKLOG)
        self.server.keep_alive_conn_limit = KEEPALIVE_CONNECTIONS
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        try:
            self.server.prepare()
        except OSError as e:
            raise ServerConfigError(f'bench floor: cannot listen: {e}')
        self._thread = threading.Thread(target=self.server.serve, name='calamari_api-floor', daemon=True)
        self._thread.start()
        log.info('bench floor serving on port %d', self.server.bind_addr[1])

    def stop(self) -> None:
        self.server.stop()
        if self._thread:
            self._thread.join(timeout=10)
