"""The HTTP server's settings (server.py): keep-alive connections kept, worker threads at a lower CPU priority."""
import http.client
import os
import socket
import threading

import pytest

from calamari_api.web.server import KEEPALIVE_CONNECTIONS, WORKER_NICENESS, HeadHoldingWriter, HttpServer
from tests.support.cluster import free_port


def test_workers_lower_their_priority_and_keep_connections_alive():
    seen = []

    def app(environ, start_response):
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])
        return [b'ok']

    port = free_port()
    server = HttpServer(app, '127.0.0.1', port, threads=2)
    assert server.server.keep_alive_conn_limit == KEEPALIVE_CONNECTIONS
    server.start()
    try:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        for _ in range(3):                          # one connection, kept alive between requests
            conn.request('GET', '/')
            response = conn.getresponse()
            assert response.read() == b'ok' and response.getheader('Connection') != 'close'
        conn.close()
    finally:
        server.stop()
    assert seen and all(priority == os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS for priority in seen)


def test_an_answers_head_is_held_and_sent_with_its_body():
    """HeadHoldingWriter: the held write goes out with the next one, in one send; release() sends one left held."""
    ours, theirs = socket.socketpair()
    writer = HeadHoldingWriter(ours, 'wb')
    sends = []
    send = writer.raw.write
    writer.raw.write = lambda data: sends.append(bytes(data)) or send(data)
    writer.hold_next()
    assert writer.write(b'HTTP/1.1 200 OK\r\n\r\n') == 19 and sends == []
    writer.write(b'body')
    writer.hold_next()
    writer.write(b'HTTP/1.1 304 Not Modified\r\n\r\n')
    writer.release()
    writer.release()                                # (nothing held: nothing sent)
    writer.write(b'plain')
    assert sends == [b'HTTP/1.1 200 OK\r\n\r\nbody', b'HTTP/1.1 304 Not Modified\r\n\r\n', b'plain']
    ours.close()
    assert theirs.recv(1024) == b''.join(sends)
    theirs.close()


@pytest.mark.parametrize('method, status, body, chunked', [
    ('GET', '200 OK', [b'ok'], False),
    ('HEAD', '200 OK', [b'ok'], False),                 # the head alone (held, then released)
    ('GET', '304 Not Modified', [], False),
    ('GET', '200 OK', [b'a', b'bc'], True),             # chunked: the head with the first chunk, then the rest
])
def test_answers_arrive_whole_with_the_head_held(method, status, body, chunked):
    def app(environ, start_response):
        headers = [('Content-Type', 'text/plain')]
        if not chunked and status.startswith('200'):
            headers.append(('Content-Length', str(sum(map(len, body)))))
        start_response(status, headers)
        return body

    port = free_port()
    server = HttpServer(app, '127.0.0.1', port, threads=2)
    server.start()
    try:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        for _ in range(2):                          # and the connection stays usable
            conn.request(method, '/')
            response = conn.getresponse()
            assert f'{response.status} {response.reason}' == status
            assert response.read() == (b''.join(body) if method == 'GET' else b'')
            assert response.getheader('X-Content-Type-Options') == 'nosniff'
        conn.close()
    finally:
        server.stop()
