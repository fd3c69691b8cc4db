"""The HTTP(S) server: cheroot (CherryPy's WSGI server) serving the CalamariApp, TLS with stdlib ssl."""
import logging
import os
import socket
import ssl
import sys
import tempfile
import threading
from typing import Any, Optional

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from .webapp import MAX_BODY_BYTES

log = logging.getLogger(__name__)


# Calamari's UIs poll every few seconds from every open browser: keep their connections (cheroot keeps only 10 idle
# keep-alive connections by default and closes the rest after each response, so each poll paid a TCP and TLS
# handshake), and let a burst of them connect at once.
KEEPALIVE_CONNECTIONS = 1024
LISTEN_BACKLOG = 1024
# The HTTP worker threads run at a lower CPU priority than the rest of ceph-mgr (Linux: a nice value per thread):
# when clients saturate the API, the mgr's own work (its messengers, the commands it serves, the other modules)
# still gets the CPU it needs.
WORKER_NICENESS = 5


class ServerConfigError(Exception):
    pass


class HttpServer:
    """One listening server; ``start`` binds and serves in a thread, ``stop`` closes it."""

    def __init__(self, app: Any, addr: str, port: int, ssl_pem: Optional[tuple] = None,
                 threads: int = 16, socket_timeout: float = 10.0) -> None:
        self.addr = addr
        self.port = port
        self._tmpdir: Optional[tempfile.TemporaryDirectory] = None
        self.server = wsgi.Server((addr, port), _niced(app), numthreads=threads, server_name='calamari_api',
                                  timeout=int(socket_timeout), max=-1, request_queue_size=LISTEN_BACKLOG)
        self.server.keep_alive_conn_limit = KEEPALIVE_CONNECTIONS
        self.server.max_request_body_size = MAX_BODY_BYTES
        # cheroot reports errors on sys.stderr, which ceph-mgr has closed: writing there raised inside the
        # accept loop and one failed TLS handshake stopped the whole server.
        self.server.error_log = _error_log
        if ssl_pem:
            self._tmpdir = tempfile.TemporaryDirectory(prefix='calamari-api-')
            cert_path = os.path.join(self._tmpdir.name, 'cert.pem')
            key_path = os.path.join(self._tmpdir.name, 'key.pem')
            for path, content in ((cert_path, ssl_pem[0]), (key_path, ssl_pem[1])):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                with os.fdopen(fd, 'w') as f:
                    f.write(content)
            try:
                self.server.ssl_adapter = BuiltinSSLAdapter(cert_path, key_path)
            except Exception as e:
                raise ServerConfigError(f'invalid TLS certificate or key: {e}')
        self._thread: Optional[threading.Thread] = None

    @property
    def scheme(self) -> str:
        return 'https' if self.server.ssl_adapter else 'http'

    def start(self) -> None:
        try:
            self.server.prepare()
        except OSError as e:
            raise ServerConfigError(f'cannot listen on {self.addr}:{self.port}: {e}')
        self._thread = threading.Thread(target=self._serve, name='calamari_api-http', daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        try:
            self.server.serve()
        except Exception:
            log.exception('HTTP server stopped with an error')

    def stop(self) -> None:
        try:
            self.server.stop()
        finally:
            if self._thread:
                self._thread.join(timeout=10)
            if self._tmpdir:
                self._tmpdir.cleanup()


def _niced(app: Any) -> Any:
    """``app`` run by threads that lowered their own CPU priority (WORKER_NICENESS) on their first request."""
    niced = threading.local()

    def wrapper(environ: Any, start_response: Any) -> Any:
        if not getattr(niced, 'done', False):
            niced.done = True
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICENESS)
            except (OSError, AttributeError):       # (not Linux: the priority is the process's)
                pass
        return app(environ, start_response)
    return wrapper


def _error_log(msg: str = '', level: int = logging.INFO, traceback: bool = False) -> None:
    """cheroot's error_log, to the mgr log; a client's failed handshake or dropped connection is one line."""
    error = sys.exc_info()[1]
    if isinstance(error, (ssl.SSLError, ConnectionError, socket.timeout)):
        log.info('client connection failed: %s', error)
        return
    log.log(level, '%s', msg, exc_info=bool(traceback and error))


def check_pem_pair(cert: str, key: str) -> Optional[str]:
    """None when stdlib ssl accepts this certificate and key together, else the reason."""
    with tempfile.TemporaryDirectory(prefix='calamari-api-') as tmp:
        paths = []
        for name, content in (('cert.pem', cert), ('key.pem', key)):
            path = os.path.join(tmp, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(content)
            paths.append(path)
        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(*paths)
        except (ssl.SSLError, OSError) as e:
            return str(e)
    return None


def public_uri(scheme: str, addr: str, port: int, fallback_host: str) -> str:
    host = addr
    if addr in ('::', '0.0.0.0', ''):
        host = fallback_host or socket.getfqdn()
    if ':' in host and not host.startswith('['):
        host = f'[{host}]'
    return f'{scheme}://{host}:{port}/'
