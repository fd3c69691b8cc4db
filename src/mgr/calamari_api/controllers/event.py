"""Calamari resource: event (API-REFERENCE §4.22): paginated, newest first, ``?severity=`` threshold."""
from typing import Any, Optional

from . import BaseController
from ..events import SEVERITIES, event_object, parse_severity
from ..web.http import ApiRequest, bad_request, paginate


class EventController(BaseController):
    def _page(self, request: ApiRequest, fsid: Optional[str] = None, fqdn: Optional[str] = None) -> Any:
        text = request.query_value('severity')
        threshold = parse_severity(text)
        if threshold is None:
            raise bad_request(f"Invalid severity '{text}', must be one of {','.join(SEVERITIES)}")
        events = self.services.events.events(fsid=fsid, fqdn=fqdn, max_severity=threshold)
        page = paginate(request, events)
        page['results'] = [event_object(e) for e in page['results']]
        return page

    def list(self, request: ApiRequest) -> Any:
        return self._page(request)

    def cluster_list(self, request: ApiRequest, fsid: str) -> Any:
        return self._page(request, fsid=fsid)

    def server_list(self, request: ApiRequest, fqdn: str) -> Any:
        return self._page(request, fqdn=fqdn)


CONTROLLER = EventController
