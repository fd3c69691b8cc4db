"""The HTTP(S) server: cheroot (CherryPy's WSGI server) serving the CalamariApp, TLS with stdlib ssl.

Malformed requests that never reach the application (a broken request line, headers or framing, headers past
MAX_HEADER_BYTES, a client too slow to send its request) get cheroot's 4xx in Calamari's error shape.

A worker thread gets a connection only once its request has arrived (``DeadlineConnection``): until then the
connection waits in cheroot's selector with the idle keep-alive ones, so clients that send slowly (or do not finish
a TLS handshake) hold no worker and cannot starve the others.  Every answer carries the security headers
(``SECURITY_HEADERS``)."""
import json
import logging
import os
import re
import socket
import ssl
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from cheroot import server as cheroot_server
from cheroot import wsgi
from cheroot.makefile import StreamWriter
from cheroot.ssl.builtin import BuiltinSSLAdapter

from .http import MAX_BODY_BYTES

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024      # request line + headers; more is a 413 (an URI past it a 414)
READ_DEADLINE = 30.0              # seconds for a client to send a whole request (each read: the socket timeout)
RECV_BYTES = 65536                # one read of a request that is still arriving

# Mozilla's "intermediate" configuration (TLS 1.2 ciphers; every TLS 1.3 suite is forward-secret): ECDHE/DHE key
# exchange with AEAD ciphers only, so no AES128-SHA (RSA key exchange: no forward secrecy).
DEFAULT_TLS_CIPHERS = ('ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:'
                       'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:'
                       'DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305')
TLS_VERSIONS = {'TLSv1.2': ssl.TLSVersion.TLSv1_2, 'TLSv1.3': ssl.TLSVersion.TLSv1_3}
DEFAULT_TLS_MIN_VERSION = 'TLSv1.2'

# On every answer (the application's, the fast path's, cheroot's own errors, the standby's 503).
SECURITY_HEADERS: List[Tuple[str, str]] = [
    ('X-Content-Type-Options', 'nosniff'), ('X-Frame-Options', 'DENY'),
    ('Content-Security-Policy', "frame-ancestors 'none'")]
HSTS_HEADER = ('Strict-Transport-Security', 'max-age=31536000')      # over TLS only
# Answers that set no Cache-Control of their own may be kept by the browser (and revalidated: ETag, 304) but never
# by a shared cache: most hold what only an authenticated user may see.
PRIVATE_CACHE_HEADER = ('Cache-Control', 'private')


class HeadHoldingWriter(StreamWriter):
    """cheroot's socket writer, which sends each write at once, but can keep one (an answer's head) to send it with
    the next (its body): one send instead of two per answer, and each send is a system call or two (a poll first,
    on a socket with a timeout) that let go of the GIL, which the mgr's other threads then contend for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._holding = False
        self._held = b''

    def hold_next(self) -> None:
        self._holding = True

    def write(self, val: Any, *args: Any, **kwargs: Any) -> int:
        if self._holding:
            self._holding, self._held = False, bytes(val)
            return len(val)
        if self._held:
            val, self._held = self._held + val, b''
        return super().write(val, *args, **kwargs)

    def release(self) -> None:
        """Send what is held (an answer without a body, or one that failed before its body)."""
        self._holding = False
        if self._held:
            held, self._held = self._held, b''
            super().write(held)


class JsonErrorRequest(cheroot_server.HTTPRequest):
    """cheroot's request, whose own error responses are Calamari's ``{"detail": ...}`` JSON.  A request cheroot
    cannot take (a Transfer-Encoding other than chunked: 501; an HTTP version it does not speak: 505) is the
    client's error here: 400, so that no request a client makes up is answered with a 5xx.  The answer's head goes
    out with its body (``HeadHoldingWriter``)."""

    def send_headers(self) -> None:
        if isinstance(self.conn.wfile, HeadHoldingWriter):
            self.conn.wfile.hold_next()
        super().send_headers()

    def respond(self) -> None:
        try:
            super().respond()
        finally:
            if isinstance(self.conn.wfile, HeadHoldingWriter):
                self.conn.wfile.release()

    def simple_response(self, status: Any, msg: Any = '') -> None:
        status = str(status)
        if status[:3] in ('501', '505'):
            msg = msg or status[4:]
            status = '400 Bad Request'
        text = msg.decode('ISO-8859-1') if isinstance(msg, bytes) else str(msg)
        close = status[:3] in ('413', '414')
        if close:
            self.close_connection = True
        try:
            self.conn.wfile.write(error_answer(self.server, status, text, close))
        except socket.error as ex:
            if ex.args[0] not in cheroot_server.errors.socket_errors_to_ignore:
                raise


def error_answer(server: Any, status: str, text: str, close: bool) -> bytes:
    """A whole HTTP answer in Calamari's ``{"detail": ...}`` shape, with the security headers."""
    body = json.dumps({'detail': text or status[4:]}).encode()
    head = [f'{server.protocol} {status}', f'Content-Length: {len(body)}', 'Content-Type: application/json']
    head += [f'{name}: {value}' for name, value in security_headers(server.ssl_adapter is not None, [])]
    if close:
        head.append('Connection: close')
    return ('\r\n'.join(head) + '\r\n\r\n').encode('ISO-8859-1') + body


def security_headers(tls: bool, headers: List[Tuple[str, str]]) -> List[Tuple[str, str]]:
    """What an answer with ``headers`` gets added: SECURITY_HEADERS, HSTS over TLS, Cache-Control: private
    unless it has a Cache-Control."""
    extra = SECURITY_HEADERS + [HSTS_HEADER] if tls else list(SECURITY_HEADERS)
    for name, _ in headers:
        if name.lower() == 'cache-control':
            return extra
    extra.append(PRIVATE_CACHE_HEADER)
    return extra


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


CONTENT_LENGTH = re.compile(rb'\ncontent-length[ \t]*:[ \t]*(\d{1,12})[ \t]*\r?\n')
CHUNKED = re.compile(rb'\ntransfer-encoding[ \t]*:[ \t]*chunked[ \t]*\r?\n')
EXPECT = re.compile(rb'\nexpect[ \t]*:', re.IGNORECASE)
EXPECT_CONTINUE = re.compile(rb'\nexpect[ \t]*:[ \t]*100-continue[ \t]*\r?\n', re.IGNORECASE)
TRANSFER_ENCODING = re.compile(rb'\ntransfer-encoding[ \t]*:')
CHUNK_SIZE = re.compile(rb'([0-9a-fA-F]{1,8})[ \t]*(?:;[^\r\n]*)?\r?\n')
CONTINUE = b'HTTP/1.1 100 Continue\r\n\r\n'
NOTHING_TO_READ = (BlockingIOError, InterruptedError, ssl.SSLWantReadError, ssl.SSLWantWriteError)


def headers_end(head: bytes) -> Optional[int]:
    """Where the request line and headers of ``head`` end (after their blank line); None while incomplete."""
    end = head.find(b'\n\r\n')
    bare = head.find(b'\n\n')           # (LF-only line ends: cheroot answers 400, not worth a wait)
    if end < 0 or 0 <= bare < end:
        return None if bare < 0 else bare + 2
    return end + 3


def request_end(head: bytes, max_body: int) -> Optional[int]:
    """How many bytes of ``head`` (what a connection received) make its first request: request line, headers and
    a Content-Length or chunked body (``max_body`` at most); None while incomplete.  What the worker had better
    answer at once (a body too large: 413; framing cheroot refuses; an expectation other than 100-continue) ends
    with the headers: the worker reads the rest, if any."""
    end = headers_end(head)
    if end is None:
        return None
    if head.startswith(b'GET ') or head.startswith(b'HEAD '):
        return end
    fields = head[:end].lower()
    length = CONTENT_LENGTH.search(fields)
    encoded = TRANSFER_ENCODING.search(fields)
    if (EXPECT.search(fields) and not EXPECT_CONTINUE.search(fields)) or (length and encoded):
        return end
    if encoded:
        return chunked_end(head, end, max_body) if CHUNKED.search(fields) else end
    if length is None or int(length.group(1)) > max_body:
        return end
    whole = end + int(length.group(1))
    return whole if whole <= len(head) else None


def chunked_end(head: bytes, start: int, max_body: int) -> Optional[int]:
    """Where a chunked body starting at ``start`` ends (after its last chunk and trailers), None while it is still
    arriving; ``start`` (the worker reads it, and answers) when it is larger than ``max_body`` or malformed."""
    position, total = start, 0
    while True:
        size = CHUNK_SIZE.match(head, position)
        if size is None:
            line_end = head.find(b'\n', position)
            return None if line_end < 0 and len(head) - position < 64 else start
        position, length = size.end(), int(size.group(1), 16)
        total += length
        if total > max_body:
            return start
        if length == 0:
            break
        if len(head) < position + length + 2:
            return None
        if head[position + length:position + length + 2] != b'\r\n':
            return start
        position += length + 2
    while True:                         # trailer fields, then a blank line
        line_end = head.find(b'\n', position)
        if line_end < 0:
            return None if len(head) - position < MAX_HEADER_BYTES else start
        line, position = head[position:line_end], line_end + 1
        if line in (b'', b'\r'):
            return position


def awaits_continue(head: bytes) -> bool:
    """Whether ``head`` is an HTTP/1.1 request whose headers are in and which waits for a ``100 Continue`` before
    it sends its body."""
    end = headers_end(head)
    return end is not None and b' HTTP/1.1' in head[:head.find(b'\n')] and \
        EXPECT_CONTINUE.search(head[:end]) is not None


def without_expect(head: bytes) -> bytes:
    """``head`` without its ``Expect: 100-continue`` header (answered already: cheroot must not answer it again)."""
    end = headers_end(head) or len(head)
    return EXPECT_CONTINUE.sub(b'\n', head[:end], count=1) + head[end:]


class DeadlineConnection(cheroot_server.HTTPConnection):
    """cheroot's connection: JSON error responses; a worker only once the request has arrived; each request read
    against ``READ_DEADLINE``.

    cheroot hands a connection to a worker as soon as it is accepted or has a byte to read, and the worker then
    blocks until the whole request is in (up to the socket timeout for each read): four clients sending a byte now
    and then held every worker.  Here the worker reads only what has arrived (a non-blocking read; over TLS it also
    does the handshake, deferred from cheroot's accept loop, where a silent client stopped all the others); until
    the request line, headers and body (Content-Length or chunked, up to the largest allowed) are in, the connection
    goes back to the selector like an idle keep-alive one; a request that expects a ``100 Continue`` gets it there,
    and its body is waited for the same way.  A client that takes longer than READ_DEADLINE from its first byte
    gets a 408; one that stops sending is answered 408 when cheroot expires it (its socket timeout)."""
    RequestHandlerClass = JsonErrorRequest

    def __init__(self, server: Any, sock: Any, makefile: Any = cheroot_server.MakeFile) -> None:
        super().__init__(server, sock, makefile)
        self.wfile = HeadHoldingWriter(sock, 'wb', self.wbufsize)
        self._arrived = bytearray()         # the next request, as far as it has arrived
        self._first_byte: Optional[float] = None
        self._handshake_done = not isinstance(sock, ssl.SSLSocket)

    def communicate(self) -> bool:
        arrived = self._receive()
        if arrived is not True:
            return arrived is None          # None: wait in the selector (True keeps the connection); False: close
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

    def _receive(self) -> Optional[bool]:
        """Read what has arrived without waiting: True when the request is in (then it is in ``rfile``'s buffer for
        cheroot to parse), None to wait for more, False to close."""
        stream = self.rfile
        # (cheroot's StreamReader is a _pyio.BufferedReader: what it holds is _read_buf[_read_pos:], as has_data())
        self._arrived += stream._read_buf[stream._read_pos:]
        stream._reset_read_buf()
        sock = self.socket
        ended = False
        try:
            sock.settimeout(0.0)
            if not self._handshake_done:
                sock.do_handshake()
                self._handshake_done = True
                self.ssl_env = self.server.ssl_adapter.get_environ(sock)
            max_body = self.server.max_request_body_size
            try:
                while request_end(self._arrived, max_body) is None and len(self._arrived) <= MAX_HEADER_BYTES:
                    chunk = sock.recv(RECV_BYTES)
                    if not chunk:
                        ended = True
                        break
                    self._arrived += chunk
            except NOTHING_TO_READ:
                pass
            if not ended and request_end(self._arrived, max_body) is None and awaits_continue(self._arrived):
                sock.send(CONTINUE)     # (25 bytes to a socket that sent nothing back yet: its buffer has room)
                self._arrived = bytearray(without_expect(bytes(self._arrived)))
        except NOTHING_TO_READ:
            pass
        except (ssl.SSLError, OSError) as e:           # a failed handshake, a reset connection
            log.info('client connection failed: %s', e)
            self._arrived.clear()
            return False
        finally:
            try:
                sock.settimeout(self.server.timeout)
            except OSError:
                pass
        complete = request_end(self._arrived, self.server.max_request_body_size) is not None
        if complete or ended or len(self._arrived) > MAX_HEADER_BYTES:
            if not self._arrived:
                return False                # the client left
            stream._read_buf = bytes(self._arrived)       # cheroot parses it (or answers its 4xx) as ever
            stream._read_pos = 0
            self._arrived = bytearray()
            self._first_byte = None
            return True
        if self._arrived:
            now = time.monotonic()
            if self._first_byte is None:
                self._first_byte = now
            elif now - self._first_byte > getattr(self.server, 'read_deadline', READ_DEADLINE):
                self._answer_timeout()
                return False
        return None

    def _answer_timeout(self) -> None:
        """408 for a request that did not arrive in time (without waiting: the client may not be reading)."""
        self._arrived.clear()
        try:
            self.socket.settimeout(0.0)
            self.socket.send(error_answer(self.server, '408 Request Timeout', '', close=True))
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        """Also when cheroot expires a connection whose request is still arriving: that client gets its 408."""
        if self._arrived and self._handshake_done:
            self._answer_timeout()
        super().close()


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


class DeferredHandshakeAdapter(BuiltinSSLAdapter):
    """cheroot's stdlib TLS adapter, whose accept does no handshake: DeadlineConnection does it without waiting
    (cheroot's accept loop waited up to the socket timeout for each client's handshake, serving no one else)."""

    def wrap(self, sock: Any) -> Tuple[Any, Dict[str, Any]]:
        return self.context.wrap_socket(sock, do_handshake_on_connect=False, server_side=True), {}


class TlsSettings:
    """The server's TLS: its certificate and key (PEM text), the lowest protocol version and the TLS 1.2 ciphers."""

    def __init__(self, cert: str, key: str, min_version: str = DEFAULT_TLS_MIN_VERSION,
                 ciphers: str = DEFAULT_TLS_CIPHERS) -> None:
        self.cert = cert
        self.key = key
        self.min_version = min_version or DEFAULT_TLS_MIN_VERSION
        self.ciphers = ciphers or DEFAULT_TLS_CIPHERS


def tls_adapter(tls: TlsSettings) -> Tuple[DeferredHandshakeAdapter, Optional[float]]:
    """The adapter serving ``tls`` and its certificate's notAfter (Unix time; None when unreadable).  The key is
    written to a private temporary file only for as long as ssl loads it (ssl takes only paths)."""
    if tls.min_version not in TLS_VERSIONS:
        raise ServerConfigError(f'ssl_min_version must be one of {", ".join(TLS_VERSIONS)}, not {tls.min_version!r}')
    with tempfile.TemporaryDirectory(prefix='calamari-api-') as tmp:
        cert_path, key_path = _write_private(tmp, 'cert.pem', tls.cert), _write_private(tmp, 'key.pem', tls.key)
        try:
            adapter = DeferredHandshakeAdapter(cert_path, key_path)
            adapter.context.minimum_version = TLS_VERSIONS[tls.min_version]
            adapter.context.set_ciphers(tls.ciphers)
        except ssl.SSLError as e:
            if 'cipher' in str(e).lower():
                raise ServerConfigError(f'ssl_ciphers selects no cipher: {tls.ciphers!r}')
            raise ServerConfigError(f'invalid TLS certificate or key: {e}')
        except Exception as e:
            raise ServerConfigError(f'invalid TLS certificate or key: {e}')
        return adapter, certificate_not_after(cert_path)


def certificate_not_after(cert_path: str) -> Optional[float]:
    """The certificate's notAfter as Unix time (stdlib only: ssl's own certificate decoder), None if unreadable."""
    try:
        return float(ssl.cert_time_to_seconds(ssl._ssl._test_decode_cert(cert_path)['notAfter']))  # type: ignore
    except (ssl.SSLError, OSError, KeyError, ValueError, AttributeError):
        return None


def _write_private(directory: str, name: str, content: str) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, 'w') as f:
        f.write(content)
    return path


class HttpServer(ServingThread):
    """The API's server: cheroot with request limits, a read deadline, JSON errors and TLS."""

    def __init__(self, app: Any, addr: str, port: int, ssl_pem: Optional[tuple] = None,
                 threads: int = 16, socket_timeout: float = 10.0, read_deadline: float = READ_DEADLINE,
                 tls: Optional[TlsSettings] = None) -> None:
        if tls is None and ssl_pem:
            tls = TlsSettings(ssl_pem[0], ssl_pem[1])
        super().__init__(with_security_headers(app), addr, port, threads, server_name='calamari_api',
                         timeout=int(socket_timeout), max=-1)
        self.server.max_request_body_size = MAX_BODY_BYTES
        self.server.max_request_header_size = MAX_HEADER_BYTES
        self.server.ConnectionClass = DeadlineConnection
        self.server.read_deadline = read_deadline
        self.cert_not_after: Optional[float] = None
        if tls:
            self.server.ssl_adapter, self.cert_not_after = tls_adapter(tls)

    @property
    def scheme(self) -> str:
        return 'https' if self.server.ssl_adapter else 'http'


def with_security_headers(app: Any) -> Callable[..., Any]:
    """``app`` whose answers carry the security headers (see ``security_headers``)."""
    def wrapper(environ: Dict[str, Any], start_response: Any) -> Any:
        tls = environ.get('wsgi.url_scheme') == 'https'

        def start(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Any:
            headers = headers + security_headers(tls, headers)
            return start_response(status, headers) if exc_info is None else start_response(status, headers, exc_info)
        return app(environ, start)
    return wrapper


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
        paths = [_write_private(tmp, 'cert.pem', cert), _write_private(tmp, 'key.pem', key)]
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
