"""The console's areas, one module each; :data:`AREAS` is the list the app serves, in the
order of the menu bar.

How to add an area (say a Gym page):

1. Write ``station/console/areas/gym.py`` with a subclass of
   :class:`station.console.area.Area`. Set ``nav = ("/gym", "Gym")`` for a menu entry (or
   leave it None), and mark each handler with its route, next to it::

       from station.console.area import FRESH, Area, FormState
       from station.console.routing import get, post

       class Gym(Area):
           nav = ("/gym", "Gym")

           def _fields(self, config: Config, state: FormState = FRESH) -> list[Field]:
               return fields_for(self.c.schema, config, "gym",
                                 errors=state.errors, submitted=state.submitted)

           @get("/gym")
           async def show(self, request: Request, state: FormState = FRESH) -> Response:
               config, version, problem = self.load()
               if config is None:  # the site file is invalid: say why, show no form
                   return self.broken(request, problem)
               fields = self._fields(config, state)
               return self.render_form(request, "gym.html", version, state, {"fields": fields})

           @post("/gym")
           async def save(self, request: Request) -> Response:
               # parsed, validated, saved atomically, audited, the station reloaded; a refusal
               # shows the page again with each field's error and the trainer's input
               return await self.save_form(request, self._fields, "gym", "/gym",
                                           lambda state: self.show(request, state))

2. Add its template, ``templates/gym.html`` (``{% extends "base.html" %}``; forms carry
   ``csrf`` and ``version`` hidden fields, see ``alerts.html``).
3. Add the class to :data:`AREAS` below.

Do not check the login or the CSRF token in a handler: every route is wrapped in the one guard
of :mod:`station.console.routing` (trainer-only by default; ``access=Access.PUBLIC`` only for
pages a stranger may see, which ``tests/console/test_console_routes.py`` must then list).
The :class:`~station.console.area.Area` helpers do the rest: ``render``/``render_form`` (a page
with its CSRF token and menu), ``load``/``broken`` (the site file, or the page that says why it
is invalid), ``save_form``/``apply``/``write``/``written`` (save a form: validated, audited,
the station reloaded), and ``command``/``command_flash`` (ask the running station to do
something and say how it went).
"""

from __future__ import annotations

from station.console.area import Area
from station.console.areas.alerts import Alerts
from station.console.areas.camera import Camera
from station.console.areas.history import History
from station.console.areas.live import Live
from station.console.areas.login import Login
from station.console.areas.mat import Mat
from station.console.areas.members import Members
from station.console.areas.thresholds import Thresholds

AREAS: tuple[type[Area], ...] = (
    Login,
    Thresholds,
    Live,
    Alerts,
    Mat,
    Camera,
    History,
    Members,
)
