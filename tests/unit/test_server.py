"""The HTTP server's settings (server.py): keep-alive connections kept, worker threads at a lower CPU priority."""
import http.client
import os
import threading

from calamari_api.web.server import KEEPALIVE_CONNECTIONS, WORKER_NICENESS, HttpServer
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
