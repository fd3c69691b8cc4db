"""Limits: request body cap, slow clients, bounded page sizes, many concurrent writes."""
import socket
import time
from concurrent.futures import ThreadPoolExecutor


def test_body_too_large_is_refused(cluster, fsid):
    """The server answers 413 from the headers alone (before reading a 2 MiB body)."""
    with socket.create_connection(('127.0.0.1', cluster.api_port), timeout=30) as sock:
        sock.sendall(f'POST /api/v2/cluster/{fsid}/pool HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'
                     f'Content-Length: {2 << 20}\r\n\r\n'.encode())
        status_line = sock.recv(4096).split(b'\r\n')[0]
    assert b' 413 ' in status_line, status_line


def test_page_size_is_bounded(client):
    assert client.get('/api/v2/event?page_size=1000000').status_code == 400
    assert client.get('/api/v2/request?page_size=0').status_code == 400
    assert client.get('/api/v2/request?page_size=abc').status_code == 400


def test_slow_client_is_disconnected(cluster):
    with socket.create_connection(('127.0.0.1', cluster.api_port), timeout=30) as sock:
        sock.sendall(b'GET /api/v2/info HTTP/1.1\r\nHost: x\r\n')      # never finishes its headers
        started = time.time()
        data = sock.recv(4096)
        while data:
            data = sock.recv(4096)
        assert time.time() - started < 25


def test_twenty_concurrent_pool_creates_and_deletes(client, cluster, fsid, wait):
    names = [f'concurrent-{i}' for i in range(20)]

    def submit(method, url, body):
        response = client.request(method, url, body)
        assert response.status_code == 202, response.content
        return response.json()['request_id']

    def finished(request_ids):
        states = [client.get(f'/api/v2/request/{r}').json() for r in request_ids]
        return states if all(s['state'] == 'complete' for s in states) else None

    with ThreadPoolExecutor(10) as pool:
        created = list(pool.map(lambda n: submit('POST', f'/api/v2/cluster/{fsid}/pool',
                                                 {'name': n, 'pg_num': 4}), names))
    results = wait(lambda: finished(created), 240, 'the pool creations')
    assert [r['error'] for r in results] == [False] * 20, results
    pools = {p['name']: p['id'] for p in client.get(f'/api/v2/cluster/{fsid}/pool').json()}
    assert set(names) <= set(pools)
    with ThreadPoolExecutor(10) as pool:
        deleted = list(pool.map(lambda n: submit('DELETE', f'/api/v2/cluster/{fsid}/pool/{pools[n]}', None), names))
    results = wait(lambda: finished(deleted), 240, 'the pool deletions')
    assert [r['error'] for r in results] == [False] * 20, results
    remaining = {p['pool_name'] for p in cluster.ceph_json('osd', 'dump')['pools']}
    assert not remaining & set(names)


def test_many_polling_clients_keep_their_connections(cluster, client, fsid):
    """Browsers polling the API keep their keep-alive connections (cheroot's default kept only 10 of them)."""
    cookie = '; '.join(f'{k}={v}' for k, v in client.cookies.items())
    request = (f'GET /api/v2/cluster/{fsid}/osd HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n').encode()
    socks = [socket.create_connection(('127.0.0.1', cluster.api_port), timeout=30) for _ in range(100)]
    try:
        for _ in range(2):                                  # a second poll on each of the same 100 connections
            for sock in socks:
                sock.sendall(request)
            for sock in socks:
                head = b''
                while b'\r\n\r\n' not in head:
                    head += sock.recv(65536)
                headers, _, body = head.partition(b'\r\n\r\n')
                assert headers.startswith(b'HTTP/1.1 200'), headers
                assert b'connection: close' not in headers.lower()
                length = int(next(line.split(b':')[1] for line in headers.split(b'\r\n')
                                  if line.lower().startswith(b'content-length')))
                while len(body) < length:
                    body += sock.recv(65536)
    finally:
        for sock in socks:
            sock.close()
