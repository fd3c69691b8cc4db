"""Malformed HTTP requests, sent over a raw socket: each must get a 4xx in Calamari's error shape (a JSON body,
``application/json``), never a 5xx, a hang or a stuck worker.  Used against the module in-process
(tests/unit/test_malformed_http.py, a real HttpServer over the fake mgr) and on a real cluster
(tests/integration/test_malformed_http.py)."""
import json
import socket
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple


class Target(NamedTuple):
    port: int
    fsid: str
    auth: str            # header lines that authenticate a superuser for writes (cookie + XSRF header, or Bearer)
    socket_timeout: float


class Answer(NamedTuple):
    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body.decode('utf-8'))


def read_answers(sock: socket.socket, wanted: int = 1, timeout: float = 60.0) -> List[Answer]:
    """Read up to ``wanted`` responses (until the server closes the connection or ``timeout``)."""
    sock.settimeout(timeout)
    data = b''
    answers: List[Answer] = []
    while len(answers) < wanted:
        while b'\r\n\r\n' not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return answers
            data += chunk
        head, data = data.split(b'\r\n\r\n', 1)
        lines = head.decode('iso-8859-1').split('\r\n')
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(':')
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get('content-length', '0'))
        while len(data) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        answers.append(Answer(int(lines[0].split()[1]), headers, data[:length]))
        data = data[length:]
    return answers


def exchange(target: Target, raw: bytes, wanted: int = 1, pause: float = 0.0) -> List[Answer]:
    with socket.create_connection(('127.0.0.1', target.port), timeout=60) as sock:
        sock.sendall(raw)
        if pause:
            time.sleep(pause)
        return read_answers(sock, wanted)


def _request(target: Target, method: str, path: str, headers: str = '', body: bytes = b'',
             auth: bool = True) -> bytes:
    head = f'{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{target.port}\r\n'
    if auth:
        head += target.auth
    return (head + headers + '\r\n').encode('iso-8859-1') + body


def _pool(target: Target, suffix: str = '') -> str:
    return f'/api/v2/cluster/{target.fsid}/pool{suffix}'


def multipart_without_boundary(target: Target) -> List[Answer]:
    """The issue's ``curl -X DELETE -H 'Content-Type: multipart/form-data' .../pool/N`` (was a 500), with and
    without a body, and a POST."""
    return (exchange(target, _request(target, 'DELETE', _pool(target, '/4242'),
                                      'Content-Type: multipart/form-data\r\nConnection: close\r\n'))
            + exchange(target, _request(target, 'DELETE', _pool(target, '/4242'),
                                        'Content-Type: multipart/form-data\r\nContent-Length: 2\r\n'
                                        'Connection: close\r\n', b'xx'))
            + exchange(target, _request(target, 'POST', _pool(target),
                                        'Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 5\r\n'
                                        'Connection: close\r\n', b'--x--')))


def broken_charset(target: Target) -> List[Answer]:
    body = b'{"name": "x", "pg_num": 0}'
    form = b'name=%ff%fe&pg_num=zero'
    return (exchange(target, _request(target, 'POST', _pool(target),
                                      'Content-Type: application/json; charset=no-such-charset\r\n'
                                      f'Content-Length: {len(body)}\r\nConnection: close\r\n', body))
            + exchange(target, _request(target, 'POST', _pool(target),
                                        'Content-Type: application/x-www-form-urlencoded; charset=bogus\r\n'
                                        f'Content-Length: {len(form)}\r\nConnection: close\r\n', form))
            + exchange(target, _request(target, 'POST', _pool(target),
                                        'Content-Type: ;;;=;charset\r\nContent-Length: 2\r\nConnection: close\r\n',
                                        b'{}')))


def body_shorter_than_content_length(target: Target) -> List[Answer]:
    """The server waits for the rest for one socket timeout, then answers 408."""
    return exchange(target, _request(target, 'POST', _pool(target),
                                     'Content-Type: application/json\r\nContent-Length: 100\r\n', b'{"name": '))


def body_longer_than_content_length(target: Target) -> List[Answer]:
    """The bytes past Content-Length are the next request (here a broken one): two answers."""
    return exchange(target, _request(target, 'POST', _pool(target),
                                     'Content-Type: application/json\r\nContent-Length: 2\r\n',
                                     b'{}this is no request\r\n\r\n'), wanted=2)


def content_length_not_a_number(target: Target) -> List[Answer]:
    return (exchange(target, _request(target, 'POST', _pool(target), 'Content-Length: two\r\n', b'{}'))
            + exchange(target, _request(target, 'POST', _pool(target), 'Content-Length: -5\r\n'
                                        'Connection: close\r\n', b'{}')))


def broken_chunked_encoding(target: Target) -> List[Answer]:
    chunked = 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n'
    return (exchange(target, _request(target, 'POST', _pool(target), chunked, b'zz\r\n{}\r\n0\r\n\r\n'))
            + exchange(target, _request(target, 'POST', _pool(target), chunked, b'2\r\n{}XX0\r\n\r\n'))
            + exchange(target, _request(target, 'POST', _pool(target), chunked,
                                        b'ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n')))


def unknown_transfer_encoding(target: Target) -> List[Answer]:
    """cheroot's 501 for a Transfer-Encoding it does not implement is the client's error: 400."""
    return exchange(target, _request(target, 'POST', _pool(target), 'Transfer-Encoding: gzip\r\n', b'{}'))


def unsupported_http_version(target: Target) -> List[Answer]:
    return exchange(target, f'GET /api/v2/info HTTP/2.0\r\nHost: 127.0.0.1:{target.port}\r\n\r\n'.encode())


def malformed_request_line(target: Target) -> List[Answer]:
    return (exchange(target, b'THIS IS NOT HTTP\r\n\r\n')
            + exchange(target, b'GET\r\n\r\n')
            + exchange(target, b'GET /api/v2/info HTTP/1.1\r\nNo colon in this header\r\n\r\n'))


def oversized_header(target: Target) -> List[Answer]:
    return exchange(target, _request(target, 'GET', '/api/v2/info', f'X-Big: {"a" * 70000}\r\n', auth=False))


def oversized_uri(target: Target) -> List[Answer]:
    return exchange(target, _request(target, 'GET', '/api/v2/info?' + 'a' * 70000, auth=False))


def too_many_headers(target: Target) -> List[Answer]:
    """Many small headers: past 64 KiB in all, a 413."""
    return exchange(target, _request(target, 'GET', '/api/v2/info',
                                     ''.join(f'X-H{i}: {i}\r\n' for i in range(8000)), auth=False))


def trickling_client(target: Target) -> List[Answer]:
    """A byte now and then, each within the socket timeout: cut off by the server's deadline for a request."""
    raw = _request(target, 'GET', '/api/v2/info', 'X-Slow: ' + 'a' * 200 + '\r\n', auth=False)
    with socket.create_connection(('127.0.0.1', target.port), timeout=60) as sock:
        try:
            for i in range(len(raw)):
                sock.sendall(raw[i:i + 1])
                time.sleep(target.socket_timeout / 2)
        except OSError:             # the server has closed the connection: what we are waiting for
            pass
        return read_answers(sock)


CASES: Dict[str, Callable[[Target], List[Answer]]] = {f.__name__: f for f in (
    multipart_without_boundary, broken_charset, body_shorter_than_content_length, body_longer_than_content_length,
    content_length_not_a_number, broken_chunked_encoding, unknown_transfer_encoding, unsupported_http_version,
    malformed_request_line, oversized_header, oversized_uri, too_many_headers, trickling_client)}
# The status each case must get where one status is right; the others must get some 4xx.
EXPECTED: Dict[str, Tuple[int, ...]] = {
    'body_shorter_than_content_length': (408,), 'oversized_header': (413,), 'oversized_uri': (414,),
    'too_many_headers': (413,), 'trickling_client': (408,), 'unknown_transfer_encoding': (400,),
    'unsupported_http_version': (400,), 'malformed_request_line': (400,), 'broken_chunked_encoding': (400, 413),
    'content_length_not_a_number': (400,),
}


def check(name: str, target: Target) -> List[Answer]:
    """Run one case: every answer a 4xx with a JSON body, and the server still answers a normal request at once."""
    started = time.monotonic()
    answers = CASES[name](target)
    assert answers, f'{name}: no answer at all'
    for answer in answers:
        assert 400 <= answer.status < 500, (name, answer)
        assert answer.status in EXPECTED.get(name, (answer.status,)), (name, answer)
        assert answer.headers.get('content-type') == 'application/json', (name, answer)
        answer.json()
    assert time.monotonic() - started < 60, name
    healthy: Optional[List[Answer]] = exchange(target, b'GET /api/v2/info HTTP/1.1\r\nHost: x\r\nConnection: close'
                                                       b'\r\n\r\n')
    assert healthy and healthy[0].status == 200, (name, healthy)
    return answers
