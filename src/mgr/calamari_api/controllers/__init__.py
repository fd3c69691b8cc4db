"""One module per Calamari resource; each defines ``CONTROLLER``, a BaseController subclass whose methods
are the actions named in ``routes.py`` (signature: ``(self, request, **path_params)``)."""
import importlib
from typing import Any, Callable, Dict, TypeVar

from .. import routes as route_table

F = TypeVar('F', bound=Callable[..., Any])


class BaseController:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.registry: Dict[str, 'BaseController'] = {}    # every controller, by name (set by load_controllers)

    @property
    def cluster(self) -> Any:
        return self.services.cluster


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
