"""The CLI of restful's keys: ``ceph calamari-api restful-key-create|restful-key-list|restful-key-delete`` always,
and restful's own ``ceph restful create-key|list-keys|delete-key|create-self-signed-cert`` where no restful module
claims them (compat.RESTFUL_MODULE_SHIPPED).  A key is printed once, when it is made; the store keeps its hash."""
import errno
import json
import os
import subprocess
import tempfile
from typing import TYPE_CHECKING

from mgr_module import HandleCommandResult

from ..cluster import isoformat
from ..compat import RESTFUL_MODULE_SHIPPED, cli_read_command, cli_write_command

if TYPE_CHECKING:
    from ..module import Module

PREFIX = 'calamari-api'
CERT_KEYS = ('restful/crt', 'restful/key')      # the listener's own certificate (restful create-self-signed-cert)


def _create(mgr: 'Module', name: str, role: str) -> HandleCommandResult:
    try:
        key = mgr.services.restful.keys.create(name, role)
    except KeyError:
        return HandleCommandResult(-errno.EEXIST, '', f'Key {name!r} already exists (keys are kept hashed: it '
                                                      f'cannot be shown again; delete it to make a new one)')
    except ValueError as e:
        return HandleCommandResult(-errno.EINVAL, '', str(e))
    return HandleCommandResult(0, key, '')


def _list(mgr: 'Module') -> HandleCommandResult:
    mgr.services.restful.keys.import_restful()
    keys = {name: dict(rec, created=isoformat(rec['created']) if rec.get('created') else None)
            for name, rec in mgr.services.restful.keys.list().items()}
    return HandleCommandResult(0, json.dumps(keys, indent=4, sort_keys=True), '')


def _delete(mgr: 'Module', name: str) -> HandleCommandResult:
    existed, warning = mgr.services.restful.keys.delete(name)
    if not existed:
        return HandleCommandResult(-errno.ENOENT, '', f'Key {name!r} does not exist')
    return HandleCommandResult(0, '', warning or f'Key {name!r} deleted')


@cli_write_command(f'{PREFIX} restful-key-create')
def restful_key_create(mgr, key_name: str, role: str = 'superuser') -> HandleCommandResult:
    """Create a key for restful's API (HTTP Basic <key_name>:<key>; role superuser, read/write or readonly) and
    print it: it is shown only this once"""
    return _create(mgr, key_name, role)


@cli_read_command(f'{PREFIX} restful-key-list')
def restful_key_list(mgr) -> HandleCommandResult:
    """List the keys of restful's API: name, role, creation, imported from restful (never the key)"""
    return _list(mgr)


@cli_write_command(f'{PREFIX} restful-key-delete')
def restful_key_delete(mgr, key_name: str) -> HandleCommandResult:
    """Delete a key of restful's API (and restful's copy of it)"""
    return _delete(mgr, key_name)


def create_self_signed_cert(mgr) -> HandleCommandResult:
    """Create a self-signed certificate for restful's API listener"""
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, 'cert.pem'), os.path.join(tmp, 'key.pem')
        proc = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
                               '-days', '3650', '-subj', '/O=IT/CN=ceph-restful', '-keyout', key, '-out', cert],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            return HandleCommandResult(-errno.EIO, '', f'openssl failed: {proc.stderr.strip()}')
        for name, path in zip(CERT_KEYS, (cert, key)):
            with open(path) as f:
                mgr.set_store(name, f.read())
    mgr.restart_restful()
    return HandleCommandResult(0, 'Restarting RESTful API server...', '')


cli_write_command(f'{PREFIX} restful-create-self-signed-cert')(create_self_signed_cert)

if not RESTFUL_MODULE_SHIPPED:          # Tentacle: restful's own commands, as restful spelt them
    @cli_write_command('restful create-key')
    def restful_create_key(mgr, key_name: str) -> HandleCommandResult:
        """Create an API key with this name"""
        return _create(mgr, key_name, 'superuser')

    @cli_write_command('restful delete-key')
    def restful_delete_key(mgr, key_name: str) -> HandleCommandResult:
        """Delete an API key with this name"""
        _delete(mgr, key_name)
        return HandleCommandResult(0, '', '')       # (restful: 0 whether it existed or not)

    @cli_read_command('restful list-keys')
    def restful_list_keys(mgr) -> HandleCommandResult:
        """List all API keys (names and roles: the keys are kept hashed)"""
        return _list(mgr)

    cli_write_command('restful create-self-signed-cert')(create_self_signed_cert)
