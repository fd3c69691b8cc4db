"""Calamari resource: request (the tracked writes; see requests.py)."""
from typing import Any, Dict, Optional

from . import BaseController
from ..web.http import ApiRequest, bad_request, not_found_object, paginate
from ..requests.user_request import STATES


class RequestController(BaseController):
    def list(self, request: ApiRequest, fsid: Optional[str] = None) -> Any:
        """Newest first, paginated; ``?state=submitted|complete``.  The cluster-scoped list shows only
        requests associated with the cluster (not OSD commands or debug jobs)."""
        state = request.query_value('state')
        if state is not None and state not in STATES:
            raise bad_request('State must be one of ' + ', '.join(STATES))
        return paginate(request, self.services.requests.list(state=state or None, fsid=fsid))

    def get(self, request: ApiRequest, request_id: str, fsid: Optional[str] = None) -> Any:
        return self._found(request_id, self.services.requests.get(request_id))

    def cancel(self, request: ApiRequest, request_id: str) -> Any:
        return self._found(request_id, self.services.requests.cancel(request_id))

    @staticmethod
    def _found(request_id: str, value: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        if value is None:
            raise not_found_object('request', request_id)
        return value


CONTROLLER = RequestController
