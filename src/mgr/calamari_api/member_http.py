"""The HTTP side of talking to members (members.py): verified exchanges with a member's calamari_api.

``call`` makes one exchange on a connection of its own.  ``Connections`` keeps connections to each member alive
between a hub's reads, so a forwarded GET does not pay a TCP (and TLS) handshake: at most ``MAX_IDLE`` idle ones
per member, none reused after ``IDLE_TIMEOUT`` seconds idle (a member's server closes idle connections itself),
one TLS context per CA.  Only GET and HEAD take a kept connection, and are asked once more on a new one when the
member had closed it meanwhile; a write always goes on a new connection and is never asked twice.
"""
import http.client
import ssl
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit

MEMBER_TIMEOUT = 3.0            # seconds for a connection, and for each read of an answer
MAX_ANSWER_BYTES = 64 * 1024 * 1024
MAX_IDLE = 4                    # idle connections kept per member
IDLE_TIMEOUT = 5.0              # seconds an idle connection may still be reused
MAX_CONTEXTS = 128              # TLS contexts kept (one per CA)
REUSING = ('GET', 'HEAD')       # the methods a kept connection serves (asked again when it turns out closed)
# What a kept connection the member closed meanwhile raises on the request's send or first read
# (http.client.RemoteDisconnected is both a ConnectionResetError and a BadStatusLine; SSLEOFError is TLS's form)
STALE = (BrokenPipeError, ConnectionResetError, http.client.BadStatusLine, ssl.SSLEOFError)

Key = Tuple[str, str, str, str]     # a member's URL, CA, TLS name and token
Answer = Tuple[int, Any, bytes]     # status, the answer's header map, body


class MemberError(Exception):
    """The member could not be asked or did not answer in time (the message names it)."""


def describe(record: Mapping[str, Any]) -> str:
    name = record.get('name') or '?'
    return f"cluster {name} ({record.get('fsid') or '?'}) at {record['url']}"


class _VerifiedHTTPS(http.client.HTTPSConnection):
    """HTTPS whose certificate is checked against ``tls_name`` (the certificate's name, when it is not the URL's
    host, e.g. ``calamari-api`` for create-self-signed-cert's certificate)."""

    def __init__(self, host: str, port: Optional[int], timeout: float, context: ssl.SSLContext,
                 tls_name: str) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._tls_name = tls_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._tls_name or self.host)


def tls_context(ca_pem: Optional[str]) -> ssl.SSLContext:
    """Verifying TLS: against ``ca_pem`` when given, else the system's trust store."""
    context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
    return context


@contextmanager
def _reasons(record: Mapping[str, Any], timeout: float) -> Iterator[None]:
    """Failures to reach a member raised as MemberError naming it and why."""
    try:
        yield
    except MemberError:
        raise
    except ssl.SSLError as e:       # (verify_message: e.g. "IP address mismatch, certificate is not valid for ...")
        raise MemberError(f"{describe(record)}: TLS verification failed "
                          f"({getattr(e, 'verify_message', None) or e.reason or e})")
    except (OSError, http.client.HTTPException, ValueError) as e:
        reason = 'no answer within %gs' % timeout if isinstance(e, TimeoutError) else (str(e) or type(e).__name__)
        raise MemberError(f'{describe(record)} is unreachable: {reason}')


def _connection(record: Mapping[str, Any], timeout: float,
                context: Callable[[Optional[str]], ssl.SSLContext]) -> http.client.HTTPConnection:
    """A new connection (it connects on its first request); ``context(ca)`` gives the TLS context for https."""
    parts = urlsplit(record['url'])
    if parts.scheme == 'https':
        return _VerifiedHTTPS(parts.hostname, parts.port, timeout, context(record.get('ca')),
                              record.get('tls_name') or '')
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def _send(conn: http.client.HTTPConnection, record: Mapping[str, Any], method: str, path_qs: str, body: bytes,
          headers: Optional[Mapping[str, str]]) -> http.client.HTTPResponse:
    """Send a request with the member's token; the answer with its status and headers read.  The connection is
    closed when this fails."""
    parts = urlsplit(record['url'])
    try:
        conn.putrequest(method, parts.path + path_qs, skip_host=True, skip_accept_encoding=True)
        sent = dict(headers or {})
        sent.setdefault('Host', parts.netloc)
        sent['Authorization'] = f'Bearer {record["token"]}'
        if body or method not in ('GET', 'HEAD', 'OPTIONS', 'DELETE'):
            sent['Content-Length'] = str(len(body))
        for name, value in sent.items():
            conn.putheader(name, value)
        conn.endheaders(body or None)
        return conn.getresponse()
    except BaseException:
        conn.close()
        raise


def _read(record: Mapping[str, Any], response: http.client.HTTPResponse) -> bytes:
    """The answer's body, at most MAX_ANSWER_BYTES (MemberError beyond)."""
    data = response.read(MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        raise MemberError(f'{describe(record)} answered more than {MAX_ANSWER_BYTES} bytes')
    return data


def call(record: Mapping[str, Any], method: str, path_qs: str, body: bytes = b'',
         headers: Optional[Mapping[str, str]] = None, timeout: float = MEMBER_TIMEOUT) -> Answer:
    """One HTTP exchange with a member (``path_qs`` is below its URL) on a connection of its own: (status, the
    answer's header map, body).  MemberError (naming the member) when it cannot be reached or its TLS certificate
    does not check."""
    with _reasons(record, timeout):
        conn = _connection(record, timeout, tls_context)
        try:
            response = _send(conn, record, method, path_qs, body, headers)
            return response.status, response.headers, _read(record, response)
        finally:
            conn.close()


def _close(conns: List[http.client.HTTPConnection]) -> None:
    for conn in conns:
        conn.close()


class Connections:
    """Kept-alive connections to members, keyed by URL, CA, TLS name and token; safe from any thread."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, max_idle: int = MAX_IDLE,
                 idle_timeout: float = IDLE_TIMEOUT) -> None:
        self._clock = clock
        self._max_idle = max_idle
        self._idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._idle: Dict[Key, List[Tuple[http.client.HTTPConnection, float]]] = {}     # oldest first
        self._contexts: Dict[str, ssl.SSLContext] = {}
        self._generation = 0        # a forget() since a connection was taken: it is closed, not kept

    def call(self, record: Mapping[str, Any], method: str, path_qs: str, body: bytes = b'',
             headers: Optional[Mapping[str, str]] = None, timeout: float = MEMBER_TIMEOUT) -> Answer:
        """``call``, a GET or HEAD on a kept connection when there is one (on a new one when the member had
        closed it); the connection is kept afterwards when the answer was read to its end and not the last."""
        key = _key(record)
        with _reasons(record, timeout):
            taken = self._take(key) if method in REUSING else None
            if taken is not None:
                conn, generation = taken
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                try:
                    response = _send(conn, record, method, path_qs, body, headers)
                except STALE:
                    pass                # closed by the member while idle: asked once more, on a new connection
                else:
                    return self._finish(key, generation, conn, record, response)
            generation = self._generation
            conn = _connection(record, timeout, self._context)
            return self._finish(key, generation, conn, record, _send(conn, record, method, path_qs, body, headers))

    def idle(self, record: Mapping[str, Any]) -> int:
        """How many idle connections to the member are kept."""
        with self._lock:
            return len(self._idle.get(_key(record), []))

    def forget(self, record: Optional[Mapping[str, Any]] = None) -> None:
        """Close the idle connections to the member's URL (any token or CA), or to every member; connections in
        use now are closed when their answer is read."""
        with self._lock:
            self._generation += 1
            gone = self._remove(lambda key, since: record is None or key[0] == record['url'])
        _close(gone)

    def close(self) -> None:
        """Close every idle connection (the hub stops)."""
        self.forget()

    def close_expired(self) -> None:
        """Close the connections idle longer than the idle timeout (they would not be reused)."""
        now = self._clock()
        with self._lock:
            gone = self._remove(lambda key, since: now - since > self._idle_timeout)
        _close(gone)

    def _remove(self, doomed: Callable[[Key, float], bool]) -> List[http.client.HTTPConnection]:
        """(Under the lock) take the idle connections ``doomed(key, idle since)`` names out of the pool."""
        gone = []
        for key, idle in list(self._idle.items()):
            gone += [conn for conn, since in idle if doomed(key, since)]
            idle[:] = [(conn, since) for conn, since in idle if not doomed(key, since)]
            if not idle:
                del self._idle[key]
        return gone

    def _take(self, key: Key) -> Optional[Tuple[http.client.HTTPConnection, int]]:
        """The newest idle connection (and the generation it is taken in), unless it is idle too long: then it
        and the older ones are closed."""
        now = self._clock()
        with self._lock:
            idle = self._idle.get(key)
            if not idle:
                return None
            conn, since = idle.pop()
            if now - since <= self._idle_timeout:
                gone, taken = [], (conn, self._generation)
            else:                                       # the newest is idle too long: so are the others
                gone, taken = [conn] + [c for c, _ in idle], None
                idle.clear()
            if not idle:
                del self._idle[key]
        _close(gone)
        return taken

    def _finish(self, key: Key, generation: int, conn: http.client.HTTPConnection, record: Mapping[str, Any],
                response: http.client.HTTPResponse) -> Answer:
        """Read the answer; keep the connection when it was read to its end and the member keeps it open."""
        try:
            data = _read(record, response)
        except BaseException:
            conn.close()
            raise
        surplus = [conn]
        with self._lock:
            if response.isclosed() and not response.will_close and generation == self._generation:
                idle = self._idle.setdefault(key, [])
                idle.append((conn, self._clock()))
                surplus = [c for c, _ in idle[:-self._max_idle]]
                del idle[:-self._max_idle]
        _close(surplus)
        return response.status, response.headers, data

    def _context(self, ca: Optional[str]) -> ssl.SSLContext:
        """The TLS context verifying against ``ca`` (the system's trust store when None), made once."""
        with self._lock:
            context = self._contexts.get(ca or '')
        if context is None:
            context = tls_context(ca)
            with self._lock:
                if len(self._contexts) >= MAX_CONTEXTS:
                    self._contexts.clear()
                context = self._contexts.setdefault(ca or '', context)
        return context


def _key(record: Mapping[str, Any]) -> Key:
    return record['url'], record.get('ca') or '', record.get('tls_name') or '', record.get('token') or ''
