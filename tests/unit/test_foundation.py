"""The HTTP layer: dispatch, errors, fsid checks, cluster and info."""
from calamari_api.web import routes
from calamari_api.web.app import to_routes_path


def test_cluster_list_and_detail(client, fsid):
    response = client.get('/api/v2/cluster')
    assert response.status_code == 200
    [cluster] = response.json()
    assert list(cluster) == ['update_time', 'id', 'name']
    assert cluster['id'] == fsid and cluster['name'] == 'ceph'
    assert cluster['update_time'].endswith('+00:00')
    assert client.get(f'/api/v2/cluster/{fsid}').json() == cluster


def test_unknown_fsid(client):
    response = client.get('/api/v2/cluster/00000000-0000')
    assert response.status_code == 404 and response.content == b''
    response = client.get('/api/v2/cluster/00000000-0000/osd')
    assert response.status_code == 404
    assert response.json() == 'Object of type cluster with id 00000000-0000 not found'
    # only a GET of cluster/<fsid> had an empty body in Calamari
    response = client.delete('/api/v2/cluster/00000000-0000')
    assert response.status_code == 404
    assert response.json() == 'Object of type cluster with id 00000000-0000 not found'
    assert client.request('HEAD', '/api/v2/cluster/00000000-0000').status_code == 404


def test_info_is_public(anon):
    response = anon.get('/api/v2/info')
    assert response.status_code == 200
    assert list(response.json()) == [
        'version', 'license', 'registered', 'hostname', 'fqdn', 'ipaddr',
        'bootstrap_url', 'bootstrap_rhel', 'bootstrap_ubuntu']
    assert anon.get('/api/v2/info/').status_code == 200


def test_method_not_allowed(client):
    response = client.post('/api/v2/cluster', {})
    assert response.status_code == 405
    assert response.json() == {'detail': "Method 'POST' not allowed."}
    assert response.headers['Allow'] == 'GET, HEAD, OPTIONS'


def test_unknown_url_is_json_404(client):
    response = client.get('/api/v2/no/such/thing')
    assert response.status_code == 404
    assert response.json() == {'detail': 'Not found'}
    assert client.get('/api/v2/cluster/').status_code == 404   # anchored: no trailing slash


def test_head_and_options(client, fsid):
    head = client.request('HEAD', '/api/v2/cluster')
    assert head.status_code == 200 and head.content == b''
    options = client.request('OPTIONS', '/api/v2/cluster')
    assert options.status_code == 200
    assert options.headers['Allow'] == 'GET, HEAD, OPTIONS'


def test_api_root(client):
    assert client.get('/api/v2/').json() == {'user': 'http://localhost:8002/api/v2/user',
                                             'cluster': 'http://localhost:8002/api/v2/cluster'}


def test_routes_path_translation():
    assert to_routes_path('v2', 'cluster/{fsid}/osd/{osd_id}') == \
        '/api/v2/cluster/{fsid:[a-zA-Z0-9-]+}/osd/{osd_id:\\d+}'
    assert to_routes_path('v1', 'auth/login*') == '/api/v1/auth/login{_suffix:.*}'


def test_every_route_has_a_handler(app):
    for route in routes.ROUTES:
        assert callable(getattr(app.controllers[route.controller], route.method_name)), route


def test_process_wide_cherrypy_config_does_not_reach_our_requests(client, fsid):
    """Tentacle's main interpreter shares ``cherrypy.config`` with the dashboard and prometheus: what they set there
    (tools, headers, error pages) must not change our responses."""
    import cherrypy
    saved = dict(cherrypy.config)
    cherrypy.config.update({'response.headers.server': 'Ceph-Dashboard', 'tools.json_in.on': True,
                            'tools.json_in.force': True, 'tools.gzip.on': True,
                            'error_page.default': lambda **kw: 'dashboard error page'})
    try:
        response = client.get('/api/v2/info', headers={'Accept-Encoding': 'gzip'})
        assert response.status_code == 200 and response.json()['version']
        assert response.headers.get('Server') != 'Ceph-Dashboard' and 'Content-Encoding' not in response.headers
        missing = client.get('/api/v2/no/such/thing')
        assert (missing.status_code, missing.json()) == (404, {'detail': 'Not found'})
        # json_in with force would refuse this form body with a 415; Calamari (DRF) accepted forms
        assert client.request('POST', f'/api/v2/cluster/{fsid}/osd/0/command/scrub', raw=b'a=1',
                              headers={'Content-Type': 'application/x-www-form-urlencoded'}).status_code != 415
    finally:
        cherrypy.config.clear()
        cherrypy.config.update(saved)


def test_no_access_log_line_per_request(client, caplog, capsys):
    """Inside ceph-mgr an access-log line per request would land in the mgr log."""
    import logging
    with caplog.at_level(logging.DEBUG):
        assert client.get('/api/v2/cluster').status_code == 200
    assert not [r for r in caplog.records if r.name.startswith('cherrypy.access')]
    assert 'GET /api/v2/cluster' not in capsys.readouterr().out
