"""One module per Calamari resource; each defines ``CONTROLLER``, a BaseController subclass whose methods
are the actions named in ``web/routes.py`` (signature: ``(self, request, **path_params)``).  A write returns its
``requests.Operation``: the dispatcher submits it and answers the route's status (202) with the request id."""
import importlib
from typing import TYPE_CHECKING, Dict

from ..web import routes as route_table

if TYPE_CHECKING:
    from ..cluster import ClusterState
    from ..services import Services


class BaseController:
    def __init__(self, services: 'Services') -> None:
        self.services = services
        self.registry: Dict[str, 'BaseController'] = {}    # every controller, by name (set by load_controllers)

    @property
    def cluster(self) -> 'ClusterState':
        return self.services.cluster


def load_controllers(services: 'Services') -> Dict[str, BaseController]:
    names = sorted({route.controller for route in route_table.ROUTES})
    controllers = {name: importlib.import_module(f'.{name}', __name__).CONTROLLER(services) for name in names}
    for controller in controllers.values():
        controller.registry = controllers
    return controllers
