"""One module per Calamari resource; each defines ``CONTROLLER``, a BaseController subclass whose methods
are the actions named in ``routes.py`` (signature: ``(self, request, **path_params)``)."""
import importlib
from typing import Any, Callable, Dict, TypeVar

from .. import routes as route_table
from ..audit import principal_name
from ..http import ApiError, ApiRequest
from ..requests import Operation, TooManyInFlight

F = TypeVar('F', bound=Callable[..., Any])
IN_FLIGHT_RETRY_SECONDS = 5


class BaseController:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.registry: Dict[str, 'BaseController'] = {}    # every controller, by name (set by load_controllers)

    @property
    def cluster(self) -> Any:
        return self.services.cluster

    def submit_request(self, request: ApiRequest, operation: Operation) -> str:
        """Every write's way into the request engine: the request id, with who asked and from where (the audit
        line of its end, the per-principal cap on requests in flight: 429 beyond it)."""
        try:
            return self.services.requests.submit(operation, principal=principal_name(request.user),
                                                 client=request.remote_addr)
        except TooManyInFlight as e:
            raise ApiError(429, {'detail': str(e)}, headers={'Retry-After': str(IN_FLIGHT_RETRY_SECONDS)})


def cached_by(*deps: str) -> Callable[[F], F]:
    """Mark a GET action whose response depends only on these ClusterState sources (and the URL): the
    dispatcher then serves the rendered JSON from cache, with an ETag, until one of them changes."""
    def mark(handler: F) -> F:
        handler.cache_deps = deps  # type: ignore[attr-defined]
        return handler
    return mark


def load_controllers(services: Any) -> Dict[str, BaseController]:
    names = sorted({route.controller for route in route_table.ROUTES})
    controllers = {name: importlib.import_module(f'.{name}', __name__).CONTROLLER(services) for name in names}
    for controller in controllers.values():
        controller.registry = controllers
    return controllers
