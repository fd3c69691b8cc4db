"""The module inside a real ceph-mgr: loading, URL publication, cluster/info, dispatch errors."""
import urllib.request


def test_module_enabled_without_errors(cluster):
    modules = cluster.ceph_json('mgr', 'module', 'ls')
    assert 'calamari_api' in modules['enabled_modules']
    health = cluster.ceph_json('health', 'detail')
    assert 'MGR_MODULE_ERROR' not in health.get('checks', {})
    assert 'MGR_MODULE_DEPENDENCY' not in health.get('checks', {})


def test_mgr_services_lists_the_url(cluster, wait):
    # (the mgr publishes it with its next beacon to the mons: `mgr services` can lag the first answers)
    url = wait(lambda: cluster.ceph_json('mgr', 'services').get('calamari_api'), 30, 'the URL in mgr services')
    assert url == f'http://127.0.0.1:{cluster.api_port}/'


def test_cluster_reports_the_real_fsid(client, cluster):
    response = client.get('/api/v2/cluster')
    assert response.status_code == 200
    [entry] = response.json()
    assert entry['id'] == cluster.ceph_json('mon', 'dump')['fsid'] == cluster.fsid
    assert entry['name'] == 'ceph'
    assert client.get(f'/api/v2/cluster/{cluster.fsid}').json()['id'] == cluster.fsid


def test_cluster_needs_a_session(anon):
    response = anon.get('/api/v2/cluster')
    assert response.status_code == 403
    assert response.json() == {'detail': 'Authentication credentials were not provided.'}


def test_info_without_login(anon):
    info = anon.get('/api/v2/info').json()
    assert info['license'] == 'N/A' and info['ipaddr'] == '127.0.0.1'


def test_errors(client, fsid):
    assert client.get('/api/v2/cluster/nope').status_code == 404
    assert client.get('/api/v2/cluster/nope/pool').json() == 'Object of type cluster with id nope not found'
    response = client.delete('/api/v2/cluster/nope')        # only a GET of cluster/<fsid> had an empty body
    assert (response.status_code, response.json()) == (404, 'Object of type cluster with id nope not found')
    response = client.request('PUT', f'/api/v2/cluster/{fsid}', body={})
    assert response.status_code == 405
    assert response.json() == {'detail': "Method 'PUT' not allowed."}
    assert client.get('/api/v2/bogus').status_code == 404


def test_disable_and_enable(cluster, wait):
    cluster.ceph('mgr', 'module', 'disable', 'calamari_api')
    try:
        wait(lambda: not cluster._answers(cluster.url), 30, 'the API to stop')
    finally:
        cluster.ceph('mgr', 'module', 'enable', 'calamari_api')
    cluster.wait_api()


def test_post_without_any_body_is_an_empty_body(client, cluster, fsid):
    """`curl -X POST` sends neither Content-Length nor a body: Calamari took that as empty (no 411)."""
    import http.client
    conn = http.client.HTTPConnection('127.0.0.1', cluster.api_port, timeout=30)
    conn.putrequest('POST', f'/api/v2/cluster/{fsid}/osd/0/command/scrub')
    conn.putheader('Cookie', '; '.join(f'{k}={v}' for k, v in client.cookies.items()))
    conn.putheader('X-XSRF-TOKEN', client.cookies['XSRF-TOKEN'])
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 202, response.read()
    conn.close()


def test_bench_floor_is_served_only_while_its_module_is_on(cluster, client, wait):
    """The benchmark's floor (the bench-only mgr module calamari_bench, linked by `dev-cluster up --bench-module`):
    bare cheroot inside this ceph-mgr, fixed bodies by size; the API keeps serving beside it, and the port closes
    when the module is disabled.  The product has no trace of it: no option, no route in the OpenAPI document."""
    port = cluster.api_port + 30                # (in the cluster's block of HTTP ports)
    floor = f'http://127.0.0.1:{port}'
    cluster.ceph('mgr', 'module', 'enable', 'calamari_bench')
    # the mons learn a module's options from the active mgr's report: a mgr that restarted since (failover tests)
    # may not have sent it yet
    wait(lambda: cluster.ceph('config', 'set', 'mgr', 'mgr/calamari_bench/port', str(port), check=False).returncode
         == 0, 60, "calamari_bench's option")
    try:
        wait(lambda: floor_body(f'{floor}/5') == b'xxxxx', 60, 'the bench floor')
        with urllib.request.urlopen(f'{floor}/1300', timeout=10) as response:
            assert response.read() == b'x' * 1300
        cluster.wait_api()
        assert client.get('/api/v2/cluster').status_code == 200
    finally:
        cluster.ceph('mgr', 'module', 'disable', 'calamari_bench')
        cluster.ceph('config', 'rm', 'mgr', 'mgr/calamari_bench/port')
    wait(lambda: floor_body(f'{floor}/5') is None, 60, 'the bench floor to stop')
    cluster.wait_api()
    assert not any('bench' in path for path in client.get('/api/v2/openapi.json').json()['paths'])
    assert client.get('/api/v2/bench/fixed?size=10').status_code == 404


def floor_body(url: str):
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.read()
    except OSError:
        return None
