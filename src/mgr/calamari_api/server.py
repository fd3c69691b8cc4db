"""The HTTP(S) server: cheroot (CherryPy's WSGI server) serving the CalamariApp, TLS with stdlib ssl.

Malformed requests that never reach the application (a broken request line, headers or framing, headers past
MAX_HEADER_BYTES, a client too slow to send its request) get cheroot's 4xx in Calamari's error shape."""
import json
import logging
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
from typing import Any, Optional

from cheroot import server as cheroot_server
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from .webapp import MAX_BODY_BYTES

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024      # request line + headers; more is a 413 (an URI past it a 414)
READ_DEADLINE = 30.0              # seconds for a client to send a whole request (each read: the socket timeout)


class JsonErrorRequest(cheroot_server.HTTPRequest):
    """cheroot's request, whose own error responses are Calamari's ``{"detail": ...}`` JSON.  A request cheroot
    cannot take (a Transfer-Encoding other than chunked: 501; an HTTP version it does not speak: 505) is the
    client's error here: 400, so that no request a client makes up is answered with a 5xx."""

    def simple_response(self, status: Any, msg: Any = '') -> None:
        status = str(status)
        if status[:3] in ('501', '505'):
            msg = msg or status[4:]
            status = '400 Bad Request'
        text = msg.decode('ISO-8859-1') if isinstance(msg, bytes) else str(msg)
        body = json.dumps({'detail': text or status[4:]}).encode()
        head = [f'{self.server.protocol} {status}', f'Content-Length: {len(body)}', 'Content-Type: application/json']
        if status[:3] in ('413', '414'):
            self.close_connection = True
            head.append('Connection: close')
        try:
            self.conn.wfile.write(('\r\n'.join(head) + '\r\n\r\n').encode('ISO-8859-1') + body)
        except socket.error as ex:
            if ex.args[0] not in cheroot_server.errors.socket_errors_to_ignore:
                raise


class DeadlineReader:
    """A connection's read stream with a deadline for the whole request (``READ_DEADLINE``): each read waits at
    most the socket timeout, so without it a client that trickles a byte now and then would hold a worker thread
    for as long as it likes.  Reads do at most one socket read between two looks at the clock."""

    def __init__(self, stream: Any, sock: Any, deadline: float) -> None:
        self._stream = stream
        self._sock = sock
        self._deadline = deadline
        self.timed_out = False          # then the stream is unusable: later reads see its end, the connection closes
        self._limit = sock.gettimeout()  # what one socket read may wait now
        self.shortened = False          # the socket's timeout was cut to the time left

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _available(self) -> bytes:
        """What the stream has buffered, after at most one socket read (b'' at the end of the stream)."""
        if self.timed_out:
            return b''
        remaining = self._deadline - time.monotonic()
        try:
            if remaining <= 0:
                raise socket.timeout('timed out')
            if self._limit is None or remaining < self._limit:     # (a system call: only near the deadline)
                self._sock.settimeout(remaining)
                self._limit = remaining
                self.shortened = True
            return self._stream.peek(1)
        except socket.timeout:
            self.timed_out = True
            raise

    def read(self, size: Optional[int] = -1) -> bytes:
        return self._read(size, through_newline=False)

    def readline(self, size: Optional[int] = -1) -> bytes:
        return self._read(size, through_newline=True)

    def _read(self, size: Optional[int], through_newline: bool) -> bytes:
        """Up to ``size`` bytes (all, when None or negative), stopping after a newline if asked, one socket read
        at a time against the deadline."""
        out = bytearray()
        while size is None or size < 0 or len(out) < size:
            buffered = self._available()
            if not buffered:
                break
            want = len(buffered) if size is None or size < 0 else min(len(buffered), size - len(out))
            newline = buffered.find(b'\n', 0, want) if through_newline else -1
            out += self._stream.read(newline + 1 if newline >= 0 else want)
            if newline >= 0:
                break
        return bytes(out)


class DeadlineConnection(cheroot_server.HTTPConnection):
    """cheroot's connection: JSON error responses, and each request read against ``READ_DEADLINE``."""
    RequestHandlerClass = JsonErrorRequest

    def communicate(self) -> bool:
        stream = self.rfile
        timeout = self.server.timeout
        deadline = time.monotonic() + getattr(self.server, 'read_deadline', READ_DEADLINE)
        reader = self.rfile = DeadlineReader(stream, self.socket, deadline)
        try:
            # after a timeout (answered 408) the socket cannot be read again: the connection ends
            return super().communicate() and not reader.timed_out
        finally:
            self.rfile = stream
            if reader.shortened:
                try:
                    self.socket.settimeout(timeout)
                except OSError:
                    pass


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


class ServingThread:
    """A cheroot server with the settings every server of the module shares (worker threads at WORKER_NICENESS,
    KEEPALIVE_CONNECTIONS, LISTEN_BACKLOG, errors to the mgr log); ``start`` binds and serves in a thread, ``stop``
    closes it."""
    thread_name = 'calamari_api-http'

    def __init__(self, app: Any, addr: str, port: int, threads: int, **server_options: Any) -> None:
        self.addr = addr
        self.port = port
        self.server = wsgi.Server((addr, port), niced(app), numthreads=threads, request_queue_size=LISTEN_BACKLOG,
                                  **server_options)
        self.server.keep_alive_conn_limit = KEEPALIVE_CONNECTIONS
        # cheroot reports errors on sys.stderr, which ceph-mgr has closed: writing there raised inside the
        # accept loop and one failed TLS handshake stopped the whole server.
        self.server.error_log = _error_log
        self._thread: Optional[threading.Thread] = None

    def start(self) -> None:
        try:
            self.server.prepare()
        except OSError as e:
            raise ServerConfigError(f'cannot listen on {self.addr}:{self.port}: {e}')
        self._thread = threading.Thread(target=self._serve, name=self.thread_name, daemon=True)
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


class HttpServer(ServingThread):
    """The API's server: cheroot with request limits, a read deadline, JSON errors and TLS."""

    def __init__(self, app: Any, addr: str, port: int, ssl_pem: Optional[tuple] = None,
                 threads: int = 16, socket_timeout: float = 10.0, read_deadline: float = READ_DEADLINE) -> None:
        super().__init__(app, addr, port, threads, server_name='calamari_api', timeout=int(socket_timeout), max=-1)
        self._tmpdir: Optional[tempfile.TemporaryDirectory] = None
        self.server.max_request_body_size = MAX_BODY_BYTES
        self.server.max_request_header_size = MAX_HEADER_BYTES
        self.server.ConnectionClass = DeadlineConnection
        self.server.read_deadline = read_deadline
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

    @property
    def scheme(self) -> str:
        return 'https' if self.server.ssl_adapter else 'http'

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            if self._tmpdir:
                self._tmpdir.cleanup()


def niced(app: Any) -> Any:
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
