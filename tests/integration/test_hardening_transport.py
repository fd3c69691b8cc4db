"""Issue 23's transport and account hardening on a real cluster: slow clients hold no worker, the security headers on
every kind of answer, the password length rule, the idle session timeout, the rehash of old password hashes at
login, secret config options redacted, the server log rules; then over TLS: the protocol and cipher floor, silent
TLS clients, HSTS, the key file gone once loaded, the certificate expiry warning.

The tests over plain HTTP come first; the module-scoped ``https`` fixture then switches the shared cluster's ``ssl``
option on until the end of this module."""
import glob
import hashlib
import json
import os
import socket
import ssl
import subprocess
import threading
import time
import uuid
from base64 import b64encode

import pytest

from tests.support.http_client import HttpClient, tls11_client_context
from tests.support.malformed import exchange, Target

SLOW_CLIENTS = 64
SECURITY = {'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY',
            'content-security-policy': "frame-ancestors 'none'"}


def header(response, name):
    return {k.lower(): v for k, v in response.headers.items()}.get(name.lower())


def assert_security_headers(response, tls=False, private=True):
    for name, value in SECURITY.items():
        assert header(response, name) == value, (name, response.status_code, response.headers)
    assert (header(response, 'strict-transport-security') is not None) == tls, response.headers
    if private:
        assert header(response, 'cache-control') == 'private', response.headers


class Tricklers:
    """``count`` sockets that each send a request line and then one header byte a second, never finishing."""

    def __init__(self, port, count, tls=False, silent=False, drip=b'a',
                 opening=b'GET /api/v2/info HTTP/1.1\r\nHost: x\r\nX-Slow: '):
        self.stop = threading.Event()
        self.sockets = []
        for _ in range(count):
            sock = socket.create_connection(('127.0.0.1', port), timeout=10)
            if not silent:
                sock.sendall(opening)
            self.sockets.append(sock)
        self.silent = silent or not drip
        self.drip = drip
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self):
        while not self.stop.wait(1.0):
            if self.silent:
                continue
            for sock in self.sockets:
                try:
                    sock.send(self.drip)
                except OSError:
                    pass

    def close(self):
        self.stop.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


def timed_gets(client, path, count=5):
    times = []
    for _ in range(count):
        started = time.monotonic()
        response = client.get(path)
        times.append(time.monotonic() - started)
        assert response.status_code == 200, response.content
    return times


def test_slow_clients_do_not_delay_an_authenticated_get(cluster, fsid):
    client = cluster.client()                   # (logged in before: a login's scrypt takes its time)
    assert client.get(f'/api/v2/cluster/{fsid}/osd').status_code == 200
    slow = Tricklers(cluster.api_port, SLOW_CLIENTS)
    try:
        time.sleep(2)                           # every slow client has sent bytes at least twice
        kept = timed_gets(client, f'/api/v2/cluster/{fsid}/osd')
        fresh = [timed_gets(cluster.client(login=False), '/api/v2/info', 1)[0] for _ in range(3)]
        other = HttpClient(cluster.url, timeout=10)
        other.cookies = dict(client.cookies)            # the same session on a connection of its own
        new_connection = timed_gets(other, f'/api/v2/cluster/{fsid}/pool', 3)
    finally:
        slow.close()
    assert max(kept) < 1.0 and max(fresh) < 1.0 and max(new_connection) < 1.0, (kept, fresh, new_connection)


def test_slow_bodies_do_not_delay_an_authenticated_get(cluster, fsid):
    """Bodies that arrive slowly hold no worker either: chunked ones (a one-byte chunk a second), and those whose
    client waits for a ``100 Continue`` (answered by the acceptor) and then sends nothing."""
    client = cluster.client()
    post = f'POST /api/v2/cluster/{fsid}/cli HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n'.encode()
    chunked = Tricklers(cluster.api_port, SLOW_CLIENTS // 2, opening=post + b'Transfer-Encoding: chunked\r\n\r\n',
                        drip=b'1\r\n \r\n')
    expecting = Tricklers(cluster.api_port, SLOW_CLIENTS // 2, drip=b'',
                          opening=post + b'Expect: 100-continue\r\nContent-Length: 30\r\n\r\n')
    try:
        time.sleep(2)
        kept = timed_gets(client, f'/api/v2/cluster/{fsid}/osd')
        fresh = [timed_gets(cluster.client(login=False), '/api/v2/info', 1)[0] for _ in range(3)]
        continued = [sock.recv(64) for sock in expecting.sockets[:3]]
    finally:
        chunked.close()
        expecting.close()
    assert max(kept) < 1.0 and max(fresh) < 1.0, (kept, fresh)
    assert continued == [b'HTTP/1.1 100 Continue\r\n\r\n'] * 3


def test_expect_continue_and_a_chunked_body_reach_the_api(cluster, fsid):
    name = f'chunked-{uuid.uuid4().hex[:6]}'
    token = cluster.ceph('calamari-api', 'token-create', name, '--role', 'superuser').stdout.strip()
    body = json.dumps({'command': 'osd pool ls'}).encode()
    try:
        with socket.create_connection(('127.0.0.1', cluster.api_port), timeout=30) as sock:
            sock.sendall(f'POST /api/v2/cluster/{fsid}/cli HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n'
                         'Content-Type: application/json\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n'
                         'Connection: close\r\n\r\n'.encode())
            assert sock.recv(4096) == b'HTTP/1.1 100 Continue\r\n\r\n'
            for part in (b'%x\r\n' % len(body[:10]) + body[:10] + b'\r\n', b'%x\r\n' % len(body[10:]) + body[10:] +
                         b'\r\n', b'0\r\n\r\n'):
                sock.sendall(part)
                time.sleep(0.2)
            data = b''
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    finally:
        cluster.ceph('calamari-api', 'token-revoke', name)
    head, _, answer = data.partition(b'\r\n\r\n')
    assert head.startswith(b'HTTP/1.1 200 '), data
    assert json.loads(answer)['status'] == 0


def test_a_trickled_request_is_cut_off_with_408(cluster):
    """A header byte a second: answered 408 once the request deadline (30 s) has passed, and no worker waited."""
    with socket.create_connection(('127.0.0.1', cluster.api_port), timeout=60) as sock:
        sock.sendall(b'GET /api/v2/info HTTP/1.1\r\nHost: x\r\n')
        started = time.monotonic()
        data = b''
        try:
            while time.monotonic() - started < 50 and b'\r\n\r\n' not in data:
                sock.sendall(b'X')
                sock.settimeout(1.0)
                try:
                    data += sock.recv(4096)
                except socket.timeout:
                    pass
        except OSError:
            pass
    assert data.startswith(b'HTTP/1.1 408 '), data
    assert b'x-content-type-options: nosniff' in data.lower()


def test_security_headers_on_every_kind_of_answer(cluster, client, anon, fsid):
    path = f'/api/v2/cluster/{fsid}/osd'
    first = client.get(path)                    # through CherryPy (the fast path learns the path)
    assert first.status_code == 200
    assert_security_headers(first)
    again = client.get(path)                    # the fast path's answer
    assert again.status_code == 200 and header(again, 'etag') == header(first, 'etag')
    assert_security_headers(again)
    not_modified = client.get(path, headers={'If-None-Match': header(first, 'etag')})
    assert not_modified.status_code == 304
    assert_security_headers(not_modified)
    for response in (client.get('/api/v2/no/such/url'), anon.get(path), client.get(f'/api/v2/cluster/{fsid}/osd/999'),
                     anon.get('/api/v2/info')):
        assert response.status_code in (200, 403, 404), response.status_code
        assert_security_headers(response)
    login = anon.get('/api/v2/auth/login/')     # sets cookies: keeps its own no-store
    assert_security_headers(login, private=False)
    assert 'no-store' in header(login, 'cache-control')
    target = Target(cluster.api_port, fsid, '', 10.0)
    answer = exchange(target, b'THIS IS NOT HTTP\r\n\r\n')[0]      # cheroot's own error
    assert answer.status == 400
    for name, value in SECURITY.items():
        assert answer.headers.get(name) == value, answer.headers


def test_password_min_length(cluster, client):
    name = f'short-{uuid.uuid4().hex[:6]}'
    response = client.post('/api/v2/user', {'username': name, 'password': 'seven77'})
    assert response.status_code == 400
    assert response.json() == {'password': ['Ensure this value has at least 8 characters (it has 7).']}
    assert client.post('/api/v2/user', {'username': name, 'password': 'eight888'}).status_code == 201
    made = cluster.client(username=name, password='eight888')
    response = made.patch('/api/v2/user/me', {'password': 'tiny'})
    assert response.status_code == 400 and 'at least 8 characters' in response.json()['password'][0]
    assert made.patch('/api/v2/user/me', {'password': 'long-enough'}).status_code == 200
    refused = cluster.ceph('calamari-api', 'user-create', name + 'c', '-i', '-', input_text='short', check=False)
    assert refused.returncode != 0 and 'at least 8 characters' in refused.stderr
    refused = cluster.ceph('calamari-api', 'user-set-password', name, '-i', '-', input_text='short', check=False)
    assert refused.returncode != 0 and 'at least 8 characters' in refused.stderr


def test_idle_session_ends(cluster, fsid, wait):
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/session_idle_timeout', '3')
    try:
        def ended_when_idle():
            client = cluster.client()
            if client.get(f'/api/v2/cluster/{fsid}/osd').status_code != 200:
                return False
            time.sleep(5)
            return client.get(f'/api/v2/cluster/{fsid}/osd').status_code == 403
        wait(ended_when_idle, 60, 'a session unused for 5 s to end (idle timeout 3 s)')
        client = cluster.client()               # a session in use lives on
        for _ in range(4):
            time.sleep(1.5)
            assert client.get(f'/api/v2/cluster/{fsid}/osd').status_code == 200
    finally:
        cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/session_idle_timeout', '3600')


def old_hash(password):
    """A hash with the parameters used before issue 23 (scrypt N=2^14, r=8, p=1)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2 ** 14, r=8, p=1, dklen=32)
    return f'scrypt$16384$8$1${b64encode(salt).decode()}${b64encode(digest).decode()}'


def test_old_password_hash_is_rehashed_at_login(cluster):
    name, password = f'rehash-{uuid.uuid4().hex[:6]}', 'rehash-password'
    cluster.create_user(name, password, 'readonly')
    user_id = next(u['id'] for u in json.loads(cluster.ceph('calamari-api', 'user-list').stdout)
                   if u['username'] == name)
    key = f'mgr/calamari_api/user/{user_id}'
    record = json.loads(cluster.ceph('config-key', 'get', key).stdout)
    assert record['password'].startswith('scrypt$16384$8$5$')         # new hashes: N=2^14, r=8, p=5
    record['password'] = old_hash(password)
    cluster.ceph('config-key', 'set', key, json.dumps(record))
    cluster.restart_active_mgr()                # the module loads users at start
    assert cluster.client(username=name, password=password).get('/api/v2/user/me').json()['username'] == name
    stored = json.loads(cluster.ceph('config-key', 'get', key).stdout)['password']
    assert stored.startswith('scrypt$16384$8$5$'), stored
    assert cluster.client(username=name, password=password).get('/api/v2/user/me').status_code == 200


def test_secret_config_options_are_redacted(cluster, client, fsid, wait):
    # (set for the mons: the view shows the value a mon uses; the mgr itself is sent no rgw options)
    secrets = {'rgw_keystone_admin_password': 'keystone-s3cr3t', 'rgw_sts_key': 'sts0123456789abc'}
    for name, value in secrets.items():
        cluster.ceph('config', 'set', 'mon', name, value)
    try:
        def redacted():
            values = {item['key']: item['value'] for item in client.get(f'/api/v2/cluster/{fsid}/config').json()}
            return all(values.get(name) == '<redacted>' for name in secrets)
        wait(redacted, 60, 'the secret options to show, redacted')
        for name in secrets:
            assert client.get(f'/api/v2/cluster/{fsid}/config/{name}').json() == {'key': name, 'value': '<redacted>'}
        for path in ('config', 'sync_object/config'):
            body = client.get(f'/api/v2/cluster/{fsid}/{path}').content.decode()
            assert not any(value in body for value in secrets.values()), path
        assert client.get(f'/api/v2/cluster/{fsid}/config/rgw_keystone_admin_user').json()['value'] != '<redacted>'
    finally:
        for name in secrets:
            cluster.ceph('config', 'rm', 'mon', name)


def test_server_logs_need_read_write_and_show_only_ceph_logs(cluster, client):
    host = cluster.ceph_json('mgr', 'metadata', cluster.ceph_json('mgr', 'dump')['active_name'])['hostname']
    log_dir = os.path.join(cluster.dir, 'log')
    name = f'ro-logs-{uuid.uuid4().hex[:6]}'
    cluster.create_user(name, 'readonly-password', 'readonly')
    reader = cluster.client(username=name, password='readonly-password')
    for url in (f'/api/v2/server/{host}/log', f'/api/v2/server/{host}/log/ceph/ceph.log'):
        response = reader.get(url)
        assert response.status_code == 403, (url, response.status_code)
        assert client.get(url).status_code == 200, url
    for other in ('ceph.audit.log', 'notes.txt'):
        path = os.path.join(log_dir, other)
        created = not os.path.exists(path)
        if created:
            with open(path, 'w') as f:
                f.write('not for the API\n')
        try:
            assert f'ceph/{other}' not in client.get(f'/api/v2/server/{host}/log').json()
            assert client.get(f'/api/v2/server/{host}/log/ceph/{other}').status_code == 404
        finally:
            if created:
                os.unlink(path)


# -- over TLS (the rest of this module) ----------------------------------------------------------------------------
@pytest.fixture(scope='module')
def https(cluster):
    url = f'https://127.0.0.1:{cluster.api_port}'
    cluster.ceph('calamari-api', 'create-self-signed-cert')
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl', 'true')
    try:
        cluster.wait_api(base=url)
        yield url
    finally:
        cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl', 'false')
        cluster.wait_api()


def client_context(version, ciphers=None):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    if ciphers:
        context.set_ciphers(ciphers)
    return context


def handshake(port, context):
    with socket.create_connection(('127.0.0.1', port), timeout=10) as sock:
        with context.wrap_socket(sock) as tls:
            return tls.version(), tls.cipher()[0]


def test_tls_floor(cluster, https):
    assert handshake(cluster.api_port, client_context(ssl.TLSVersion.TLSv1_3))[0] == 'TLSv1.3'
    version, cipher = handshake(cluster.api_port, client_context(ssl.TLSVersion.TLSv1_2))
    assert version == 'TLSv1.2' and cipher.startswith('ECDHE-'), cipher
    refused = (client_context(ssl.TLSVersion.TLSv1_2, 'AES128-SHA:@SECLEVEL=0'),        # no forward secrecy
               client_context(ssl.TLSVersion.TLSv1_2, 'AES256-GCM-SHA384:@SECLEVEL=0'),
               tls11_client_context())
    for context in refused:
        with pytest.raises((ssl.SSLError, OSError)):
            handshake(cluster.api_port, context)
    assert HttpClient(https, timeout=10).get('/api/v2/info').status_code == 200


def test_silent_tls_clients_do_not_delay_others(cluster, https, fsid):
    client = cluster.client(base=https)
    assert client.get(f'/api/v2/cluster/{fsid}/osd').status_code == 200
    silent = Tricklers(cluster.api_port, SLOW_CLIENTS, silent=True)           # connect, never say hello
    trickling = Tricklers(cluster.api_port, 16)                               # plain bytes where TLS is expected
    try:
        time.sleep(2)
        kept = timed_gets(client, f'/api/v2/cluster/{fsid}/osd')
        fresh = [timed_gets(HttpClient(https, timeout=10), '/api/v2/info', 1)[0] for _ in range(3)]
    finally:
        silent.close()
        trickling.close()
    assert max(kept) < 1.0 and max(fresh) < 1.0, (kept, fresh)


def test_hsts_and_headers_over_tls(cluster, https, fsid):
    client = cluster.client(base=https)
    assert_security_headers(client.get(f'/api/v2/cluster/{fsid}/osd'), tls=True)
    assert_security_headers(client.get('/api/v2/no/such/url'), tls=True)


def test_private_key_file_removed_once_loaded(cluster, https):
    key = cluster.ceph('config-key', 'get', 'mgr/calamari_api/key').stdout.strip()
    for path in glob.glob(os.path.join(os.environ.get('TMPDIR', '/tmp'), 'calamari-api-*', '*')):
        try:
            with open(path) as f:
                assert f.read().strip() != key, path
        except OSError:
            pass


def test_certificate_expiry_health_warning(cluster, https, tmp_path, wait):
    cert, key = tmp_path / 'cert.pem', tmp_path / 'key.pem'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '5', '-subj',
                    '/CN=calamari-api-expiring', '-keyout', str(key), '-out', str(cert)], check=True,
                   capture_output=True)
    for command, path in (('set-ssl-certificate', cert), ('set-ssl-certificate-key', key)):
        cluster.ceph('calamari-api', command, '-i', '-', input_text=path.read_text())

    def checks():
        return cluster.ceph_json('health', 'detail').get('checks', {})
    wait(lambda: 'CALAMARI_API_CERT_EXPIRING' in checks(), 60, 'the certificate expiry warning')
    assert 'expires in 4 days' in checks()['CALAMARI_API_CERT_EXPIRING']['summary']['message'] or \
        'expires in 5 days' in checks()['CALAMARI_API_CERT_EXPIRING']['summary']['message']
    cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl_cert_warn_days', '3')
    try:
        wait(lambda: 'CALAMARI_API_CERT_EXPIRING' not in checks(), 60, 'the warning to clear (3 days ahead)')
    finally:
        cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_api/ssl_cert_warn_days', '30')
    cluster.ceph('calamari-api', 'create-self-signed-cert')
    cluster.wait_api(base=https)
