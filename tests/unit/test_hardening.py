"""Issue 23's transport and account hardening, in-process: when a request has arrived (request_end), slow and silent
clients holding no worker, the security headers, the TLS floor, the certificate's expiry, the scrypt parameters and
the rehash at login, the password length rule, the idle session timeout, redacted config options, the log folder and
names."""
import http.client
import socket
import ssl
import subprocess
import time

import pytest

from calamari_api.auth import users as auth_users
from calamari_api.auth.sessions import Auth
from calamari_api.auth.users import check_password, hash_password, needs_rehash
from calamari_api.web.http import ApiRequest
from calamari_api.module import cert_expiry_check
from calamari_api.web.server import (DEFAULT_TLS_CIPHERS, HttpServer, ServerConfigError, TlsSettings,
                                     awaits_continue, certificate_not_after, request_end, security_headers,
                                     tls_adapter, without_expect)
from calamari_api.store import KVStore
from calamari_api.views.config import config_objects, redacted, shown_value
from calamari_api.views.log import DEFAULT_LOG_FOLDER, is_ceph_log_name, log_folder


# -- when a request has arrived --------------------------------------------------------------------------------------
GET = b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
POST = b'POST /p HTTP/1.1\r\nContent-Length: 4\r\n\r\n'
CHUNKED = b'POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'


@pytest.mark.parametrize('head, end', [
    (b'', None),
    (GET[:-2], None),
    (GET, len(GET)),
    (GET + b'GET / HTTP/1.1\r\n', len(GET)),                                     # a pipelined one after it
    (b'GET / HTTP/1.1\nHost: x\n\n', 24),                                        # LF only: cheroot's 400
    (POST + b'{}', None),                                                         # its body is still coming
    (POST + b'{}{}', len(POST) + 4),
    (POST + b'{}{}GET', len(POST) + 4),
    (POST.replace(b'Content-Length: 4', b'content-length:2') + b'{}', len(POST) + 1),
    (POST[:-2] + b'Expect: 100-continue\r\n\r\n', None),                    # its 100 Continue, then its body
    (POST[:-2] + b'Expect: 100-continue\r\n\r\n{}{}', len(POST) + 26),
    (POST[:-2] + b'Expect: something-else\r\n\r\n', len(POST) + 24),        # cheroot's answer, at once
    (CHUNKED, None),
    (CHUNKED + b'4\r\n{}{}', None),
    (CHUNKED + b'4\r\n{}{}\r\n0\r\n', None),                                 # its trailers are still coming
    (CHUNKED + b'4\r\n{}{}\r\n0\r\n\r\n', len(CHUNKED) + 14),
    (CHUNKED + b'4;x=y\r\n{}{}\r\n0\r\nA: b\r\n\r\nGET', len(CHUNKED) + 24),    # extensions, trailers, the next
    (CHUNKED + b'zz\r\n', len(CHUNKED)),                                          # malformed: cheroot's 400
    (CHUNKED + b'4\r\n{}{}XX', len(CHUNKED)),
    (CHUNKED + b'200000\r\n', len(CHUNKED)),                                      # too large: cheroot's 413
    (CHUNKED.replace(b'\r\n\r\n', b'\r\nContent-Length: 4\r\n\r\n'), len(CHUNKED) + 19),   # both: cheroot
    (POST.replace(b'Content-Length: 4', b'Transfer-Encoding: gzip'), len(POST) + 6),       # cheroot's 501 (400)
    (POST.replace(b': 4', b': 99999999'), len(POST) + 7),                        # too large: cheroot's 413
])
def test_request_end(head, end):
    assert request_end(head, 1024 * 1024) == end


def test_expect_continue_is_answered_by_the_acceptor():
    head = b'POST /p HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n'
    assert awaits_continue(head) and not awaits_continue(head.replace(b'HTTP/1.1', b'HTTP/1.0'))
    assert not awaits_continue(head[:-2])
    assert without_expect(head) == b'POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n'


def hello_app(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', '2')])
    return [b'ok']


def make_pem(tmp_path, days=1):
    cert, key = tmp_path / 'c.crt', tmp_path / 'c.key'
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', str(days), '-subj',
                    '/CN=calamari-api-test', '-keyout', str(key), '-out', str(cert)], check=True, capture_output=True)
    return cert.read_text(), key.read_text()


@pytest.fixture
def plain_server():
    server = HttpServer(hello_app, '127.0.0.1', 0, threads=2, socket_timeout=5.0, read_deadline=3.0)
    server.start()
    yield server.server.bind_addr[1]
    server.stop()


def test_slow_clients_hold_no_worker(plain_server):
    slow = []
    partial = [b'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}',
               b'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: a',
               b'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{}',
               b'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n']
    for _ in range(32):                     # 16 times the workers: each sends part of its request, then nothing
        sock = socket.create_connection(('127.0.0.1', plain_server), timeout=10)
        sock.sendall(partial[len(slow) % len(partial)])
        slow.append(sock)
    try:
        time.sleep(0.5)
        for _ in range(3):
            started = time.monotonic()
            conn = http.client.HTTPConnection('127.0.0.1', plain_server, timeout=10)
            conn.request('GET', '/')
            response = conn.getresponse()
            assert response.read() == b'ok'
            assert time.monotonic() - started < 1.0
            conn.close()
        for sock in slow[:4]:               # past the deadline (3 s), the next byte is answered 408
            time.sleep(1.2)
        for sock in slow[:2]:
            sock.sendall(b'a')
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b'HTTP/1.1 408 ')
    finally:
        for sock in slow:
            sock.close()


def read_until_closed(sock):
    data = b''
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return data
        data += chunk


def test_expect_100_continue_then_the_body_then_the_answer(plain_server):
    with socket.create_connection(('127.0.0.1', plain_server), timeout=10) as sock:
        sock.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n'
                     b'Connection: close\r\n\r\n')
        assert sock.recv(4096) == b'HTTP/1.1 100 Continue\r\n\r\n'
        sock.sendall(b'{}')
        data = read_until_closed(sock)
    assert data.startswith(b'HTTP/1.1 200 ') and data.endswith(b'ok')     # (one 100 Continue, not two)


def test_a_chunked_body_sent_slowly_is_answered(plain_server):
    with socket.create_connection(('127.0.0.1', plain_server), timeout=10) as sock:
        for part in (b'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n',
                     b'2\r\n{}', b'\r\n', b'0\r\n', b'\r\n'):
            sock.sendall(part)
            time.sleep(0.05)
        data = read_until_closed(sock)
    assert data.startswith(b'HTTP/1.1 200 ') and data.endswith(b'ok')


def test_a_request_sent_byte_by_byte_is_answered(plain_server):
    raw = b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
    with socket.create_connection(('127.0.0.1', plain_server), timeout=10) as sock:
        for i in range(len(raw)):
            sock.sendall(raw[i:i + 1])
            time.sleep(0.01)
        data = read_until_closed(sock)
    assert data.startswith(b'HTTP/1.1 200 ') and data.endswith(b'ok')
    assert b'X-Frame-Options: DENY' in data and b'Cache-Control: private' in data


def test_security_headers():
    plain = dict(security_headers(False, []))
    assert plain == {'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY',
                     'Content-Security-Policy': "frame-ancestors 'none'", 'Cache-Control': 'private'}
    tls = dict(security_headers(True, [('cache-control', 'no-store')]))
    assert 'Cache-Control' not in tls and tls['Strict-Transport-Security'].startswith('max-age=')


# -- TLS ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def tls_server(tmp_path):
    server = HttpServer(hello_app, '127.0.0.1', 0, threads=2, tls=TlsSettings(*make_pem(tmp_path)))
    server.start()
    yield server
    server.stop()


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
            return tls.version()


def test_tls_floor_and_silent_clients(tls_server):
    port = tls_server.server.bind_addr[1]
    silent = [socket.create_connection(('127.0.0.1', port), timeout=10) for _ in range(16)]
    try:
        started = time.monotonic()
        assert handshake(port, client_context(ssl.TLSVersion.TLSv1_3)) == 'TLSv1.3'
        assert handshake(port, client_context(ssl.TLSVersion.TLSv1_2)) == 'TLSv1.2'
        assert time.monotonic() - started < 2.0                 # the silent ones did not stop the accept loop
        for context in (client_context(ssl.TLSVersion.TLSv1_2, 'AES128-SHA:@SECLEVEL=0'),
                        client_context(ssl.TLSVersion.TLSv1_2, 'AES256-GCM-SHA384:@SECLEVEL=0')):
            with pytest.raises((ssl.SSLError, OSError)):
                handshake(port, context)
        conn = http.client.HTTPSConnection('127.0.0.1', port, timeout=10, context=client_context(
            ssl.TLSVersion.TLSv1_2))
        conn.request('GET', '/')
        response = conn.getresponse()
        assert response.read() == b'ok' and response.getheader('Strict-Transport-Security')
    finally:
        for sock in silent:
            sock.close()


def test_tls_settings_are_checked(tmp_path):
    cert, key = make_pem(tmp_path)
    with pytest.raises(ServerConfigError, match='ssl_min_version'):
        tls_adapter(TlsSettings(cert, key, min_version='TLSv1.1'))
    with pytest.raises(ServerConfigError, match='ssl_ciphers'):
        tls_adapter(TlsSettings(cert, key, ciphers='NO-SUCH-CIPHER'))
    adapter, not_after = tls_adapter(TlsSettings(cert, key, min_version='TLSv1.3'))
    assert adapter.context.minimum_version == ssl.TLSVersion.TLSv1_3
    assert 0 < not_after - time.time() <= 86400 + 60
    assert all(cipher.startswith(('ECDHE-', 'DHE-')) for cipher in DEFAULT_TLS_CIPHERS.split(':'))


def test_certificate_not_after_and_expiry_check(tmp_path):
    cert, _ = make_pem(tmp_path, days=10)
    not_after = certificate_not_after(str(tmp_path / 'c.crt'))
    assert 9 * 86400 < not_after - time.time() <= 10 * 86400 + 60
    assert certificate_not_after(str(tmp_path / 'missing.crt')) is None
    now = time.time()
    assert cert_expiry_check(not_after, 30, now)['summary'].startswith('calamari_api: the TLS certificate expires in')
    assert cert_expiry_check(not_after, 5, now) is None
    assert cert_expiry_check(not_after, 0, now) is None and cert_expiry_check(None, 30, now) is None
    assert 'expired' in cert_expiry_check(now - 10, 30, now)['summary']


# -- passwords and sessions -----------------------------------------------------------------------------------------
class MemoryMgr:
    def __init__(self):
        self.data = {}

    def get_store(self, key):
        return self.data.get(key)

    def set_store(self, key, value):
        if value is None:
            self.data.pop(key, None)
        else:
            self.data[key] = value

    def get_store_prefix(self, prefix):
        return {k: v for k, v in self.data.items() if k.startswith(prefix)}


def make_auth(options=None, clock=None):
    values = dict(options or {})
    return Auth(KVStore(MemoryMgr()), values.get, clock=clock or time.time)


def request(cookies=None):
    req = ApiRequest('GET', '/api/v2/cluster', {}, {}, b'', 'http://x', 'http', remote_addr='127.0.0.1')
    req.cookies = dict(cookies or {})
    return req


def test_production_scrypt_parameters(monkeypatch):
    monkeypatch.setattr(auth_users, 'SCRYPT', {'n': 2 ** 14, 'r': 8, 'p': 5})
    encoded = hash_password('correct horse')
    assert encoded.startswith('scrypt$16384$8$5$') and check_password('correct horse', encoded)
    assert not needs_rehash(encoded) and needs_rehash('scrypt$16384$8$1$c2FsdA==$ZGlnZXN0')
    assert not check_password('x', 'scrypt$4194304$8$1$c2FsdA==$ZGlnZXN0')      # absurd parameters: no attempt


def test_rehash_at_login(monkeypatch):
    auth = make_auth()
    user = auth.create_user('alice', 'alice-password')
    old = user.record['password']
    monkeypatch.setattr(auth_users, 'SCRYPT', {'n': 2 ** 11, 'r': 8, 'p': 2})     # the parameters are raised
    assert needs_rehash(old)
    with pytest.raises(Exception):
        auth.login(request(), 'alice', 'wrong-password')
    assert auth.user_by_name('alice').record['password'] == old                     # a failure changes nothing
    auth.login(request(), 'alice', 'alice-password')
    new = auth.user_by_name('alice').record['password']
    assert new.startswith('scrypt$2048$8$2$') and check_password('alice-password', new)
    assert auth._store.get_json(f'user/{user.id}')['password'] == new
    auth.login(request(), 'alice', 'alice-password')
    assert auth.user_by_name('alice').record['password'] == new                     # once


def test_password_min_length():
    auth = make_auth({'password_min_length': 10})
    with pytest.raises(ValueError, match='at least 10 characters'):
        auth.create_user('bob', 'nine-char')
    user = auth.create_user('bob', 'ten-chars!')
    with pytest.raises(ValueError, match=r'at least 10 characters \(it has 3\)'):
        auth.update_user(user.id, password='abc')
    assert make_auth().password_errors('seven77') == ['Ensure this value has at least 8 characters (it has 7).']


def test_idle_session_timeout():
    now = [1000.0]
    auth = make_auth({'session_idle_timeout': 600}, clock=lambda: now[0])
    auth.create_user('carol', 'carol-password')
    session_id, _ = auth.login(request(), 'carol', 'carol-password')
    cookies = {'calamari_sessionid': session_id}
    now[0] += 590
    assert auth.current_user(request(cookies)).username == 'carol'      # used: the idle clock starts again
    now[0] += 590
    assert auth.current_user(request(cookies)) is not None
    now[0] += 601
    assert auth.current_user(request(cookies)) is None                 # unused for longer than 600 s
    assert not [k for k in auth._store._mgr.data if k.startswith('session/')]
    no_idle = make_auth({'session_idle_timeout': 0}, clock=lambda: now[0])
    no_idle.create_user('dave', 'dave-password')
    session_id, _ = no_idle.login(request(), 'dave', 'dave-password')
    now[0] += 86400
    assert no_idle.current_user(request({'calamari_sessionid': session_id})) is not None


def test_idle_session_use_is_stored_now_and_then():
    now = [1000.0]
    auth = make_auth({'session_idle_timeout': 3600}, clock=lambda: now[0])
    auth.create_user('erin', 'erin-password')
    session_id, _ = auth.login(request(), 'erin', 'erin-password')
    key = next(k for k in auth._store._mgr.data if k.startswith('session/'))
    now[0] += 300
    auth.current_user(request({'calamari_sessionid': session_id}))
    assert auth._store.get_json(key)['last_used'] == 1000.0             # not at every request (a mon commit each)
    now[0] += 700
    auth.current_user(request({'calamari_sessionid': session_id}))
    assert auth._store.get_json(key)['last_used'] == 2000.0             # a quarter of the timeout later


# -- reads ------------------------------------------------------------------------------------------------------------
def test_secret_config_options_redacted():
    config = {'rgw_keystone_admin_password': 'pw', 'rgw_sts_key': 'k', 'key': 'AQB...', 'rgw_opa_token': 't',
              'rgw_sts_client_secret': 's', 'rgw_crypt_s3_kms_encryption_keys': 'a=b',
              'rgw_keystone_admin_password_path': '/etc/pw', 'keyfile': '/etc/key', 'rgw_keystone_admin_user': 'u',
              'rgw_keystone_admin_token': '', 'rgw_keystone_token_cache_size': '10000'}
    shown = {item['key']: item['value'] for item in config_objects(config)}
    assert {k for k, v in shown.items() if v == '<redacted>'} == {
        'rgw_keystone_admin_password', 'rgw_sts_key', 'key', 'rgw_opa_token', 'rgw_sts_client_secret',
        'rgw_crypt_s3_kms_encryption_keys'}
    assert shown['rgw_keystone_admin_token'] == ''                     # not set: nothing to hide
    assert redacted(config) == shown and redacted(None) is None
    assert shown_value('rgw_keystone_admin_password_path', '/etc/pw') == '/etc/pw'


@pytest.mark.parametrize('log_file, folder', [
    ('/var/log/ceph/ceph-mgr.x.log', '/var/log/ceph'),
    ('/var/log/ceph-mgr.x.log', DEFAULT_LOG_FOLDER),          # never /var/log itself
    ('/var/log/../log/ceph-mgr.x.log', DEFAULT_LOG_FOLDER),
    ('/tmp/mgr.log', DEFAULT_LOG_FOLDER), ('/mgr.log', DEFAULT_LOG_FOLDER),
    ('/srv/cluster1/log/mgr.x.log', '/srv/cluster1/log'),
    ('', DEFAULT_LOG_FOLDER), ('/dev/stderr', DEFAULT_LOG_FOLDER), ('relative.log', DEFAULT_LOG_FOLDER),
])
def test_log_folder(log_file, folder):
    assert log_folder(log_file) == folder


@pytest.mark.parametrize('name, shown', [
    ('ceph.log', True), ('ceph-mgr.x.log', True), ('ceph-osd.12.log', True), ('mgr.x.log', True),
    ('ceph-client.admin.log', True), ('ceph-volume.log', True), ('cluster2.log', True),
    ('ceph.audit.log', False), ('ceph-mgr.x.log.1', False), ('syslog', False), ('notes.txt', False),
    ('auth.log.gz', False), ('ceph-mon.a.audit.log', False),
])
def test_ceph_log_names(name, shown):
    assert is_ceph_log_name(name) == shown
