"""restful's state inside the module: its keys and its request objects (commands run by ``commands.run``)."""
from typing import Any

from . import commands
from .keys import RestfulKeys
from .requests import RestfulRequests


class Restful:
    def __init__(self, services: Any) -> None:
        self.keys = RestfulKeys(services.store, services.mon_queries.query)
        self.requests = RestfulRequests(lambda command: commands.run(services, command),
                                        capacity=lambda: services.option('request_history') or 1000)
