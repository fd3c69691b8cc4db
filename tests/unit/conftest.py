"""Unit tier: the real mgr_module.py over a fake ceph_module fed with captured cluster data."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.support import fake_ceph  # noqa: E402

fake_ceph.install()

from calamari_api.auth.sessions import Auth  # noqa: E402
from calamari_api.auth.throttle import Throttle  # noqa: E402
from calamari_api.module import Module  # noqa: E402
from calamari_api.web.app import CalamariApp  # noqa: E402
from tests.support.wsgi_client import WsgiClient  # noqa: E402

Module._register_options('calamari_api')    # what ceph-mgr does when it loads the module
Module._register_commands('calamari_api')

ADMIN = ('admin', 'admin-password')
# The unit tier hashes passwords in most tests: with the production scrypt parameters (auth.users.SCRYPT, about 0.3 s a
# hash on an idle core) it took minutes.  Cheap parameters here; tests/unit/test_auth.py checks the real ones.
TEST_SCRYPT = {'n': 2 ** 10, 'r': 8, 'p': 1}


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    monkeypatch.setattr('calamari_api.auth.users.SCRYPT', dict(TEST_SCRYPT))


@pytest.fixture
def module():
    mod = Module('calamari_api', None, None)
    mod.options.update({'ssl': False})
    return mod


@pytest.fixture
def services(module):
    module.services.start()
    module._ready.set()
    yield module.services
    module.services.stop()


@pytest.fixture
def fsid(module):
    return module.maps['mon_map']['fsid']


@pytest.fixture
def app(services):
    return CalamariApp(services)


@pytest.fixture
def anon(app):
    return WsgiClient(app.wsgi)


@pytest.fixture
def make_client(app, services):
    """make_client(role) -> a WsgiClient logged in as a fresh user with that role."""
    def make(role='superuser', username=None):
        username = username or role.replace('/', '_') + '_user'
        if services.auth.user_by_name(username) is None:
            services.auth.create_user(username, 'pw-' + username, email=f'{username}@example.com', role=role)
        client = WsgiClient(app.wsgi)
        response = client.login(username, 'pw-' + username)
        assert response.status_code == 200, response.content
        return client
    return make


@pytest.fixture
def client(make_client):
    return make_client('superuser', 'admin')


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def auth(services, clock):
    """The services' Auth replaced by one on the same store with an injectable clock, and a user alice."""
    services.auth = Auth(services.store, services.option, clock=clock, throttle=Throttle(clock))
    services.auth.create_user('alice', 'alice-pw', email='alice@example.com', role='read/write')
    return services.auth
