"""Serving Calamari's web apps from a calamari-clients tree (option ui_path), with Calamari's redirects.  The tree
here is a small stand-in: the project ships no calamari-clients file."""
import pytest

from tests.support.ui_tree import APPS, make_tree
from tests.support.wsgi_client import WsgiClient


@pytest.fixture
def tree(tmp_path, module):
    module.options['ui_path'] = str(make_tree(tmp_path / 'clients'))
    return tmp_path / 'clients'


def test_apps_are_served(client, anon, tree):
    for app in ('login', 'manage', 'admin'):
        response = anon.get(f'/{app}/')
        assert response.status_code == 200 and response.content == f'<html>{app}</html>'.encode()
        assert response.headers['content-type'].startswith('text/html')
        assert 'last-modified' in response.headers
    assert client.get('/dashboard/').content == b'<html>dashboard</html>'
    config = client.get('/dashboard/scripts/config.json')
    assert config.headers['content-type'] == 'application/json' and config.json()['graphite-host'] == '/graphite'
    head = client.request('HEAD', '/dashboard/scripts/config.json')      # the dashboard asks with HEAD first
    assert head.status_code == 200 and head.content == b''
    assert client.get('/dashboard/scripts/locales/en/strings.l20n').headers['content-type'] == 'text/plain'
    assert anon.get('/manage/app.js').headers['content-type'] in ('application/javascript', 'text/javascript')


def test_calamari_redirects(client, anon, tree):
    for who in (client, anon):
        response = who.get('/')
        assert (response.status_code, response.headers['location']) == (302, '/dashboard/')
        for app in APPS:
            response = who.get(f'/{app}')
            assert (response.status_code, response.headers['location']) == (302, f'/{app}/')
    response = anon.get('/dashboard/')                  # login_required in Calamari
    assert (response.status_code, response.headers['location']) == (302, '/login/?next=/dashboard/')
    response = anon.get('/dashboard/scripts/config.json')
    assert response.status_code == 302


def test_not_modified_and_missing_files(anon, tree):
    first = anon.get('/login/')
    again = anon.get('/login/', headers={'If-Modified-Since': first.headers['last-modified']})
    assert again.status_code == 304 and again.content == b''
    for url in ('/login/nope.js', '/login/../secret.txt', '/login/%2e%2e/secret.txt', '/loginx', '/other/'):
        response = anon.get(url)
        assert response.status_code == 404, url
        assert response.json() == {'detail': 'Not found'}


def test_built_checkout_layout(anon, tmp_path, module):
    """A calamari-clients source checkout: each app's build is in <app>/dist/."""
    (tmp_path / 'login' / 'dist').mkdir(parents=True)
    (tmp_path / 'login' / 'dist' / 'index.html').write_text('built login')
    module.options['ui_path'] = str(tmp_path)
    assert anon.get('/login/').content == b'built login'


def test_without_ui_path_nothing_is_served(app, module):
    module.options['ui_path'] = ''
    anon = WsgiClient(app.wsgi)
    for url in ('/', '/dashboard/', '/login/', '/login'):
        response = anon.get(url)
        assert (response.status_code, response.json()) == (404, {'detail': 'Not found'}), url


def test_the_api_is_unaffected(client, tree, fsid):
    assert client.get('/api/v2/cluster').status_code == 200
    assert client.get(f'/api/v1/cluster/{fsid}/health').status_code == 200
