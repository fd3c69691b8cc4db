"""The benchmark's floor (bench/calamari_bench/floor.py): bare cheroot with the module's server settings, fixed
bodies by size."""
import http.client
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', '..', 'bench'))
from calamari_bench.floor import MAX_BODIES, BenchFloor, FixedBodies
from calamari_api.web.server import KEEPALIVE_CONNECTIONS, WORKER_NICENESS
from tests.support.cluster import free_port


def call(app, path):
    started = []
    body = b''.join(app({'PATH_INFO': path}, lambda status, headers: started.append((status, dict(headers)))))
    (status, headers), = started
    return status, headers, body


def test_fixed_bodies_by_size():
    app = FixedBodies()
    status, headers, body = call(app, '/1300')
    assert status == '200 OK' and body == b'x' * 1300 and headers['Content-Length'] == '1300'
    assert call(app, '/0')[2] == b''
    for path in ('/', '/abc', '/-1', '/1e3', '/99999999999', f'/{(16 << 20) + 1}', '/12/34'):
        status, headers, body = call(app, path)
        assert status == '404 Not Found' and body == b'' and headers['Content-Length'] == '0', path


def test_fixed_bodies_are_bounded():
    app = FixedBodies()
    for size in range(3 * MAX_BODIES):
        assert len(call(app, f'/{size}')[2]) == size
    assert len(app._bodies) <= MAX_BODIES


def test_floor_runs_with_the_module_server_settings():
    port = free_port()
    floor = BenchFloor('127.0.0.1', port, threads=2)
    assert floor.server.keep_alive_conn_limit == KEEPALIVE_CONNECTIONS and floor.server.requests.min == 2
    seen = []
    app = floor.server.wsgi_app

    def spy(environ, start_response):
        result = app(environ, start_response)       # (the niced wrapper sets the thread's priority first)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return result
    floor.server.wsgi_app = spy
    floor.start()
    try:
        conn = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        for size in (5, 1300):
            conn.request('GET', f'/{size}')
            response = conn.getresponse()
            assert response.status == 200 and response.read() == b'x' * size
        conn.close()
    finally:
        floor.stop()
    assert seen and all(priority == os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS for priority in seen)


def test_fixed_route_only_when_the_module_starts_with_its_option(module, services):
    """The benchmark's fixed-body route is routed only when the app is built with bench_fixed_body on, and never
    in the OpenAPI document."""
    from calamari_api.web.app import CalamariApp
    from tests.support.wsgi_client import WsgiClient
    assert WsgiClient(CalamariApp(services).wsgi).get('/api/v2/bench/fixed?size=10').status_code == 404
    module.options['bench_fixed_body'] = True
    app = CalamariApp(services)
    client = WsgiClient(app.wsgi)
    services.auth.create_user('bench', 'pw-bench-user', email='b@example.com', role='readonly')
    assert client.login('bench', 'pw-bench-user').status_code == 200
    response = client.get('/api/v2/bench/fixed?size=10')
    assert response.status_code == 200 and len(response.content) == 10
    assert not any('bench' in path for path in client.get('/api/v2/openapi.json').json()['paths'])
