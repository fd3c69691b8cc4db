"""Calamari resource: auth (login/logout, Django-session compatible)."""
import re
import secrets
from typing import Any, Optional

from . import BaseController
from ..auth.sessions import CSRF_COOKIE, SESSION_COOKIE
from ..web.http import ApiRequest, validation_error

TOKEN_RE = re.compile(r'^[A-Za-z0-9_-]{16,128}$')


def _reusable(value: Optional[str]) -> Optional[str]:
    """A cookie value we made before (never echo arbitrary client text into Set-Cookie)."""
    return value if value and TOKEN_RE.match(value) else None


class AuthController(BaseController):
    def login_form(self, request: ApiRequest) -> Any:
        """GET login: hand out the XSRF-TOKEN cookie (and a session cookie, as Django's test cookie did)."""
        token = self.services.auth.session_csrf(request)
        if token is None:
            token = _reusable(request.cookies.get(CSRF_COOKIE)) or secrets.token_urlsafe(24)
            session_id = _reusable(request.cookies.get(SESSION_COOKIE)) or secrets.token_urlsafe(32)
            request.set_cookies.append((SESSION_COOKIE, session_id, {'httponly': True}))
        request.set_cookies.append((CSRF_COOKIE, token, {}))
        return {}

    def login(self, request: ApiRequest) -> Any:
        """POST login {username, password}: 200 {} with a new session and XSRF token, 400, 401 or 429."""
        body = request.json_object()
        username, password = body.get('username'), body.get('password')
        errors = {field: 'This field is required' for field, value in (('username', username), ('password', password))
                  if not isinstance(value, str) or not value}
        if errors:
            raise validation_error(errors)
        session_id, csrf = self.services.auth.login(request, username, password)
        self.services.auth.set_session_cookies(request, session_id, csrf)
        return {}

    def logout(self, request: ApiRequest) -> Any:
        self.services.auth.logout(request.cookies.get(SESSION_COOKIE))
        request.set_cookies.append((SESSION_COOKIE, '', {'httponly': True}))
        return {'message': 'Logged out'}


CONTROLLER = AuthController
