"""Servers and grains over the fake maps: fields, order, running flags, unmanaged hosts, forget, 404s."""
import copy

import pytest

from calamari_api.views.server import addr_ip, metadata_grains, short_version

FIELDS = ['fqdn', 'hostname', 'managed', 'last_contact', 'boot_time', 'ceph_version', 'services']
CLUSTER_FIELDS = ['fqdn', 'hostname', 'services', 'frontend_addr', 'backend_addr', 'frontend_iface',
                  'backend_iface', 'managed', 'last_contact', 'boot_time', 'ceph_version']


@pytest.fixture
def reporting(module):
    module._ceph_get_latest_counter = lambda t, n, p: {p: (1415308515.156841, 0)}
    return module


def test_list_fields_and_services(client, fsid, reporting):
    [server] = client.get('/api/v2/server').json()
    assert list(server) == FIELDS
    assert server['fqdn'] == 'vm' and server['hostname'] == 'vm' and server['managed'] is True
    assert server['last_contact'] == '2014-11-06T21:15:15.156841+00:00'
    assert server['ceph_version'] == '16.2.15'
    assert server['services'] == [{'fsid': fsid, 'type': 'mon', 'id': 'a', 'running': True}] + [
        {'fsid': fsid, 'type': 'osd', 'id': str(i), 'running': True} for i in range(3)] + [
        {'fsid': fsid, 'type': 'mgr', 'id': 'x', 'running': True}]


def test_running_follows_the_maps(client, module, fsid):
    next(o for o in module.maps['osd_map']['osds'] if o['osd'] == 1)['up'] = 0
    module.notify('osd_map', '')
    services = client.get('/api/v2/server/vm').json()['services']
    assert {'fsid': fsid, 'type': 'osd', 'id': '1', 'running': False} in services


def test_cluster_scoped(client, fsid):
    [server] = client.get(f'/api/v2/cluster/{fsid}/server').json()
    assert list(server) == CLUSTER_FIELDS
    assert server['frontend_addr'] == '127.0.0.1' and server['backend_addr'] == '127.0.0.1'
    assert server['frontend_iface'] is None
    assert client.get(f'/api/v2/cluster/{fsid}/server/vm').json() == server
    missing = client.get(f'/api/v2/cluster/{fsid}/server/nope')
    assert missing.status_code == 404 and missing.json() == 'Object of type server with id nope not found'


def test_unknown_server(client):
    response = client.get('/api/v2/server/no.such.host')
    assert response.status_code == 404
    assert response.json() == 'Object of type server with id no.such.host not found'
    assert client.delete('/api/v2/server/no.such.host').status_code == 404


def test_unmanaged_host_from_the_crush_tree(client, module, fsid):
    """OSDs in a CRUSH host bucket whose daemons never reported: an unmanaged server with null facts."""
    osd = copy.deepcopy(module.maps['osd_map']['osds'][0])
    osd.update(osd=5, up=0)
    module.maps['osd_map']['osds'].append(osd)
    module.maps['osd_map_tree']['nodes'].append({'id': -9, 'name': 'far.example.com', 'type': 'host',
                                                 'type_id': 1, 'children': [5]})
    module.notify('osd_map', '')
    server = client.get('/api/v2/server/far.example.com').json()
    assert server == {'fqdn': 'far.example.com', 'hostname': 'far', 'managed': False, 'last_contact': None,
                      'boot_time': None, 'ceph_version': None,
                      'services': [{'fsid': fsid, 'type': 'osd', 'id': '5', 'running': False}]}
    assert 'far.example.com' not in [k['id'] for k in client.get('/api/v2/key').json()]


def test_never_reported_osd_in_a_known_host_bucket(client, module, fsid):
    osd = copy.deepcopy(module.maps['osd_map']['osds'][0])
    osd.update(osd=6, up=0, public_addr='(unrecognized address family 0)/0')
    module.maps['osd_map']['osds'].append(osd)
    next(n for n in module.maps['osd_map_tree']['nodes'] if n['name'] == 'vm')['children'].append(6)
    module.notify('osd_map', '')
    services = client.get('/api/v2/server/vm').json()['services']
    assert {'fsid': fsid, 'type': 'osd', 'id': '6', 'running': False} in services
    assert client.get(f'/api/v2/cluster/{fsid}/server/vm').json()['frontend_addr'] == '127.0.0.1'


def test_an_osd_that_moved_to_another_host_is_listed_there_only(client, module, fsid):
    """ceph-mgr keeps listing a moved OSD under its old host too; its metadata names where it runs now."""
    version = module.maps['servers'][0]['ceph_version']
    module.maps['osd_metadata']['1']['hostname'] = 'new-host'
    module.maps['servers'].append({'hostname': 'new-host', 'ceph_version': version,
                                   'services': [{'type': 'osd', 'id': '1', 'ceph_version': version}]})
    module.maps['servers'].append({'hostname': 'old-host', 'ceph_version': version,
                                   'services': [{'type': 'osd', 'id': '1', 'ceph_version': version}]})
    module.notify('osd_map', '')
    servers = {s['fqdn']: [f"{x['type']}.{x['id']}" for x in s['services']]
               for s in client.get('/api/v2/server').json()}
    assert servers == {'new-host': ['osd.1'], 'vm': ['mon.a', 'osd.0', 'osd.2', 'mgr.x']}    # no 'old-host'


def test_forget_hides_until_daemons_report_again(client, module, services):
    clock = {'now': 5000.0}
    services.hosts._clock = lambda: clock['now']
    module._ceph_get_latest_counter = lambda t, n, p: {p: (4990.0, 0)}
    services.hosts._contacts = None
    assert client.delete('/api/v2/server/vm').status_code == 204
    assert client.get('/api/v2/server/vm').status_code == 404
    assert client.get('/api/v2/server').json() == []
    clock['now'] += 10
    module._ceph_get_latest_counter = lambda t, n, p: {p: (5005.0, 0)}
    assert client.get('/api/v2/server/vm').status_code == 200


def test_local_host_boot_time(client, reporting):
    boot = client.get('/api/v2/server/vm').json()['boot_time']
    assert boot is None or (boot.endswith('+00:00') and '.' not in boot)


def test_grains(client, module):
    grains = client.get('/api/v2/server/vm/grains').json()
    assert grains['fqdn'] == 'vm' and grains['kernel'] == 'Linux' and grains['cpuarch'] == 'x86_64'
    assert isinstance(grains['mem_total'], int)
    assert client.get('/api/v2/grains').json()['num_cpus'] >= 1
    missing = client.get('/api/v2/server/nope/grains')
    assert missing.status_code == 404 and missing.content == b''


def test_metadata_grains_for_a_remote_host():
    meta = {'hostname': 'n1', 'os': 'Linux', 'kernel_version': '5.10.0', 'distro': 'centos', 'distro_version': '8',
            'arch': 'aarch64', 'cpu': 'Neoverse', 'mem_total_kb': '2048000', 'distro_description': 'CentOS 8'}
    grains = metadata_grains('n1.example.com', meta, ['v2:10.0.0.5:6800/1', '[fd00::1]:6801/2'])
    assert grains['host'] == 'n1' and grains['domain'] == 'example.com'
    assert grains['os'] == 'CentOS' and grains['os_family'] == 'RedHat' and grains['osrelease'] == '8'
    assert grains['mem_total'] == 2000 and grains['ipv4'] == ['10.0.0.5'] and grains['ipv6'] == ['fd00::1']
    assert 'num_cpus' not in grains           # daemon metadata has no CPU count


@pytest.mark.parametrize('addr,ip', [('v2:127.0.0.1:6800/123', '127.0.0.1'), ('127.0.0.1:6789/0', '127.0.0.1'),
                                     ('[::1]:6800/0', '::1'), ('v2:[fd00::2]:3300/0', 'fd00::2'),
                                     ('[v2:10.1.1.1:3300/0,v1:10.1.1.1:6789/0]', '10.1.1.1'),
                                     ('(unrecognized address family 0)/0', None),
                                     ('-', None), ('', None), (None, None), ('0.0.0.0:0/0', None)])
def test_addr_ip(addr, ip):
    assert addr_ip(addr) == ip


def test_short_version():
    assert short_version('ceph version 16.2.15 (618f) pacific (stable)') == '16.2.15'
    assert short_version('') is None
