"""The user resource (GET|POST user, GET|PUT|PATCH|DELETE user/<id|me>) and the user CLI commands."""
import inspect
import json

import pytest

from calamari_api.compat import CLICommand
from tests.support.wsgi_client import WsgiClient

DENIED = {'detail': 'You do not have permission to perform this action.'}
NOT_YOURS = {'detail': 'Permission denied'}
TAKEN = {'username': ['User with this Username already exists.']}


@pytest.fixture
def admin(client):
    return client


@pytest.fixture
def writer(make_client):
    return make_client('read/write', 'writer')


def user_id(services, username):
    return services.auth.user_by_name(username).id


def can_login(app, username, password):
    return WsgiClient(app.wsgi).login(username, password).status_code == 200


def test_list_and_get(admin, writer, services):
    users = writer.get('/api/v2/user').json()
    assert [u['username'] for u in users] == ['admin', 'writer']
    assert all(list(u) == ['id', 'username', 'email'] for u in users)
    me = writer.get('/api/v2/user/me').json()
    assert me == {'id': user_id(services, 'writer'), 'username': 'writer', 'email': 'writer@example.com'}
    assert writer.get(f'/api/v2/user/{me["id"]}').json() == me
    assert writer.get('/api/v1/user/me').json() == me                       # v1: the same view


def test_unknown_user_is_404(admin, writer):
    for client, method in (('admin', 'GET'), ('admin', 'DELETE'), ('admin', 'PUT'), ('admin', 'PATCH'),
                           ('writer', 'PUT'), ('writer', 'PATCH')):
        for version in ('v1', 'v2'):
            response = {'admin': admin, 'writer': writer}[client].request(method, f'/api/{version}/user/9999',
                                                                          {'password': 'x'})
            assert response.status_code == 404 and response.json() == {'detail': 'Not found'}, (client, method)
    assert admin.get('/api/v2/user/abc').status_code == 404        # not a user id: no route


def test_create(admin, app, services):
    response = admin.post('/api/v2/user', {'username': 'carol', 'password': 'carol-pw', 'email': 'c@example.com'})
    assert response.status_code == 201
    created = response.json()
    assert created == {'id': created['id'], 'username': 'carol', 'email': 'c@example.com'}
    assert services.auth.user_by_name('carol').role == 'read/write'
    assert can_login(app, 'carol', 'carol-pw')
    assert 'password' not in admin.get(f'/api/v2/user/{created["id"]}').json()


def test_create_without_email(admin):
    response = admin.post('/api/v2/user', {'username': 'dave', 'password': 'password'})
    assert response.status_code == 201 and response.json()['email'] == ''


@pytest.mark.parametrize('body, errors', [
    ({}, {'username': ['This field is required.'], 'password': ['This field is required.']}),
    ({'username': 'x', 'password': ''}, {'password': ['This field is required.']}),
    ({'username': 'bad name!', 'password': 'password'},
     {'username': ['Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ characters.']}),
    ({'username': 'u' * 31, 'password': 'password'},
     {'username': ['Ensure this value has at most 30 characters (it has 31).']}),
    ({'username': 'ok', 'password': 'password', 'email': 'not-an-email'}, {'email': ['Enter a valid email address.']}),
    ({'username': 'ok', 'password': 42}, {'password': ['Not a valid string.']}),
    ({'username': 'admin', 'password': 'password'}, TAKEN),
])
def test_create_validation(admin, body, errors):
    response = admin.post('/api/v2/user', body)
    assert response.status_code == 400 and response.json() == errors


def test_only_superusers_create_and_delete(writer, services, make_client):
    response = writer.post('/api/v2/user', {'username': 'eve', 'password': 'password'})
    assert response.status_code == 403 and response.json() == DENIED
    make_client('superuser', 'admin')
    admin_id = user_id(services, 'admin')
    response = writer.delete(f'/api/v2/user/{admin_id}')
    assert response.status_code == 403 and response.json() == DENIED


def test_delete(admin, writer, services):
    writer_id = user_id(services, 'writer')
    response = admin.delete(f'/api/v2/user/{writer_id}')
    assert response.status_code == 204 and response.content == b''
    assert services.auth.user_by_name('writer') is None
    assert writer.get('/api/v2/user/me').status_code == 403          # their session died with them
    assert admin.get(f'/api/v2/user/{writer_id}').status_code == 404


def test_patch_own_email_keeps_password(writer, app, services):
    response = writer.patch('/api/v2/user/me', {'email': 'new@example.com'})
    assert response.status_code == 200
    assert response.json() == {'id': user_id(services, 'writer'), 'username': 'writer', 'email': 'new@example.com'}
    assert can_login(app, 'writer', 'pw-writer')
    assert writer.patch('/api/v2/user/me', {}).status_code == 200      # nothing to change: fine
    assert writer.patch('/api/v2/user/me', {'email': None}).json()['email'] == ''


def test_patch_by_numeric_id_and_ignored_fields(writer, services):
    own = user_id(services, 'writer')
    response = writer.patch(f'/api/v2/user/{own}', {'email': 'x@example.com', 'id': 77, 'role': 'superuser'})
    assert response.status_code == 200 and response.json()['id'] == own
    assert services.auth.user_by_name('writer').role == 'read/write'


def test_cannot_change_other_users(admin, writer, services):
    writer_id = user_id(services, 'writer')
    admin_id = user_id(services, 'admin')
    for client, target in ((writer, admin_id), (admin, writer_id)):
        for method in ('PUT', 'PATCH'):
            response = client.request(method, f'/api/v2/user/{target}', {'password': 'hijack'})
            assert response.status_code == 403 and response.json() == NOT_YOURS


def test_readonly_cannot_change_even_itself(make_client):
    reader = make_client('readonly', 'reader')
    response = reader.patch('/api/v2/user/me', {'email': 'r@example.com'})
    assert response.status_code == 403 and response.json() == DENIED


def test_password_change_ends_other_sessions(writer, make_client, app, services):
    other = WsgiClient(app.wsgi)
    assert other.login('writer', 'pw-writer').status_code == 200
    me = writer.get('/api/v1/user/me').json()
    response = writer.put('/api/v1/user/me', dict(me, password='changed-pw'))     # what the admin UI sends
    assert response.status_code == 200 and response.json() == me
    assert writer.get('/api/v2/user/me').status_code == 200                      # this session lives on
    assert other.get('/api/v2/user/me').status_code == 403                       # the other one is over
    assert not can_login(app, 'writer', 'pw-writer')
    assert can_login(app, 'writer', 'changed-pw')


def test_put_needs_username_and_password(writer):
    response = writer.put('/api/v2/user/me', {'email': 'w@example.com'})
    assert response.status_code == 400
    assert response.json() == {'username': ['This field is required.'], 'password': ['This field is required.']}


def test_rename(writer, admin):
    response = writer.patch('/api/v2/user/me', {'username': 'admin'})
    assert response.status_code == 400 and response.json() == TAKEN
    response = writer.patch('/api/v2/user/me', {'username': 'bad name'})
    assert response.status_code == 400 and 'username' in response.json()
    response = writer.patch('/api/v2/user/me', {'username': 'writer2'})
    assert response.status_code == 200 and response.json()['username'] == 'writer2'
    assert writer.get('/api/v2/user/me').json()['username'] == 'writer2'


def test_bad_bodies(writer):
    response = writer.patch('/api/v2/user/me', raw=b'{oops', headers={'Content-Type': 'application/json'})
    assert response.status_code == 400
    assert writer.patch('/api/v2/user/me', ['x']).status_code == 400


# -- CLI ----------------------------------------------------------------------------------------

def cli(module, prefix, inbuf=None, **args):
    result = module._handle_command(inbuf, dict(args, prefix=f'calamari-api {prefix}'))
    return result.retval, result.stdout, result.stderr


def test_cli_user_lifecycle(module, services, app):
    assert cli(module, 'user-create', username='ops')[0] != 0                 # no -i
    rc, out, _ = cli(module, 'user-create', 'ops-password\n', username='ops', role='readonly', email='ops@example.com')
    assert rc == 0 and json.loads(out)['role'] == 'readonly'
    assert cli(module, 'user-create', 'x-password', username='ops')[0] != 0            # exists
    assert cli(module, 'user-create', 'x-password', username='bad name')[0] != 0
    assert cli(module, 'user-create', 'x-password', username='r', role='king')[0] != 0
    assert can_login(app, 'ops', 'ops-password')                                     # trailing newline stripped
    users = json.loads(cli(module, 'user-list')[1])
    assert {'id': users[0]['id'], 'username': 'ops', 'email': 'ops@example.com', 'role': 'readonly'} in users

    client = WsgiClient(app.wsgi)
    client.login('ops', 'ops-password')
    assert cli(module, 'user-set-role', username='ops', role='superuser')[0] == 0
    assert services.auth.user_by_name('ops').superuser
    assert cli(module, 'user-set-role', username='ops', role='none')[0] == 0
    assert {'username': 'ops', 'role': 'none'}.items() <= json.loads(cli(module, 'user-list')[1])[-1].items()
    assert client.get('/api/v2/cluster').status_code == 403
    assert cli(module, 'user-set-role', username='ops', role='boss')[0] != 0
    assert cli(module, 'user-set-role', username='ghost', role='readonly')[0] != 0

    assert cli(module, 'user-set-password', 'new-ops-pw', username='ops')[0] == 0
    assert client.get('/api/v2/info').status_code == 200
    assert client.get('/api/v2/user/me').json() == {
        'detail': 'Authentication credentials were not provided.'}             # all sessions ended
    assert can_login(app, 'ops', 'new-ops-pw')
    assert cli(module, 'user-set-password', username='ops')[0] != 0

    assert cli(module, 'user-delete', username='ops')[0] == 0
    assert cli(module, 'user-delete', username='ops')[0] != 0
    assert not can_login(app, 'ops', 'new-ops-pw')


def test_cli_arguments_with_a_default_are_optional():
    """The ceph tool refuses a command that lacks a required argument: each handler argument with a default must be
    ``req=false`` in the descriptor ceph-mgr publishes (an annotated ``mgr`` shifted that by one)."""
    checked = 0
    for prefix, command in CLICommand.COMMANDS.items():
        if not prefix.startswith('calamari-api '):
            continue
        descriptor = command.dump_cmd()['cmd']
        for name, param in inspect.signature(command.func).parameters.items():
            if name in ('mgr', 'inbuf'):
                continue
            optional = f'name={name},req=false' in descriptor
            assert optional == (param.default is not param.empty), (prefix, name, descriptor)
            checked += optional
    assert checked >= 3                          # user-create --role --email, token-create --role --expires


def test_cli_tls_commands(module, tmp_path):
    assert cli(module, 'set-ssl-certificate', 'not a cert')[0] != 0
    assert cli(module, 'set-ssl-certificate-key', 'not a key')[0] != 0
    rc, _, err = cli(module, 'create-self-signed-cert')
    assert rc == 0, err
    cert, key = module.store['crt'], module.store['key']
    assert 'BEGIN CERTIFICATE' in cert and 'PRIVATE KEY' in key
    rc, _, err = cli(module, 'set-ssl-certificate', cert)
    assert rc == 0 and 'warning' not in err
    other_key = key
    cli(module, 'create-self-signed-cert')
    rc, _, err = cli(module, 'set-ssl-certificate-key', other_key)              # key of the old pair
    assert rc == 0 and 'do not work together' in err


def test_absurd_ids(admin):
    huge = '9' * 5000
    for method in ('GET', 'DELETE', 'PATCH', 'PUT'):
        response = admin.request(method, f'/api/v2/user/{huge}', {} if method in ('PATCH', 'PUT') else None)
        assert (response.status_code, response.json()) == (404, {'detail': 'Not found'})
