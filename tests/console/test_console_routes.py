"""Every route the app serves goes through the one login/CSRF guard: probed route by route
through the real server, so an area added later is covered without touching this file (unless
it declares a public route, which must then be listed here on purpose)."""

from __future__ import annotations

import dataclasses
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from console_helpers import (
    PASSWORD,
    SITE_TEXT,
    csrf_of,
    login,
    make_site,
    served,
    version_of,
)
from jinja2 import DictLoader
from jinja2.loaders import ChoiceLoader
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from station.config.loader import Config
from station.config.schema import Key, Section
from station.config.sections import SCHEMA
from station.console import auth
from station.console.app import create_app
from station.console.area import FRESH, Area, FormState
from station.console.areas import AREAS
from station.console.forms import Field, fields_for
from station.console.routing import get, post
from station.console.sitefile import AUDIT_FILE
from station.storage.paths import COMMANDS_DIR, runtime_dir

PUBLIC = {  # the members' own pages: no login, no cookie (docs/members.md)
    ("GET", "/m/{token}"),
    ("POST", "/m/{token}/keep"),
    ("GET", "/h/{code}"),
    ("POST", "/h/{code}/delete"),
}
NO_LOGIN = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
SCRIPT_PATHS = ("/live/", "/api/")  # fetched by the pages' script: 401, not a redirect


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Starlette:
    monkeypatch.setenv("STATION_RUNTIME_DIR", str(tmp_path / "ram"))  # where commands go
    state = tmp_path / "state"
    auth.set_password(state, PASSWORD)
    return create_app(make_site(tmp_path), state, command_timeout_s=0.5)


@pytest.fixture
def client(app: Starlette) -> Iterator[httpx.Client]:
    with served(app) as url, httpx.Client(base_url=url, follow_redirects=False, timeout=30) as c:
        yield c


def served_routes(app: Starlette) -> list[tuple[str, str]]:
    """(method, path) of every route, HEAD left out (Starlette adds it to each GET)."""
    return sorted(
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    )


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "abc", path)


def nothing_happened(app: Starlette) -> None:
    """No handler ran: the site file is as written, no command reached the station, and the
    audit log holds nothing but logins."""
    console = app.state.console
    assert console.site.path.read_text() == SITE_TEXT
    assert not list(runtime_dir(console.state_dir).glob(f"{COMMANDS_DIR}/*"))
    audit = console.state_dir / AUDIT_FILE
    actions = [json.loads(line)["action"] for line in audit.read_text().splitlines()] \
        if audit.exists() else []  # fmt: skip
    assert set(actions) <= {"login"}, actions


def test_the_routes_are_the_areas_routes(app: Starlette) -> None:
    routes = served_routes(app)
    assert len(routes) == len(set(routes)), "a route is declared twice"
    assert set(routes) >= PUBLIC | NO_LOGIN
    paths = {path for _m, path in routes}
    for area in AREAS:
        assert area.nav is None or area.nav[0] in paths, area


def test_every_trainer_route_refuses_without_a_session(
    app: Starlette, client: httpx.Client
) -> None:
    anonymous_token = csrf_of(client.get("/login").text)  # valid for this anonymous session
    probed = 0
    for method, path in served_routes(app):
        if (method, path) in PUBLIC | NO_LOGIN:
            continue
        url = concrete(path)
        if method == "GET":
            reply = client.get(url)
            if path.startswith(SCRIPT_PATHS):
                assert reply.status_code == 401, path
            else:
                assert reply.status_code == 303, path
                assert reply.headers["location"] == f"/login?next={url}", path
        else:
            form = client.post(url, data={"csrf": anonymous_token, "version": "x"})
            header = client.post(url, json={}, headers={"X-CSRF-Token": anonymous_token})
            assert (form.status_code, header.status_code) == (401, 401), path
        probed += 1
    assert probed >= 15
    nothing_happened(app)


def test_every_change_refuses_without_the_csrf_token(app: Starlette, client: httpx.Client) -> None:
    token = login(client)
    probed = 0
    for method, path in served_routes(app):
        if method != "POST" or (method, path) in PUBLIC or path == "/login":
            continue
        url = concrete(path)
        assert client.post(url, data={"version": "x"}).status_code == 403, path
        assert client.post(url, data={"csrf": token[::-1]}).status_code == 403, path
        wrong_header = client.post(url, json={}, headers={"X-CSRF-Token": token[:-1]})
        assert wrong_header.status_code == 403, path
        probed += 1
    assert probed >= 10
    assert client.get("/thresholds").status_code == 200  # still logged in: logout was refused
    nothing_happened(app)


def test_every_menu_entry_is_a_page_a_trainer_can_open(client: httpx.Client) -> None:
    login(client)
    menu = [area.nav for area in AREAS if area.nav is not None]
    assert [label for _href, label in menu] == [
        "Thresholds", "Live", "Alerts", "Mat", "Camera", "History", "Members",
    ]  # fmt: skip
    for href, label in menu:
        page = client.get(href)
        assert page.status_code == 200, href
        assert re.search(rf'<a href="{href}" aria-current="page">{label}</a>', page.text), href
        for other, other_label in menu:
            assert f'<a href="{other}"' in page.text and other_label in page.text


# --- an area added from this file alone ---------------------------------------------------------

GYM_SECTION = Section(
    "The gym (an area a test adds).",
    {"lanes": Key(2, "Jump lanes in the room.", min=1, max=8)},
)
GYM_PAGE = """{% extends "base.html" %}{% from "_fields.html" import field %}
{% block main %}<form method="post" action="/gym">
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="version" value="{{ version }}">
{% for f in fields %}{{ field(f) }}{% endfor %}</form>{% endblock %}"""


class Gym(Area):
    """The example of station/console/areas/__init__.py's docstring, as written there."""

    nav = ("/gym", "Gym")

    def _fields(self, config: Config, state: FormState = FRESH) -> list[Field]:
        return fields_for(
            self.c.schema, config, "gym", errors=state.errors, submitted=state.submitted
        )

    @get("/gym")
    async def show(self, request: Request, state: FormState = FRESH) -> Response:
        config, version, problem = self.load()
        if config is None:
            return self.broken(request, problem)
        fields = self._fields(config, state)
        return self.render_form(request, "gym.html", version, state, {"fields": fields})

    @post("/gym")
    async def save(self, request: Request) -> Response:
        return await self.save_form(
            request, self._fields, "gym", "/gym", lambda state: self.show(request, state)
        )


def test_an_area_added_from_this_file_alone_is_guarded_listed_and_saves(tmp_path: Path) -> None:
    state = tmp_path / "state"
    auth.set_password(state, PASSWORD)
    schema = dataclasses.replace(SCHEMA, keys={**SCHEMA.keys, "gym": GYM_SECTION})
    site = make_site(tmp_path)
    app = create_app(site, state, schema=schema, areas=(*AREAS, Gym))
    templates = app.state.console.templates
    templates.env.loader = ChoiceLoader([DictLoader({"gym.html": GYM_PAGE}), templates.env.loader])
    with served(app) as url, httpx.Client(base_url=url, follow_redirects=False) as client:
        assert client.get("/gym").headers["location"] == "/login?next=/gym"
        assert client.post("/gym", data={"gym.lanes": "3"}).status_code == 401
        token = login(client)
        page = client.get("/gym")
        assert '<a href="/gym" aria-current="page">Gym</a>' in page.text
        assert 'name="gym.lanes"' in page.text and "Jump lanes in the room." in page.text
        form = {"csrf": token, "version": version_of(page.text)}
        assert client.post("/gym", data={"version": form["version"], "gym.lanes": "3"}) \
            .status_code == 403  # fmt: skip
        refused = client.post("/gym", data={**form, "gym.lanes": "9"})
        assert refused.status_code == 400 and "too large" in refused.text
        assert 'value="9"' in refused.text  # the trainer's input is kept
        assert site.read_text() == SITE_TEXT
        saved = client.post("/gym", data={**form, "gym.lanes": "3"})
        assert saved.status_code == 303 and saved.headers["location"] == "/gym"
    assert tomllib.loads(site.read_text())["gym"] == {"lanes": 3}
    assert SITE_TEXT.splitlines()[0] in site.read_text()  # comments kept
