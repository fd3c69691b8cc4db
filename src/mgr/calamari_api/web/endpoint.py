"""One URL pattern of one API version and every method bound to it, as the dispatcher serves it."""
import re
from typing import Any, Callable, Dict, Optional, Tuple

import cherrypy

from .routes import Route

METHOD_ORDER = ('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')
READONLY_ALLOW = 'GET, HEAD, OPTIONS'

Handler = Callable[..., Any]


class Endpoint:
    """Every method bound to one URL pattern.  CherryPy calls ``handle`` for any method; ``respond`` (the
    application's) answers it."""

    def __init__(self, pattern: str, version: str, respond: Callable[['Endpoint'], bytes]) -> None:
        self.pattern = pattern
        self.version = version
        self.param_names = tuple(re.findall(r'{(\w+)}', pattern))
        self.actions: Dict[str, Tuple[Route, Handler]] = {}
        self.public = False
        self._respond = respond
        self._allow = ''

    def bind(self, route: Route, handler: Handler) -> None:
        self.actions[route.method] = (route, handler)
        self.public = all(route.public for route, _ in self.actions.values())
        methods = set(self.actions) | {'OPTIONS'} | ({'HEAD'} if 'GET' in self.actions else set())
        self._allow = ', '.join(m for m in METHOD_ORDER if m in methods)

    def action(self, method: str) -> Optional[Tuple[Route, Handler]]:
        """The route and handler serving ``method`` (HEAD: GET's), None when none does (OPTIONS, a 405)."""
        return self.actions.get('GET' if method == 'HEAD' else method)

    def is_public(self, method: str) -> bool:
        """Reachable without credentials: every route of the URL is public, or the one of this method."""
        return self.public or (method in self.actions and self.actions[method][0].public)

    def allow(self, user: Any) -> str:
        return READONLY_ALLOW if user is not None and getattr(user, 'readonly', False) else self._allow

    @cherrypy.expose
    def handle(self, **_params: Any) -> bytes:
        return self._respond(self)
