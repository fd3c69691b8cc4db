"""Calamari's web apps: the calamari-clients tree named by the ``ui_path`` option (``login/``, ``manage/``,
``dashboard/``, ``admin/``, each with an ``index.html``, or a source checkout's ``<app>/dist/``), served at
``/<app>/`` with CherryPy's static file tool, and Calamari's redirects: ``/`` → ``/dashboard/``, ``/<app>`` →
``/<app>/``, and the dashboard (login_required in Calamari) → ``/login/?next=...`` for an anonymous visitor.
Without ``ui_path`` these URLs are unknown (404), as before."""
import mimetypes
import os
from typing import Any, Optional
from urllib.parse import quote

import cherrypy
from cherrypy.lib import static

from . import BaseController
from ..web.http import ApiError, ApiRequest, RawResponse, Response, not_found
from ..views.log import resolve_log_path as resolve_under     # (a path under a root, no escape)

APPS = ('login', 'manage', 'dashboard', 'admin')
LOGIN_REQUIRED = ('dashboard',)
EXTRA_TYPES = {'.l20n': 'text/plain', '.json': 'application/json', '.woff': 'font/woff', '.woff2': 'font/woff2',
               '.ttf': 'font/ttf', '.svg': 'image/svg+xml', '.map': 'application/json', '.ejs': 'text/plain'}


def _redirect(location: str) -> Response:
    return Response(302, headers={'Location': location}, empty=True)


class UiController(BaseController):
    def _root(self) -> Optional[str]:
        path = str(self.services.option('ui_path') or '').strip()
        return os.path.abspath(path) if path else None

    def root(self, request: ApiRequest) -> Any:
        """``/``: the dashboard (Calamari's landing page)."""
        if self._root() is None:
            raise not_found()
        return _redirect('/dashboard/')

    def app(self, request: ApiRequest, ui_app: str) -> Any:
        """A file of one of the apps; a directory means its ``index.html``."""
        root = self._root()
        rest = request.path[len(ui_app) + 1:]
        if root is None or (rest and not rest.startswith('/')):
            raise not_found()
        if not rest:
            return _redirect(f'/{ui_app}/')
        if ui_app in LOGIN_REQUIRED and self.services.auth.current_user(request) is None:
            return _redirect('/login/?next=' + quote(request.path))
        base = os.path.join(root, ui_app)
        if not os.path.isfile(os.path.join(base, 'index.html')) and os.path.isdir(os.path.join(base, 'dist')):
            base = os.path.join(base, 'dist')           # a built calamari-clients checkout
        relative = rest.lstrip('/')
        path = resolve_under(base, relative) if relative else os.path.realpath(base)
        if path is not None and os.path.isdir(path):
            path = os.path.join(path, 'index.html')
        if path is None or not os.path.isfile(path):
            raise not_found()
        return self._serve(path)

    @staticmethod
    def _serve(path: str) -> Any:
        """CherryPy's static file tool: Content-Type, Last-Modified, If-Modified-Since (304), ranges."""
        extension = os.path.splitext(path)[1].lower()
        content_type = EXTRA_TYPES.get(extension) or mimetypes.guess_type(path)[0] or 'application/octet-stream'
        try:
            body = static.serve_file(path, content_type=content_type)
        except cherrypy.HTTPRedirect as e:          # not modified since the client's copy
            return Response(e.status, empty=True)
        except cherrypy.HTTPError as e:
            raise ApiError(e.code, {'detail': e._message or 'Not found'})
        status = int(str(cherrypy.serving.response.status or 200).split()[0])
        return RawResponse(body, content_type, status=status)


CONTROLLER = UiController
