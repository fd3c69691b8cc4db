"""``ceph calamari-api ...`` CLI commands (users, roles, API tokens, TLS).  Registered with the release's CLI
decorators (compat); each handler receives the Module instance.  Secrets come from ``-i <file>``, never from the
command line; a new API token is printed once and never again.

``mgr`` stays unannotated, like ``self`` in Ceph's own modules: ceph-mgr finds a handler's first optional argument
by counting its annotations, and one more would make the first optional argument (e.g. ``--role``) required."""
import errno
import json
import os
import subprocess
import tempfile
from typing import TYPE_CHECKING, Any, Optional

from mgr_module import HandleCommandResult

from .auth.users import NO_ROLE, ROLES
from .cluster import isoformat
from .compat import cli_read_command, cli_write_command
from .web.server import check_pem_pair
from .version import VERSION

if TYPE_CHECKING:
    from .auth.users import User
    from .module import Module

PREFIX = 'calamari-api'


def _secret(inbuf: Optional[str]) -> Optional[str]:
    value = (inbuf or '').strip('\r\n')
    return value or None


def _err(message: str, code: int = -errno.EINVAL) -> HandleCommandResult:
    return HandleCommandResult(code, '', message)


@cli_write_command(f'{PREFIX} user-create')
def user_create(mgr, username: str, role: str = 'read/write', email: str = '',
                inbuf: Optional[str] = None) -> HandleCommandResult:
    """Create an API user (role readonly, read/write, superuser or none); the password is read from -i <file>"""
    password = _secret(inbuf)
    if not password:
        return _err('Please specify the password with "-i <file>"')
    try:
        user = mgr.services.auth.create_user(username, password, email=email, role=role)
    except KeyError:
        return _err(f'User {username!r} already exists', -errno.EEXIST)
    except ValueError as e:
        return _err(str(e))
    return HandleCommandResult(0, json.dumps(dict(user.to_api(), role=user.role or NO_ROLE)), '')


@cli_read_command(f'{PREFIX} user-list')
def user_list(mgr) -> HandleCommandResult:
    """List API users and their roles"""
    users = [dict(u.to_api(), role=u.role or NO_ROLE) for u in mgr.services.auth.users()]
    return HandleCommandResult(0, json.dumps(users), '')


def _find(mgr: 'Module', username: str) -> Optional['User']:
    return mgr.services.auth.user_by_name(username)


@cli_write_command(f'{PREFIX} user-delete')
def user_delete(mgr, username: str) -> HandleCommandResult:
    """Delete an API user (and end their sessions)"""
    user = _find(mgr, username)
    if user is None:
        return _err(f'User {username!r} does not exist', -errno.ENOENT)
    mgr.services.auth.delete_user(user.id)
    return HandleCommandResult(0, '', f'User {username!r} deleted')


@cli_write_command(f'{PREFIX} user-set-password')
def user_set_password(mgr, username: str, inbuf: Optional[str] = None) -> HandleCommandResult:
    """Set a user's password from -i <file> (ends their sessions)"""
    password = _secret(inbuf)
    if not password:
        return _err('Please specify the password with "-i <file>"')
    user = _find(mgr, username)
    if user is None:
        return _err(f'User {username!r} does not exist', -errno.ENOENT)
    try:
        mgr.services.auth.update_user(user.id, password=password)
    except ValueError as e:
        return _err(str(e))
    return HandleCommandResult(0, '', f'Password of {username!r} changed')


@cli_write_command(f'{PREFIX} user-set-role')
def user_set_role(mgr, username: str, role: str) -> HandleCommandResult:
    """Set a user's role: readonly, read/write, superuser or none (no access)"""
    if role not in ROLES + (NO_ROLE,):
        return _err(f'Role must be one of {", ".join(ROLES + (NO_ROLE,))}')
    user = _find(mgr, username)
    if user is None:
        return _err(f'User {username!r} does not exist', -errno.ENOENT)
    mgr.services.auth.update_user(user.id, role=role)
    return HandleCommandResult(0, '', f'Role of {username!r} set to {role}')


@cli_write_command(f'{PREFIX} token-create')
def token_create(mgr, name: str, role: str = 'readonly', expires: int = 0) -> HandleCommandResult:
    """Create an API token (role readonly, read/write or superuser; --expires <seconds>, default never) and print
    it: it is shown only this once (use it as "Authorization: Bearer <token>")"""
    try:
        token, record = mgr.services.tokens.create(name, role, expires=expires or None)
    except KeyError:
        return _err(f'Token {name!r} already exists', -errno.EEXIST)
    except ValueError as e:
        return _err(str(e))
    until = f'expires {isoformat(record["expires"])}' if record['expires'] else 'never expires'
    return HandleCommandResult(0, token + '\n', f'Token {name!r} created (role {role}, {until}); '
                                                f'it is shown only this once')


@cli_read_command(f'{PREFIX} token-list')
def token_list(mgr) -> HandleCommandResult:
    """List API tokens: name, role, creation, expiry and last use (never the token)"""
    tokens = [dict(t, **{k: isoformat(t[k]) if t[k] else None for k in ('created', 'expires', 'last_used')})
              for t in mgr.services.tokens.list()]
    return HandleCommandResult(0, json.dumps(tokens), '')


@cli_write_command(f'{PREFIX} token-revoke')
def token_revoke(mgr, name: str) -> HandleCommandResult:
    """Revoke an API token (at once)"""
    if not mgr.services.tokens.revoke(name):
        return _err(f'Token {name!r} does not exist', -errno.ENOENT)
    return HandleCommandResult(0, '', f'Token {name!r} revoked')


@cli_write_command(f'{PREFIX} create-self-signed-cert')
def create_self_signed_cert(mgr) -> HandleCommandResult:
    """Make a self-signed TLS certificate (with the openssl tool) and use it"""
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = os.path.join(tmp, 'cert.pem'), os.path.join(tmp, 'key.pem')
        proc = subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256',
                               '-days', '3650', '-subj', '/O=IT/CN=calamari-api', '-keyout', key, '-out', cert],
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            return _err(f'openssl failed: {proc.stderr.strip()}', -errno.EIO)
        with open(cert) as f:
            mgr.set_store('crt', f.read())
        with open(key) as f:
            mgr.set_store('key', f.read())
    mgr.restart_server()
    return HandleCommandResult(0, '', 'Self-signed certificate created')


@cli_write_command(f'{PREFIX} set-ssl-certificate')
def set_ssl_certificate(mgr, inbuf: Optional[str] = None) -> HandleCommandResult:
    """Set the TLS certificate (PEM) from -i <file>"""
    if not inbuf or 'BEGIN CERTIFICATE' not in inbuf:
        return _err('Please specify a PEM certificate with "-i <file>"')
    mgr.set_store('crt', inbuf)
    mgr.restart_server()
    return HandleCommandResult(0, '', 'SSL certificate updated' + _pair_warning(mgr))


@cli_write_command(f'{PREFIX} set-ssl-certificate-key')
def set_ssl_certificate_key(mgr, inbuf: Optional[str] = None) -> HandleCommandResult:
    """Set the TLS private key (PEM) from -i <file>"""
    if not inbuf or 'PRIVATE KEY' not in inbuf:
        return _err('Please specify a PEM private key with "-i <file>"')
    mgr.set_store('key', inbuf)
    mgr.restart_server()
    return HandleCommandResult(0, '', 'SSL certificate key updated' + _pair_warning(mgr))


def _pair_warning(mgr: 'Module') -> str:
    cert, key = mgr.get_store('crt'), mgr.get_store('key')
    if not cert or not key:
        return ' (set the other half too: set-ssl-certificate / set-ssl-certificate-key)'
    problem = check_pem_pair(cert, key)
    return f'; warning: the certificate and key do not work together yet: {problem}' if problem else ''


@cli_read_command(f'{PREFIX} dump-maps')
def dump_maps(mgr) -> HandleCommandResult:
    """Dump the raw mgr data the API is built from (for support and for refreshing test fixtures)"""
    from .cluster import SOURCES, STORE_SOURCES
    maps = {name: mgr.get(name) for name in SOURCES if name not in ('mon_metadata', 'mds_metadata', 'servers')
            and name not in STORE_SOURCES}
    maps['mds_metadata'] = mgr.get('mds_metadata')
    maps['mon_metadata'] = {m['name']: mgr.get_metadata('mon', m['name'])
                            for m in (maps.get('mon_map') or {}).get('mons', [])}
    maps['mgr_metadata'] = {mgr.get_mgr_id(): mgr.get_metadata('mgr', mgr.get_mgr_id())}
    maps['servers'] = mgr.list_servers()
    maps['mgr_ips'] = mgr.get('mgr_ips')
    maps['df'] = mgr.get('df')
    maps['pg_status'] = mgr.get('pg_status')
    return HandleCommandResult(0, json.dumps(maps, indent=1, sort_keys=True), '')


@cli_read_command(f'{PREFIX} dump-mgr-command-sources')
def dump_mgr_command_sources(mgr) -> HandleCommandResult:
    """Dump the mgr data the mgr-served commands (df, pg dump, osd perf, ...) are answered from (for fixtures)"""
    from .mgr_commands import source_names
    return HandleCommandResult(0, json.dumps({name: mgr.get(name) for name in source_names()}, sort_keys=True), '')


@cli_read_command(f'{PREFIX} history-status')
def history_status(mgr: Any) -> HandleCommandResult:
    """Show the graphite history: interval, retention, series kept, the bytes of their rings, CPU of the last sample"""
    return HandleCommandResult(0, json.dumps(mgr.services.history.status()), '')


@cli_read_command(f'{PREFIX} version')
def version(mgr) -> HandleCommandResult:
    """Show the calamari_api version this mgr runs (the package's, once the mgr restarted after an upgrade)"""
    return HandleCommandResult(0, VERSION, '')


@cli_write_command(f'{PREFIX} cluster-add')
def cluster_add(mgr, url: str, tls_name: str = '', inbuf: Optional[str] = None) -> HandleCommandResult:
    """Add (or update: a new URL, token or CA) a member cluster: its calamari_api URL; -i <file> holds an API
    token made there, then optionally its CA certificate (PEM); --tls-name: the name its certificate carries,
    when not the URL's host"""
    from .members import MemberError, parse_member_input
    members = mgr.services.members
    try:
        token, ca = parse_member_input(inbuf)
        record = members.probe(url, token, ca=ca, tls_name=tls_name)
    except ValueError as e:
        return _err(str(e))
    except MemberError as e:
        return _err(str(e), -errno.EHOSTUNREACH)
    if record['fsid'] == mgr.services.cluster.fsid:
        return _err(f'{record["url"]} serves this cluster ({record["fsid"]}), not another one')
    try:
        added = members.add(record)
    except ValueError as e:
        return _err(str(e), -errno.ENOSPC)
    verb = 'added' if added else 'updated'
    return HandleCommandResult(0, json.dumps({k: record.get(k) for k in ('fsid', 'name', 'url', 'release')}),
                               f"Cluster {record.get('name')} ({record['fsid']}) {verb}")


@cli_read_command(f'{PREFIX} cluster-ls')
def cluster_ls(mgr) -> HandleCommandResult:
    """List the member clusters: URL, fsid, name, release, reachable, last contact (never the token)"""
    members = [dict(m, last_contact=isoformat(m['last_contact']) if m['last_contact'] else None)
               for m in mgr.services.members.public()]
    return HandleCommandResult(0, json.dumps(members), '')


@cli_write_command(f'{PREFIX} cluster-rm')
def cluster_rm(mgr, fsid: str) -> HandleCommandResult:
    """Remove a member cluster (its token is forgotten here; revoke it on the member)"""
    if not mgr.services.members.remove(fsid):
        return _err(f'Cluster {fsid} is not a member', -errno.ENOENT)
    return HandleCommandResult(0, '', f'Cluster {fsid} removed')
