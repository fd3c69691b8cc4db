"""Users and roles, kept in the mgr KV store as ``user/<id>`` records: Django 1.5's field rules, scrypt password
hashes (made again with SCRYPT's parameters at the next login), and what a request runs as (``Principal``).
Nothing here logs a password."""
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from base64 import b64decode, b64encode
from typing import Any, Callable, Dict, List, Optional

from ..store import KVStore

log = logging.getLogger(__name__)

ROLES = ('readonly', 'read/write', 'superuser')
NO_ROLE = 'none'                                     # CLI spelling of "in no group": 403 everywhere
USERNAME_RE = re.compile(r'^[\w.@+-]+$', re.ASCII)
USERNAME_MAX = 30
EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')
EMAIL_MAX = 75
# OWASP's Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1, or an equal-cost variant; N=2^14, r=8, p=5 is
# the one listed with the least memory (16 MiB a hash, 128 MiB for N=2^17), which matters inside ceph-mgr.  Hashes
# made with other parameters (2^14/8/1 before) are made again at the user's next successful login.
SCRYPT = {'n': 2 ** 14, 'r': 8, 'p': 5}
SCRYPT_AT_ONCE = threading.BoundedSemaphore(2)      # hashes computed at the same time (each takes 128*r*N bytes)
DEFAULT_PASSWORD_MIN_LENGTH = 8                      # option password_min_length


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # hashlib's default maxmem (32 MiB) is below what larger N need: 128*r*(N+p+2) bytes, plus room
    with SCRYPT_AT_ONCE:
        return hashlib.scrypt(password.encode('utf-8'), salt=salt, n=n, r=r, p=p, dklen=dklen,
                              maxmem=128 * r * (n + p + 2) + (1 << 20))


def hash_password(password: str, salt: Optional[bytes] = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = _scrypt(password, salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${b64encode(salt).decode()}${b64encode(digest).decode()}"


def check_password(password: str, encoded: str) -> bool:
    try:
        algo, n, r, p, salt, digest = encoded.split('$')
        if algo != 'scrypt' or int(n) > 2 ** 20 or int(r) > 32 or int(p) > 64:
            return False
        expected = b64decode(digest)
        actual = _scrypt(password, b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError, MemoryError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(encoded: str) -> bool:
    """Whether a stored hash was made with other parameters than SCRYPT's."""
    return encoded.split('$')[:4] != ['scrypt', str(SCRYPT['n']), str(SCRYPT['r']), str(SCRYPT['p'])]


def username_errors(username: Any) -> List[str]:
    """Django 1.5 ``User.username`` validation, in DRF's list form."""
    if not isinstance(username, str) or not username:
        return ['This field is required.']
    errors = []
    if len(username) > USERNAME_MAX:
        errors.append(f'Ensure this value has at most {USERNAME_MAX} characters (it has {len(username)}).')
    if not USERNAME_RE.match(username):
        errors.append('Enter a valid username. This value may contain only letters, numbers and @/./+/-/_ '
                      'characters.')
    return errors


def email_errors(email: Any) -> List[str]:
    if email is None or email == '':
        return []
    if not isinstance(email, str) or not EMAIL_RE.match(email):
        return ['Enter a valid email address.']
    if len(email) > EMAIL_MAX:
        return [f'Ensure this value has at most {EMAIL_MAX} characters (it has {len(email)}).']
    return []


def token_hash(token: str) -> str:
    """What the store keeps of a secret (session id, API token): its SHA-256."""
    return hashlib.sha256(token.encode('utf-8')).hexdigest()


class Principal:
    """Who a request runs as: a user (session) or an API token.  The role checks read only ``role``."""
    role: Optional[str] = None
    bearer = False                # authenticated by an API token: no cookie, so no CSRF check
    readonly = property(lambda self: self.role == 'readonly')
    superuser = property(lambda self: self.role == 'superuser')


class User(Principal):
    def __init__(self, record: Dict[str, Any]) -> None:
        self.record = record

    id = property(lambda self: self.record['id'])
    username = property(lambda self: self.record['username'])
    email = property(lambda self: self.record.get('email', ''))
    role = property(lambda self: self.record.get('role'))

    def to_api(self) -> Dict[str, Any]:
        return {'id': self.id, 'username': self.username, 'email': self.email}


class Users:
    """The user records (``user/<id>``), loaded at start so they survive a mgr failover.  ``sessions.Auth`` adds
    the sessions, which share this lock: a user's changed password or deletion ends their sessions at once."""

    def __init__(self, store: KVStore, options: Callable[[str], Any], clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._option = options
        self._clock = clock
        self._lock = threading.RLock()
        self._users: Dict[int, Dict[str, Any]] = {}
        self._next_id = 1
        self._dummy_hash: Optional[str] = None

    def _end_user_sessions(self, user_id: int, keep: Optional[str] = None) -> List[str]:
        """Forget a user's sessions in memory (the caller holds the lock); their keys.  Sessions are Auth's."""
        return []

    def _delete_stored(self, keys: List[str]) -> None:
        """Delete ended sessions from the store (never while holding the lock).  Sessions are Auth's."""

    def password_errors(self, password: str) -> List[str]:
        """The password length rule (option password_min_length), in Django's validator words."""
        try:
            minimum = int(self._option('password_min_length') or DEFAULT_PASSWORD_MIN_LENGTH)
        except (TypeError, ValueError):
            minimum = DEFAULT_PASSWORD_MIN_LENGTH
        if len(password) < minimum:
            return [f'Ensure this value has at least {minimum} characters (it has {len(password)}).']
        return []

    def _save_user(self, record: Dict[str, Any]) -> None:
        self._store.set_json(f'user/{record["id"]}', record)
        self._users[record['id']] = record

    def users(self) -> List[User]:
        with self._lock:
            return [User(dict(r)) for _, r in sorted(self._users.items())]

    def user_by_id(self, user_id: int) -> Optional[User]:
        with self._lock:
            record = self._users.get(user_id)
            return User(dict(record)) if record else None

    def user_by_name(self, username: str) -> Optional[User]:
        with self._lock:
            for record in self._users.values():
                if record['username'] == username:
                    return User(dict(record))
        return None

    @staticmethod
    def _check_role(role: Optional[str]) -> Optional[str]:
        if role == NO_ROLE or role is None:
            return None
        if role not in ROLES:
            raise ValueError(f'role must be one of {", ".join(ROLES + (NO_ROLE,))}')
        return role

    def create_user(self, username: str, password: str, email: str = '', role: Optional[str] = 'read/write') -> User:
        """Raise ValueError (bad field) or KeyError (username taken)."""
        role = self._check_role(role)
        errors = username_errors(username) or email_errors(email) or self.password_errors(password)
        if errors:
            raise ValueError(errors[0])
        password_hash = hash_password(password)     # slow: outside the lock
        with self._lock:
            if self.user_by_name(username):
                raise KeyError(username)
            user_id = self._next_id
            self._next_id += 1
            self._store.set_json('user_next_id', self._next_id)
            record = {'id': user_id, 'username': username, 'email': email or '', 'role': role,
                      'password': password_hash, 'password_changed': self._clock()}
            self._save_user(record)
        log.info('user %r created (id %d, role %s)', username, user_id, role or NO_ROLE)
        return User(dict(record))

    def update_user(self, user_id: int, keep_session: Optional[str] = None, **changes: Any) -> User:
        """Change ``username``, ``email``, ``password`` or ``role`` (a ``role`` key, even None, is applied).
        A new password ends the user's sessions except ``keep_session`` (a session key).
        Raise KeyError (no such user), ValueError (bad value) or FileExistsError (username taken)."""
        password = changes.pop('password', None)
        if 'role' in changes:
            changes['role'] = self._check_role(changes['role'])
        username = changes.get('username')
        if username is not None:
            errors = username_errors(username)
            if errors:
                raise ValueError(errors[0])
        if changes.get('email'):
            errors = email_errors(changes['email'])
            if errors:
                raise ValueError(errors[0])
        if password is not None and self.password_errors(password):
            raise ValueError(self.password_errors(password)[0])
        password_hash = hash_password(password) if password is not None else None
        with self._lock:
            record = dict(self._users[user_id])
            if username is not None and username != record['username'] and self.user_by_name(username):
                raise FileExistsError(username)
            record.update({k: v for k, v in changes.items() if v is not None or k == 'role'})
            if password_hash is not None:
                record['password'] = password_hash
                record['password_changed'] = self._clock()
            self._save_user(record)
            ended = self._end_user_sessions(user_id, keep=keep_session) if password_hash is not None else []
        self._delete_stored(ended)
        return User(dict(record))

    def delete_user(self, user_id: int) -> None:
        with self._lock:
            record = self._users.pop(user_id, None)
            self._store.delete(f'user/{user_id}')
            ended = self._end_user_sessions(user_id)
        self._delete_stored(ended)
        if record:
            log.info('user %r deleted', record['username'])

    # -- passwords ------------------------------------------------------------------------------
    def _verify(self, username: str, password: str) -> Optional[User]:
        """The user if the password is right.  An unknown user costs one scrypt too (no timing oracle)."""
        user = self.user_by_name(username)
        if user is None:
            if self._dummy_hash is None:
                self._dummy_hash = hash_password(secrets.token_urlsafe(16))
            check_password(password, self._dummy_hash)
            return None
        return user if check_password(password, user.record.get('password', '')) else None

    def _rehash(self, user: User, password: str) -> None:
        """After a successful login: a hash made with older scrypt parameters is made again with SCRYPT's."""
        if not needs_rehash(user.record.get('password', '')):
            return
        password_hash = hash_password(password)     # slow: outside the lock
        with self._lock:
            record = self._users.get(user.id)
            if record is None or record.get('password') != user.record.get('password'):
                return                              # deleted or changed meanwhile
            self._save_user(dict(record, password=password_hash))
        log.info('password hash of user %r upgraded to scrypt N=%d r=%d p=%d', user.username, SCRYPT['n'],
                 SCRYPT['r'], SCRYPT['p'])
