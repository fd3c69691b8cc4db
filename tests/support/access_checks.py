"""Calamari's auth answers and a sweep over the whole route table, shared by the unit and integration auth tests."""
import os
import re
import socket

from calamari_api.web import routes

ANON = {'detail': 'Authentication credentials were not provided.'}
DENIED = {'detail': 'You do not have permission to perform this action.'}
PUBLIC = {'auth.login_form', 'auth.login', 'auth.logout', 'info.get', 'info.openapi', 'ui.root', 'ui.app'}
UNSAFE = ('POST', 'PUT', 'PATCH', 'DELETE')
READ_WRITE_READS = {'log.server_files', 'log.server_tail'}     # reads the readonly role is refused (issue 23)


def sample_values(fsid):
    return {'fsid': fsid, 'request_id': '0', 'osd_id': '0', 'pool_id': '1', 'type_id': '0', 'node_id': '-1',
            'rule_id': '0', 'mon_id': 'a', 'fqdn': socket.getfqdn(), 'minion_id': socket.getfqdn(),
            'key': 'mon_max_pool_pg_num', 'sync_type': 'osd_map', 'command': 'scrub', 'log_path': 'ceph/ceph.log',
            'user_id': '0', 'any_fsid': fsid, 'ui_app': 'login'}


def route_urls(fsid):
    """(method, url, route) for every route of the table and every API version it is served under (version '':
    outside /api: graphite, the web apps)."""
    values = sample_values(fsid)
    for route in routes.ROUTES:
        path = re.sub(r'{(\w+)}', lambda m: values[m.group(1)], route.pattern.rstrip('*'))
        for version in route.versions:
            yield route.method, f'/api/{version}/{path}' if version else f'/{path}', route


def check_readonly_everywhere(client, fsid):
    """Every authenticated route of the table as a read-only client: each read answers (HEAD, empty body), each
    write is refused with the role's 403, and every answer says ``Allow: GET, HEAD, OPTIONS``.  Returns the number
    of writes refused."""
    writes = 0
    for method, url, route in route_urls(fsid):
        if route.action in PUBLIC:
            continue
        if method in UNSAFE:
            response = client.request(method, url, body={})
            assert (response.status_code, response.json()) == (403, DENIED), (method, url)
            writes += 1
        elif route.action in READ_WRITE_READS:
            response = client.request('GET', url)
            assert (response.status_code, response.json()) == (403, DENIED), (method, url)
        else:
            response = client.request('HEAD', url)
            assert response.status_code not in (401, 403) and response.content == b'', (url, response.status_code)
        assert response.headers['Allow'] == 'GET, HEAD, OPTIONS', (method, url)
        assert 'Set-Cookie' not in response.headers, (method, url)
    return writes


def mgr_log(cluster):
    active = cluster.ceph_json('mgr', 'dump')['active_name']
    with open(os.path.join(cluster.dir, 'log', f'mgr.{active}.log'), errors='replace') as f:
        return f.read()
