"""TLS: the cheroot server with a certificate from the openssl tool, failed handshakes, missing certificates."""
import http.client
import socket
import ssl
import subprocess

import pytest

from calamari_api.module import _listen_options
from calamari_api.web.server import HttpServer, check_pem_pair
from tests.support.http_client import tls11_client_context


def make_pem(tmp_path, name='calamari-api-test'):
    cert, key = tmp_path / f'{name}.crt', tmp_path / f'{name}.key'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', f'/CN={name}',
                    '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True)
    return cert.read_text(), key.read_text()


def hello_app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])
    return [b'ok']


@pytest.fixture
def tls_server(tmp_path):
    server = HttpServer(hello_app, '127.0.0.1', 0, ssl_pem=make_pem(tmp_path), threads=2)
    server.start()
    yield server.server.bind_addr[1]
    server.stop()


def https_get(port):
    context = ssl._create_unverified_context()
    conn = http.client.HTTPSConnection('127.0.0.1', port, timeout=10, context=context)
    try:
        conn.request('GET', '/')
        return conn.getresponse().read()
    finally:
        conn.close()


def test_https_serves(tls_server):
    assert https_get(tls_server) == b'ok'


class ClosedStderr:
    """sys.stderr inside ceph-mgr: writing raises EBADF."""

    def write(self, text):
        raise OSError(9, 'Bad file descriptor')

    flush = write


def test_failed_handshakes_do_not_stop_the_server(tls_server, monkeypatch):
    monkeypatch.setattr('sys.stderr', ClosedStderr())
    old = tls11_client_context()
    for attempt in range(3):
        with socket.create_connection(('127.0.0.1', tls_server), timeout=10) as sock:
            if attempt == 2:
                sock.sendall(b'GET / HTTP/1.1\r\nHost: x\r\n\r\n')       # plain HTTP on the TLS port
                try:
                    sock.recv(100)                                         # a reset or a 400: either is fine
                except OSError:
                    pass
            else:
                with pytest.raises((ssl.SSLError, OSError)):
                    old.wrap_socket(sock)
    assert https_get(tls_server) == b'ok'


def test_pem_pair_check(tmp_path):
    cert, key = make_pem(tmp_path, 'one')
    other_cert, other_key = make_pem(tmp_path, 'two')
    assert check_pem_pair(cert, key) is None
    assert check_pem_pair(cert, other_key)
    assert check_pem_pair('garbage', key)


def test_no_certificate_is_a_health_warning_not_log_spam(module, caplog):
    module.options.update({'ssl': True, 'server_addr': '127.0.0.1', 'server_port': 0})
    for _ in range(3):
        assert module._start_server(hello_app, _listen_options(module)) is None
    assert list(module.health_checks) == ['CALAMARI_API_NO_CERT']
    assert sum('no certificate is configured' in r.getMessage() for r in caplog.records) == 1
    assert module._handle_command(None, {'prefix': 'calamari-api create-self-signed-cert'}).retval == 0
    server = module._start_server(hello_app, _listen_options(module))
    try:
        assert server is not None and server.scheme == 'https'
        assert module.health_checks == {}
        assert https_get(server.server.bind_addr[1]) == b'ok'
    finally:
        server.stop()
