"""restful's HTTP surface (the mgr ``restful`` module that Ceph Tentacle removed), served by this module on its own
listener: HTTP Basic keys, restful's URLs, request and response shapes, and its request objects.

``routes`` is the table, ``controllers`` the handlers, ``keys`` the keys, ``requests`` the request objects,
``commands`` the one place every command a client sends passes through, ``app`` the WSGI application."""
