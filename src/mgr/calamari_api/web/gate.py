"""The access gate: the one place that decides whether a request may reach its handler.

Both ways a request is answered ask it — the full path (``app.CalamariApp.run``, CherryPy) and the fast path
(``fast_path.FastPath``, cached GETs) — so the order of the checks is stated once: authenticate (an API token,
else a session) → CSRF on unsafe methods (not for a token) → the role → the cluster (``fsid``) → the least role
the route itself asks for (``routes.Route.role``).  A refusal is an ``ApiError`` carrying the ``Allow`` header
the answer would have carried (none when authentication failed)."""
from typing import Any, Callable, Mapping, Optional, Protocol

from ..auth.users import ROLES
from .endpoint import Endpoint
from .http import ApiError, ApiRequest, SAFE_METHODS, not_found_object, permission_denied


class Sessions(Protocol):
    """What the gate needs of the session store (auth.Auth)."""

    def authenticate(self, request: ApiRequest) -> Any: ...

    def check_csrf(self, request: ApiRequest) -> None: ...

    def check_csrf_if_logged_in(self, request: ApiRequest) -> None: ...


class Tokens(Protocol):
    """What the gate needs of the API tokens (tokens.Tokens): the token's principal, None without a token."""

    def authenticate(self, request: ApiRequest) -> Any: ...


def role_allows(role: Optional[str], method: str, least: Optional[str] = None) -> bool:
    """Calamari's IsRoleAllowed: readonly → safe methods only; read/write and superuser → all; no role → none; and
    at least the role ``least`` (a route's, e.g. superuser for ``cli``) when one is given."""
    if role not in ROLES or (least is not None and ROLES.index(role) < ROLES.index(least)):
        return False
    return role != 'readonly' or method in SAFE_METHODS


class AccessGate:
    def __init__(self, sessions: Sessions, tokens: Tokens, local_fsid: Callable[[], str],
                 member_fsid: Callable[[Mapping[str, str]], Optional[str]]) -> None:
        self._sessions = sessions
        self._tokens = tokens
        self._local_fsid = local_fsid
        self._member_fsid = member_fsid

    def admit(self, request: ApiRequest, endpoint: Endpoint, params: Mapping[str, str]) -> Any:
        """The principal the request acts as (None on a public route; also set as ``request.user``), or the
        ApiError it is refused with.  A cluster-scoped route's fsid must be this cluster's or a member's."""
        method = request.method
        if endpoint.is_public(method):
            if method not in SAFE_METHODS:
                self._sessions.check_csrf_if_logged_in(request)
            user = None
        else:
            request.user = user = self.authenticate(request)
        try:
            if user is not None:
                if method not in SAFE_METHODS and not user.bearer:
                    self._sessions.check_csrf(request)
                if not role_allows(user.role, method):
                    raise permission_denied()
            action = endpoint.action(method)
            if action is not None and 'fsid' in params and self._member_fsid(params) is None:
                self.check_fsid(params['fsid'], action[0].pattern, action[0].method)
            if user is not None and action is not None and not role_allows(user.role, method, action[0].role):
                raise permission_denied()           # the route's own least role (routes.Route.role)
        except ApiError as e:
            e.headers['Allow'] = endpoint.allow(user)   # (DRF/IsRoleAllowed's 403s carried it too)
            raise
        return user

    def authenticate(self, request: ApiRequest) -> Any:
        """An API token (401 when bad) or else a session (403 when anonymous)."""
        return self._tokens.authenticate(request) or self._sessions.authenticate(request)

    def check_fsid(self, fsid: str, pattern: str, method: str) -> None:
        """An unknown fsid is a 404 (an empty body for a GET of ``cluster/<fsid>``)."""
        if fsid == self._local_fsid():
            return
        if pattern == 'cluster/{fsid}' and method == 'GET':
            raise ApiError(404, None)
        raise not_found_object('cluster', fsid)
