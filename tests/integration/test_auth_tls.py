"""HTTPS on a real cluster: a self-signed certificate made by the CLI, the full login flow over TLS with
Secure cookies and the same-origin Referer check, certificates set from files, bad handshakes.

The shared cluster runs plain HTTP; this module switches its ``ssl`` option on (the module restarts its
server from config_notify) and back off at the end."""
import os
import socket
import ssl
import subprocess

import pytest

from tests.support.http_client import HttpClient, tls11_client_context

REFERER_NONE = {'detail': 'CSRF Failed: Referer checking failed - no Referer.'}


def served_certificate(port):
    return ssl.DER_cert_to_PEM_cert(ssl.PEM_cert_to_DER_cert(ssl.get_server_certificate(('127.0.0.1', port))))


def same_cert(pem_a, pem_b):
    return ssl.PEM_cert_to_DER_cert(pem_a) == ssl.PEM_cert_to_DER_cert(pem_b)


@pytest.fixture(scope='module')
def https(cluster):
    """The shared cluster's API over HTTPS with a certificate from `create-self-signed-cert`."""
    url = f'https://127.0.0.1:{cluster.api_port}'
    cluster.ceph('calamari-api', 'create-self-signed-cert')
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl', 'true')
    try:
        cluster.wait_api(base=url)
        yield url
    finally:
        cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl', 'false')
        cluster.wait_api()


def test_mgr_services_advertises_https(cluster, https, wait):
    wait(lambda: cluster.ceph_json('mgr', 'services').get('calamari_api') == https + '/', 30, 'the https URL')


def test_served_certificate_is_the_stored_one(cluster, https):
    stored = cluster.ceph('config-key', 'get', 'mgr/calamari_api/crt').stdout
    assert same_cert(served_certificate(cluster.api_port), stored)


def test_login_flow_over_https(cluster, https):
    client = HttpClient(https)
    response = client.get('/api/v2/auth/login/')
    assert response.status_code == 200
    for line in response.headers['Set-Cookie']:
        assert '; secure' in line.lower(), line
    response = client.post('/api/v2/auth/login/', {'username': cluster.admin['username'],
                                                   'password': cluster.admin['password']})
    assert response.status_code == 200 and response.json() == {}
    session_line = next(x.lower() for x in response.headers['Set-Cookie'] if x.startswith('calamari_sessionid='))
    assert 'secure' in session_line and 'httponly' in session_line
    assert client.get('/api/v2/user/me').json()['username'] == cluster.admin['username']

    response = client.patch('/api/v2/user/me', {}, headers={'Referer': ''})
    assert (response.status_code, response.json()) == (403, REFERER_NONE)
    response = client.patch('/api/v2/user/me', {}, headers={'Referer': 'https://evil.example/'})
    assert response.status_code == 403
    assert response.json() == {'detail': f'CSRF Failed: Referer checking failed - https://evil.example/ does not '
                                         f'match {https}/.'}
    response = client.patch('/api/v2/user/me', {}, headers={'Referer': f'http://127.0.0.1:{cluster.api_port}/'})
    assert response.status_code == 403                                         # http is another origin
    assert client.patch('/api/v2/user/me', {}).status_code == 200              # HttpClient sends the right one
    assert client.post('/api/v2/auth/logout').json() == {'message': 'Logged out'}
    assert client.get('/api/v2/user/me').status_code == 403


def test_plain_http_on_the_tls_port_does_not_hang(cluster, https):
    try:
        status = HttpClient(cluster.url, timeout=10).get('/api/v2/info').status_code
    except OSError:
        status = None                                   # connection reset: fine, as long as it is quick
    assert status != 200


def test_old_tls_handshake_fails_and_the_server_lives_on(cluster, https):
    """A TLS 1.1 client is refused; the failed handshake used to stop the whole server."""
    context = tls11_client_context()
    for _ in range(3):
        with socket.create_connection(('127.0.0.1', cluster.api_port), timeout=10) as sock:
            with pytest.raises((ssl.SSLError, OSError)):
                context.wrap_socket(sock).close()
    assert HttpClient(https, timeout=10).get('/api/v2/info').status_code == 200


def test_certificate_and_key_from_files(cluster, https, tmp_path, wait):
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj',
                    '/CN=calamari-api-test', '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True)
    for command, path in (('set-ssl-certificate', cert), ('set-ssl-certificate-key', key)):
        assert cluster.ceph('calamari-api', command, '-i', '-', input_text=path.read_text()).returncode == 0

    def serving_new_cert():
        try:
            return same_cert(served_certificate(cluster.api_port), cert.read_text())
        except OSError:
            return False
    wait(serving_new_cert, 30, 'the new certificate')

    def logged_in_works():          # each of the two commands restarts the server: the second may still come
        try:
            return cluster.client(base=https).get('/api/v2/cluster').status_code == 200
        except OSError:
            return False
    wait(logged_in_works, 30, 'a login over the new certificate')
    assert serving_new_cert()
    bad = cluster.ceph('calamari-api', 'set-ssl-certificate', '-i', os.devnull, check=False)
    assert bad.returncode != 0 and 'PEM certificate' in bad.stderr
