"""Servers and grains on a real cluster, checked against `ceph node ls`, `ceph osd metadata` and the system."""
import os
import platform

from tests.support.cluster import wait_for

SERVER_FIELDS = ['fqdn', 'hostname', 'managed', 'last_contact', 'boot_time', 'ceph_version', 'services']
CLUSTER_SERVER_FIELDS = ['fqdn', 'hostname', 'services', 'frontend_addr', 'backend_addr', 'frontend_iface',
                         'backend_iface', 'managed', 'last_contact', 'boot_time', 'ceph_version']


def test_server_list_matches_node_ls(cluster, client, fsid):
    nodes = cluster.ceph_json('node', 'ls')
    # right after a mgr (re)start no daemon has reported to it yet, so last_contact is still null
    servers = wait_for(lambda: (lambda found: found if all(s['last_contact'] for s in found) else None)(
        client.get('/api/v2/server').json()), 60, 'daemon reports')
    by_fqdn = {s['fqdn']: s for s in servers}
    for kind in ('mon', 'osd', 'mgr'):
        for host, ids in nodes.get(kind, {}).items():
            listed = {s['id'] for s in by_fqdn[host]['services'] if s['type'] == kind}
            assert listed == {str(i) for i in ids}, (kind, host)
    for server in servers:
        assert list(server) == SERVER_FIELDS
        assert server['managed'] is True
        assert server['last_contact'].endswith('+00:00')
        assert all(s['fsid'] == fsid and isinstance(s['id'], str) for s in server['services'])
    osd_meta = cluster.ceph_json('osd', 'metadata')
    for meta in osd_meta:
        server = by_fqdn[meta['hostname']]
        assert server['ceph_version'] == meta['ceph_version_short']
        assert {'fsid': fsid, 'type': 'osd', 'id': str(meta['id']), 'running': True} in server['services']


def test_server_detail_and_cluster_views(cluster, client, fsid):
    host = cluster.ceph_json('osd', 'metadata', '0')['hostname']
    detail = client.get(f'/api/v2/server/{host}').json()
    assert detail['fqdn'] == host
    scoped = client.get(f'/api/v2/cluster/{fsid}/server').json()
    assert [s['fqdn'] for s in scoped] == [s['fqdn'] for s in client.get('/api/v2/server').json()]
    one = client.get(f'/api/v2/cluster/{fsid}/server/{host}').json()
    assert list(one) == CLUSTER_SERVER_FIELDS
    osd0 = next(o for o in cluster.ceph_json('osd', 'dump')['osds'] if o['osd'] == 0)
    mon_ip = cluster.ceph_json('mon', 'dump')['mons'][0]['addr'].split(':')[0]
    assert one['frontend_addr'] in (mon_ip, osd0['public_addr'].split(':')[0])
    assert one['backend_addr'] == osd0['cluster_addr'].split(':')[0]
    assert one['services'] == detail['services']
    missing = client.get('/api/v2/server/no-such-host')
    assert missing.status_code == 404 and missing.json() == 'Object of type server with id no-such-host not found'
    assert client.get(f'/api/v2/cluster/{fsid}/server/no-such-host').status_code == 404
    assert client.get(f'/api/v2/cluster/{fsid}-nope/server').status_code == 404


def test_delete_server_comes_back_while_daemons_report(cluster, client):
    host = cluster.ceph_json('osd', 'metadata', '0')['hostname']
    assert client.delete(f'/api/v2/server/{host}').status_code == 204
    assert client.delete('/api/v2/server/no-such-host').status_code == 404
    wait_for(lambda: client.get(f'/api/v2/server/{host}').status_code == 200, 60, 'the host to come back')
    assert client.get(f'/api/v2/key/{host}').json()['status'] == 'accepted'


def _mem_total_mib():
    with open('/proc/meminfo') as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith('MemTotal:'))


def test_local_grains_agree_with_the_system(cluster, client):
    grains = client.get('/api/v2/grains').json()
    assert grains['kernelrelease'] == os.uname().release
    assert grains['num_cpus'] == os.cpu_count()
    assert grains['mem_total'] == _mem_total_mib()
    assert grains['cpuarch'] == platform.machine()
    assert grains['kernel'] == 'Linux'
    assert '127.0.0.1' in grains['ipv4'] and '127.0.0.1' in grains['ip_interfaces']['lo']
    assert client.get('/api/v2/grains/').status_code == 200


def test_server_grains_from_metadata(cluster, client):
    meta = cluster.ceph_json('osd', 'metadata', '0')
    grains = client.get(f"/api/v2/server/{meta['hostname']}/grains").json()
    assert grains['fqdn'] == meta['hostname'] and grains['host'] == meta['hostname'].split('.')[0]
    assert grains['kernelrelease'] == meta['kernel_version'] == os.uname().release
    assert grains['mem_total'] == int(meta['mem_total_kb']) // 1024
    assert grains['cpuarch'] == meta['arch']
    assert grains.get('osrelease') == meta.get('distro_version')       # (none on Debian sid, Tentacle's root)
    missing = client.get('/api/v2/server/no-such-host/grains')
    assert missing.status_code == 404 and missing.content == b''
