"""restful's state inside the module: its keys and its request objects (commands run by ``commands.run``)."""
from typing import TYPE_CHECKING

from . import commands
from .keys import RestfulKeys
from .requests import RestfulRequests

if TYPE_CHECKING:
    from ..services import Services


class Restful:
    def __init__(self, services: 'Services') -> None:
        self.keys = RestfulKeys(services.store, services.mon_queries.query)
        self.requests = RestfulRequests(lambda command: commands.run(services, command),
                                        capacity=lambda: services.option('request_history') or 1000)
