"""Many clusters from one endpoint (hub.py, members.py): members registered with the CLI, routes of a member's
fsid forwarded to it, merged lists, a lost member.  The member is a fake calamari_api on loopback."""
import hashlib
import json
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

import pytest

from calamari_api import hub as hub_module
from calamari_api.hub import (MISSING_HEADER, Head, merge_keys, merge_newest_first, merge_servers, page_window)
from calamari_api import member_http
from calamari_api.members import MemberError, normalize_url, parse_member_input

MEMBER_FSID = '7b1d2c3e-0000-4000-8000-0000000000aa'
TOKEN = 'calapi_membertoken'


def event(when: str, message: str) -> Dict[str, Any]:
    return {'when': when, 'severity': 'INFO', 'message': message}


class FakeMember:
    """A calamari_api on loopback answering canned JSON per path (with ETags, 304s and a request log).  It speaks
    HTTP/1.1 with keep-alive, as CherryPy does, and counts the connections it accepted (``peers``).  With
    ``close_after`` it closes a connection after that many answers on it, without saying so (as a server's idle
    timeout would); ``extra_headers`` go with each answer; methods in ``hang_up`` get no answer (the connection is
    closed); with ``barrier``, each request waits there for the others; with ``tls`` (a server context), HTTPS."""

    def __init__(self, tls: Optional[ssl.SSLContext] = None) -> None:
        self.routes: Dict[str, Tuple[int, Any]] = {
            '/api/v2/cluster': (200, [{'id': MEMBER_FSID, 'name': 'backup', 'update_time': 'x'}]),
            '/api/v2/server': (200, [{'fqdn': 'b.example', 'hostname': 'b', 'managed': True,
                                      'last_contact': '2026-01-01T00:00:00.000000+00:00', 'boot_time': None,
                                      'ceph_version': '20.2.4', 'services': [{'fsid': MEMBER_FSID, 'type': 'mon',
                                                                              'id': 'a', 'running': True}]}]),
            '/api/v2/key': (200, [{'id': 'b.example', 'status': 'accepted'}]),
        }
        self.events: List[Dict[str, Any]] = [event('2030-01-01T00:00:%02d.000Z' % s, f'member {s}')
                                             for s in range(25, 0, -1)]
        self.log: List[Tuple[str, str, Dict[str, str], bytes]] = []
        self.delay = 0.0
        self.peers = 0
        self.close_after = 0
        self.extra_headers: Dict[str, str] = {}
        self.hang_up: Tuple[str, ...] = ()
        self.barrier: Optional[threading.Barrier] = None
        self.lock = threading.Lock()
        member = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def setup(self) -> None:
                super().setup()
                self.answered = 0
                with member.lock:
                    member.peers += 1

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.answer()

            def do_POST(self) -> None:
                self.answer()

            def do_PATCH(self) -> None:
                self.answer()

            def answer(self) -> None:
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                member.log.append((self.command, self.path, dict(self.headers), body))
                if self.command in member.hang_up:
                    self.close_connection = True
                    return
                if member.barrier:
                    member.barrier.wait(timeout=10)
                if member.delay:
                    time.sleep(member.delay)
                self.answered += 1
                if member.close_after and self.answered >= member.close_after:
                    self.close_connection = True
                if self.headers.get('Authorization') != f'Bearer {TOKEN}':
                    return self.send(401, {'detail': 'Invalid token.'})
                path, _, query = self.path.partition('?')
                if path == '/api/v2/event':
                    return self.send(200, member.page(query))
                if self.command != 'GET':
                    return self.send(202, {'request_id': 'r-1', 'echo': body.decode(), 'query': query})
                status, value = member.routes.get(path, (404, {'detail': 'Not found'}))
                self.send(status, value)

            def send(self, status: int, value: Any) -> None:
                body = json.dumps(value).encode()
                etag = '"%s"' % hashlib.sha1(body).hexdigest()
                if status == 200 and self.headers.get('If-None-Match') == etag:
                    self.send_response(304)
                    self.send_header('ETag', etag)
                    self.end_headers()
                    return
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(body)))
                self.send_header('X-Private', 'not passed on')
                for name, value in member.extra_headers.items():
                    self.send_header(name, value)
                if status == 200:
                    self.send_header('ETag', etag)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        if tls:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f'http{"s" if tls else ""}://127.0.0.1:{self.server.server_address[1]}'
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, query: str) -> Dict[str, Any]:
        params = dict(p.split('=', 1) for p in query.split('&') if p)
        size, page = int(params.get('page_size', 10)), int(params.get('page', 1))
        results = self.events[(page - 1) * size:page * size]
        more = page * size < len(self.events)
        return {'count': len(self.events), 'next': 'x' if more else None, 'previous': None, 'results': results}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def member():
    fake = FakeMember()
    yield fake
    fake.stop()


def command(module, prefix: str, inbuf: Optional[str] = None, **args: Any) -> Any:
    return module._handle_command(inbuf, dict(args, prefix=f'calamari-api {prefix}'))


@pytest.fixture
def joined(module, services, member):
    result = command(module, 'cluster-add', TOKEN + '\n', url=member.url + '/')
    assert result.retval == 0, result.stderr
    return member


# -- pure parts -----------------------------------------------------------------------------------

def test_member_input_and_urls():
    assert parse_member_input('tok\n') == ('tok', None)
    pem = '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----'
    assert parse_member_input(f'tok\n{pem}\n') == ('tok', pem)
    for bad in ('', '\n', 'two words', 'tok\nnot a pem', pem):
        with pytest.raises(ValueError):
            parse_member_input(bad)
    assert normalize_url('https://h:8002/') == 'https://h:8002'
    for bad in ('ftp://h', 'h:8002', 'http://h:99999', 'http://h/?x=1', 'http://u:p@h'):
        with pytest.raises(ValueError):
            normalize_url(bad)


def test_merge_servers_joins_a_host_of_two_clusters():
    a = {'fqdn': 'h', 'managed': False, 'last_contact': None, 'ceph_version': None, 'services': [{'fsid': 'A'}]}
    b = {'fqdn': 'h', 'managed': True, 'last_contact': '2', 'ceph_version': '20', 'services': [{'fsid': 'B'}]}
    c = {'fqdn': 'a', 'managed': True, 'last_contact': '1', 'ceph_version': '16', 'services': []}
    merged = merge_servers([[a], [b, c]])
    assert [s['fqdn'] for s in merged] == ['a', 'h']
    assert merged[1]['services'] == [{'fsid': 'A'}, {'fsid': 'B'}]
    assert merged[1]['managed'] and merged[1]['last_contact'] == '2' and merged[1]['ceph_version'] == '20'
    assert a['services'] == [{'fsid': 'A'}]                     # the inputs are not changed


def test_merge_keys_and_newest_first():
    assert merge_keys([[{'id': 'h', 'status': 'accepted'}], [{'id': 'h', 'status': 'pre'}, {'id': 'g'}]]) == [
        {'id': 'h', 'status': 'accepted'}, {'id': 'g'}]
    lists = [[{'when': '3'}, {'when': '1'}], [{'when': '4'}, {'when': '2'}, {'when': '1', 'm': 1}]]
    assert [(e['when'], e.get('m')) for e in merge_newest_first(lists, 'when')] == [
        ('4', None), ('3', None), ('2', None), ('1', None), ('1', 1)]          # a tie: this cluster first


def test_page_window():
    assert page_window({}) == 10
    assert page_window({'page': ['3'], 'page_size': ['7']}) == 21
    assert page_window({'page': ['last']}) is None
    assert page_window({'page': ['x']}) == 1 and page_window({'page_size': ['0']}) == 1
    assert len(Head([1, 2], 40)) == 40


# -- members --------------------------------------------------------------------------------------

def test_cluster_add_ls_rm(module, services, member):
    bad = command(module, 'cluster-add', 'calapi_wrong\n', url=member.url)
    assert bad.retval != 0 and 'refused the token' in bad.stderr
    assert command(module, 'cluster-add', None, url=member.url).retval != 0
    gone = command(module, 'cluster-add', TOKEN, url='http://127.0.0.1:9')
    assert gone.retval != 0 and 'unreachable' in gone.stderr
    result = command(module, 'cluster-add', TOKEN + '\n', url=member.url)
    assert result.retval == 0, result.stderr
    assert json.loads(result.stdout) == {'fsid': MEMBER_FSID, 'name': 'backup', 'url': member.url,
                                         'release': '20.2.4'}
    listed = json.loads(command(module, 'cluster-ls').stdout)
    assert [(m['fsid'], m['name'], m['url'], m['release'], m['reachable']) for m in listed] == [
        (MEMBER_FSID, 'backup', member.url, '20.2.4', True)]
    assert listed[0]['last_contact'].endswith('+00:00')
    assert TOKEN not in command(module, 'cluster-ls').stdout
    stored = module._store if hasattr(module, '_store') else None
    assert stored is None or any(TOKEN in v for v in stored.values())
    again = command(module, 'cluster-add', TOKEN, url=member.url)
    assert again.retval == 0 and 'updated' in again.stderr
    assert command(module, 'cluster-rm', fsid=MEMBER_FSID).retval == 0
    assert json.loads(command(module, 'cluster-ls').stdout) == []
    assert command(module, 'cluster-rm', fsid=MEMBER_FSID).retval != 0


def test_cluster_add_refuses_this_cluster(module, services, member, fsid):
    member.routes['/api/v2/cluster'] = (200, [{'id': fsid, 'name': 'ceph'}])
    result = command(module, 'cluster-add', TOKEN, url=member.url)
    assert result.retval != 0 and 'this cluster' in result.stderr


def test_members_survive_a_restart(module, services, joined):
    from calamari_api.members import Members
    again = Members(services.store, services.events)
    assert [r['fsid'] for r in again.records()] == [MEMBER_FSID]


# -- forwarding -----------------------------------------------------------------------------------

def test_member_routes_are_forwarded(app, client, joined):
    joined.routes[f'/api/v2/cluster/{MEMBER_FSID}/osd'] = (200, [{'id': 0}])
    response = client.get(f'/api/v2/cluster/{MEMBER_FSID}/osd?x=1')
    assert response.status_code == 200 and response.json() == [{'id': 0}]
    assert 'X-Private' not in response.headers and response.headers['ETag']
    method, path, headers, _ = joined.log[-1]
    assert (method, path) == ('GET', f'/api/v2/cluster/{MEMBER_FSID}/osd?x=1')
    assert headers['Authorization'] == f'Bearer {TOKEN}' and headers['Host'] == 'localhost:8002'
    assert 'Cookie' not in headers
    # The member's ETag: the client's conditional GET is a 304; the hub asks the member conditionally
    again = client.get(f'/api/v2/cluster/{MEMBER_FSID}/osd?x=1',
                       headers={'If-None-Match': response.headers['ETag']})
    assert again.status_code == 304
    assert joined.log[-1][2].get('If-None-Match') == response.headers['ETag']
    # A write: method, body and status unchanged; the member's 404 as it was
    posted = client.post(f'/api/v2/cluster/{MEMBER_FSID}/pool', {'name': 'p'})
    assert posted.status_code == 202 and json.loads(posted.json()['echo']) == {'name': 'p'}
    missing = client.get(f'/api/v2/cluster/{MEMBER_FSID}/nothing/here')
    assert missing.status_code == 404


def test_a_member_refusing_the_hubs_token_is_a_503_not_a_401(client, services, joined):
    services.members.get(MEMBER_FSID)['token'] = 'calapi_revoked'
    response = client.get(f'/api/v2/cluster/{MEMBER_FSID}/osd')
    assert response.status_code == 503 and 'refused the hub' in response.json()['detail']
    assert 'WWW-Authenticate' not in response.headers


def test_graphite_for_a_member_is_the_members(client, joined, fsid):
    joined.routes['/graphite/render'] = (200, [{'target': 'from the member', 'datapoints': []}])
    target = f'ceph.cluster.{MEMBER_FSID}.df.total_used'
    answer = client.get(f'/graphite/render?format=json&target=sumSeries({target})')
    assert answer.json() == [{'target': 'from the member', 'datapoints': []}]
    assert joined.log[-1][1].startswith('/graphite/render?format=json&target=sumSeries%28ceph.cluster.')
    mixed = client.get(f'/graphite/render?format=json&target={target}&target=ceph.cluster.{fsid}.df.total_used')
    assert mixed.status_code == 200 and mixed.json() != [{'target': 'from the member', 'datapoints': []}]


def test_a_readonly_caller_cannot_write_to_a_member(make_client, joined):
    reader = make_client('readonly')
    before = len(joined.log)
    assert reader.post(f'/api/v2/cluster/{MEMBER_FSID}/pool', {'name': 'p'}).status_code == 403
    assert reader.patch(f'/api/v2/cluster/{MEMBER_FSID}/osd/0', {'up': False}).status_code == 403
    assert len(joined.log) == before                         # the member was never asked
    from tests.support.wsgi_client import WsgiClient
    assert WsgiClient(reader.app).get(f'/api/v2/cluster/{MEMBER_FSID}/osd').status_code == 403


def test_a_route_role_applies_before_a_member_is_asked(make_client, joined):
    """cli needs a superuser (its route row's role): a read/write caller is refused at the hub, not forwarded to the
    member (where the hub's own token would act)."""
    writer = make_client('read/write')
    before = len(joined.log)
    answer = writer.post(f'/api/v2/cluster/{MEMBER_FSID}/cli', {'command': 'status'})
    assert answer.status_code == 403
    assert answer.json() == {'detail': 'You do not have permission to perform this action.'}
    assert len(joined.log) == before


def test_an_unknown_fsid_is_still_a_404(client, joined):
    assert client.get('/api/v2/cluster/00000000-0000-0000-0000-000000000000/osd').status_code == 404


def test_a_slow_or_stopped_member_is_a_503_naming_it(client, joined, services):
    from calamari_api import members as members_module
    joined.delay = members_module.MEMBER_TIMEOUT + 1
    started = time.time()
    response = client.get(f'/api/v2/cluster/{MEMBER_FSID}/osd')
    assert response.status_code == 503 and 'backup' in response.json()['detail']
    assert time.time() - started < members_module.MEMBER_TIMEOUT + 1
    # lost: an event, kept in `cluster` with its last contact, left out of merged lists (and said so)
    lost = [e for e in services.events.events() if e.fsid == MEMBER_FSID]
    assert lost and lost[0].message.startswith("Lost contact with cluster 'backup'")
    clusters = client.get('/api/v2/cluster').json()
    assert [c['id'] for c in clusters][1:] == [MEMBER_FSID]
    servers = client.get('/api/v2/server')
    assert servers.status_code == 200 and servers.headers[MISSING_HEADER] == MEMBER_FSID
    assert client.get(f'/api/v2/cluster/{MEMBER_FSID}').json()['id'] == MEMBER_FSID
    joined.delay = 0
    services.members.probe_all()                              # what the prober thread does every few seconds
    assert services.members.reachable(MEMBER_FSID)
    assert services.events.events()[0].message.startswith("Regained contact with cluster 'backup'")
    assert client.get(f'/api/v2/cluster/{MEMBER_FSID}/osd').status_code == 404


# -- kept-alive connections to a member ------------------------------------------------------------

OSD_PATH = f'/api/v2/cluster/{MEMBER_FSID}/osd'


def test_forwarded_reads_reuse_one_connection(client, services, joined):
    joined.routes[OSD_PATH] = (200, [{'id': 0}])
    before = joined.peers
    for _ in range(3):              # a 200, then two conditional GETs the member answers with a bodiless 304
        assert client.get(OSD_PATH).status_code == 200
    assert client.get(f'/api/v2/cluster/{MEMBER_FSID}/nothing').status_code == 404
    assert joined.peers == before + 1
    assert services.members.connections.idle(services.members.get(MEMBER_FSID)) == 1


def test_a_forwarded_write_gets_a_new_connection_and_is_never_retried(client, joined):
    joined.routes[OSD_PATH] = (200, [{'id': 0}])
    assert client.get(OSD_PATH).status_code == 200
    before = joined.peers
    assert client.post(f'/api/v2/cluster/{MEMBER_FSID}/pool', {'name': 'p'}).status_code == 202
    assert joined.peers == before + 1
    joined.hang_up = ('POST',)
    posts = sum(1 for entry in joined.log if entry[0] == 'POST')
    assert client.post(f'/api/v2/cluster/{MEMBER_FSID}/pool', {'name': 'p'}).status_code == 503
    assert sum(1 for entry in joined.log if entry[0] == 'POST') == posts + 1
    assert joined.peers == before + 2


def test_a_member_closing_an_idle_connection_costs_one_retry(client, services, joined):
    joined.routes[OSD_PATH] = (200, [{'id': 0}])
    joined.close_after = 1          # the member closes each connection after its answer, without saying so
    assert client.get(OSD_PATH).status_code == 200
    before, asked = joined.peers, len(joined.log)
    assert client.get(OSD_PATH).status_code == 200
    assert joined.peers == before + 1 and len(joined.log) == asked + 1     # the kept one was closed: a new one
    assert services.members.reachable(MEMBER_FSID)
    # A read the member hangs up on is asked once more, on a new connection, and no more
    joined.close_after = 0
    assert client.get(OSD_PATH).status_code == 200
    joined.hang_up = ('GET',)
    before, asked = joined.peers, len(joined.log)
    assert client.get(OSD_PATH).status_code == 503
    assert joined.peers == before + 1 and len(joined.log) == asked + 2


def test_at_most_four_idle_connections_per_member(services, joined):
    members, record = services.members, services.members.get(MEMBER_FSID)
    before = joined.peers
    joined.barrier = threading.Barrier(6)       # six reads at once: six connections
    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda n: members.request(MEMBER_FSID, 'GET', f'/api/v2/key?n={n}').status,
                                 range(6)))
    assert statuses == [200] * 6 and joined.peers == before + 6
    assert members.connections.idle(record) == member_http.MAX_IDLE == 4
    joined.barrier = None
    for n in range(6):
        members.request(MEMBER_FSID, 'GET', f'/api/v2/key?n={n}')
    assert joined.peers == before + 6


def test_an_idle_connection_older_than_five_seconds_is_not_reused(member, clock):
    connections = member_http.Connections(clock=clock)
    record = {'url': member.url, 'token': TOKEN, 'fsid': MEMBER_FSID, 'name': 'backup'}
    assert connections.call(record, 'GET', '/api/v2/cluster')[0] == 200
    clock.advance(member_http.IDLE_TIMEOUT - 0.1)
    assert connections.call(record, 'GET', '/api/v2/cluster')[0] == 200
    assert member.peers == 1
    clock.advance(member_http.IDLE_TIMEOUT + 0.1)
    assert connections.call(record, 'GET', '/api/v2/cluster')[0] == 200
    assert member.peers == 2 and connections.idle(record) == 1
    clock.advance(member_http.IDLE_TIMEOUT + 0.1)
    connections.close_expired()                 # what the members' prober does each round
    assert connections.idle(record) == 0
    assert connections.call(record, 'POST', '/api/v2/pool', b'{}')[0] == 202
    assert member.peers == 3
    connections.close()
    assert connections.idle(record) == 0


def test_only_answers_read_to_their_end_keep_their_connection(member, monkeypatch):
    connections = member_http.Connections()
    record = {'url': member.url, 'token': TOKEN}
    member.extra_headers = {'Connection': 'close'}
    for peers in (1, 2):
        assert connections.call(record, 'GET', '/api/v2/cluster')[0] == 200
        assert member.peers == peers and connections.idle(record) == 0
    member.extra_headers = {}
    assert connections.call(record, 'GET', '/api/v2/cluster')[0] == 200
    assert connections.idle(record) == 1
    monkeypatch.setattr(member_http, 'MAX_ANSWER_BYTES', 10)
    with pytest.raises(MemberError, match='answered more than 10 bytes'):
        connections.call(record, 'GET', '/api/v2/cluster')
    assert member.peers == 3 and connections.idle(record) == 0     # (the kept one, closed)


def test_cluster_add_and_rm_forget_the_members_connections(module, client, services, joined):
    joined.routes[OSD_PATH] = (200, [{'id': 0}])
    assert client.get(OSD_PATH).status_code == 200
    record = services.members.get(MEMBER_FSID)
    assert services.members.connections.idle(record) == 1
    assert command(module, 'cluster-add', TOKEN + '\n', url=joined.url).retval == 0      # (its probe's too)
    assert services.members.connections.idle(record) == 0
    before = joined.peers
    assert client.get(OSD_PATH).status_code == 200
    assert joined.peers == before + 1 and services.members.connections.idle(record) == 1
    assert command(module, 'cluster-rm', fsid=MEMBER_FSID).retval == 0
    assert services.members.connections.idle(record) == 0


def test_kept_alive_over_verified_tls(tmp_path, monkeypatch):
    from tests.unit.test_auth_tls import make_pem
    cert, key = make_pem(tmp_path, 'calamari-api')
    (tmp_path / 'member.pem').write_text(cert + key)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(str(tmp_path / 'member.pem'))
    fake = FakeMember(tls=server_context)
    made: List[Optional[str]] = []
    original = member_http.tls_context
    monkeypatch.setattr(member_http, 'tls_context', lambda ca: made.append(ca) or original(ca))
    try:
        connections = member_http.Connections()
        record = {'url': fake.url, 'token': TOKEN, 'ca': cert, 'tls_name': 'calamari-api'}
        for _ in range(3):
            assert connections.call(record, 'GET', '/api/v2/cluster')[0] == 200
        connections.forget(record)
        assert connections.call(record, 'GET', '/api/v2/cluster')[0] == 200
        assert fake.peers == 2 and made == [cert]           # one TLS context for the CA
        assert member_http.call(record, 'GET', '/api/v2/cluster')[0] == 200     # (a connection and context of its own)
        assert fake.peers == 3 and made == [cert, cert]
        with pytest.raises(MemberError, match='TLS verification failed'):
            connections.call(dict(record, tls_name='elsewhere'), 'GET', '/api/v2/cluster')
        connections.close()
    finally:
        fake.stop()


# -- merged lists ---------------------------------------------------------------------------------

def test_cluster_list_has_this_cluster_first(client, joined, fsid):
    clusters = client.get('/api/v2/cluster').json()
    assert [c['id'] for c in clusters] == [fsid, MEMBER_FSID]
    assert clusters[1]['name'] == 'backup' and clusters[1]['update_time'].endswith('+00:00')
    v1 = client.get('/api/v1/cluster').json()
    assert [c['id'] for c in v1] == [fsid, MEMBER_FSID]


def test_merged_servers_keys_and_grains(client, joined, fsid):
    local = client.get('/api/v2/server').json()      # (before the member joined, the cache had this one)
    servers = client.get('/api/v2/server')
    assert MISSING_HEADER not in servers.headers
    fqdns = [s['fqdn'] for s in servers.json()]
    assert fqdns == sorted(fqdns) and 'b.example' in fqdns
    joined.routes['/api/v2/server/b.example'] = (200, joined.routes['/api/v2/server'][1][0])
    assert client.get('/api/v2/server/b.example').json()['ceph_version'] == '20.2.4'
    assert client.get('/api/v2/server/none.example').status_code == 404
    keys = client.get('/api/v2/key').json()
    assert keys[-1] == {'id': 'b.example', 'status': 'accepted'}
    joined.routes['/api/v2/key/b.example'] = (200, {'id': 'b.example', 'status': 'accepted'})
    assert client.get('/api/v2/key/b.example').json()['status'] == 'accepted'
    patched = client.patch('/api/v2/key/b.example', {'status': 'rejected'})     # the member has it: it answers
    assert patched.status_code == 202 and joined.log[-1][:2] == ('PATCH', '/api/v2/key/b.example')
    assert client.patch('/api/v2/key/none.example', {'status': 'rejected'}).status_code == 404
    joined.routes['/api/v2/server/b.example/grains'] = (200, {'fqdn': 'b.example'})
    assert client.get('/api/v2/server/b.example/grains').json() == {'fqdn': 'b.example'}
    assert local


def test_merged_events_paginate_over_every_cluster(client, joined, services):
    for second in range(30, 40):
        services.events.emit('INFO', f'hub {second}')
    local_count = len(services.events.events())
    page = client.get('/api/v2/event?page_size=5').json()
    assert page['count'] == local_count + 25
    whens = [e['when'] for e in page['results']]
    assert whens == sorted(whens, reverse=True)
    last = client.get('/api/v2/event?page=last&page_size=7').json()
    assert last['next'] is None and len(last['results']) == (last['count'] % 7 or 7)
    everything = []
    page_no = 1
    while True:
        got = client.get(f'/api/v2/event?page_size=4&page={page_no}').json()
        everything += got['results']
        if not got['next']:
            break
        page_no += 1
    assert len(everything) == got['count'] >= local_count + 25      # (the event generator may add one meanwhile)
    assert {f'hub {s}' for s in range(30, 40)} <= {e['message'] for e in everything}
    assert sum(1 for e in everything if e['message'].startswith('member')) == 25
    assert client.get('/api/v2/event?page=99').status_code == 400
    assert client.get('/api/v2/event?severity=NOPE').status_code == 400


def test_polling_a_merged_list_costs_the_member_a_304(client, joined, monkeypatch):
    def asked():
        return [entry for entry in joined.log if entry[1] == '/api/v2/server']
    client.get('/api/v2/server')
    before = len(asked())
    first = client.get('/api/v2/server')
    assert len(asked()) == before                  # a fresh answer (MERGE_FRESH): the member is not asked again
    monkeypatch.setattr(hub_module, 'MERGE_FRESH', 0.0)
    client.get('/api/v2/server')
    assert asked()[-1][2].get('If-None-Match')      # older: asked conditionally (the member answers 304)
    assert client.get('/api/v2/server', headers={'If-None-Match': first.headers['ETag']}).status_code == 304


def test_a_request_id_is_found_on_its_cluster(client, joined, fsid):
    joined.routes['/api/v2/request/r-9'] = (200, {'id': 'r-9', 'state': 'complete'})
    assert client.get('/api/v2/request/r-9').json() == {'id': 'r-9', 'state': 'complete'}
    assert client.get(f'/api/v2/cluster/{fsid}/request/r-9').status_code == 404      # this cluster's alone
    joined.routes['/api/v2/request'] = (200, {'count': 1, 'next': None, 'previous': None,
                                              'results': [{'id': 'r-9', 'requested_at': '2030'}]})
    assert client.get(f'/api/v2/cluster/{fsid}/request').json()['count'] == 0
    assert [r['id'] for r in client.get('/api/v2/request').json()['results']] == ['r-9']
    assert client.get('/api/v2/request/r-nowhere').status_code == 404
    cancelled = client.post('/api/v2/request/r-9/cancel')
    assert cancelled.status_code == 202 and joined.log[-1][1] == '/api/v2/request/r-9/cancel'


def test_members_each_reports_errors_per_member(services, joined):
    results = services.members.each(lambda fsid: 1 / 1 if fsid else None)
    assert results == {MEMBER_FSID: 1.0}
    with pytest.raises(MemberError):
        services.members.request('nope', 'GET', '/')
