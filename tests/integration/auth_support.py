"""What the authentication tests share: Calamari's auth answers and a sweep over the whole route table."""
import os
import re
import socket

from calamari_api import routes

ANON = {'detail': 'Authentication credentials were not provided.'}
DENIED = {'detail': 'You do not have permission to perform this action.'}
PUBLIC = {'auth.login_form', 'auth.login', 'auth.logout', 'info.get', 'info.openapi'}
UNSAFE = ('POST', 'PUT', 'PATCH', 'DELETE')


def sample_values(fsid):
    return {'fsid': fsid, 'request_id': '0', 'osd_id': '0', 'pool_id': '1', 'type_id': '0', 'node_id': '-1',
            'rule_id': '0', 'mon_id': 'a', 'fqdn': socket.getfqdn(), 'minion_id': socket.getfqdn(),
            'key': 'mon_max_pool_pg_num', 'sync_type': 'osd_map', 'command': 'scrub', 'log_path': 'ceph.log',
            'user_id': '0'}


def route_urls(fsid):
    """(method, url, route) for every route of the table and every API version it is served under."""
    values = sample_values(fsid)
    for route in routes.ROUTES:
        path = re.sub(r'{(\w+)}', lambda m: values[m.group(1)], route.pattern.rstrip('*'))
        for version in route.versions:
            yield route.method, f'/api/{version}/{path}', route


def mgr_log(cluster):
    active = cluster.ceph_json('mgr', 'dump')['active_name']
    with open(os.path.join(cluster.dir, 'log', f'mgr.{active}.log'), errors='replace') as f:
        return f.read()
