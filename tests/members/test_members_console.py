"""The members' routes on the console over HTTP: bad tokens get a clear page and never a
crash or somebody else's session; a trainer edits [members] and deletes codes (logged in,
CSRF-checked); public pages set no cookie."""

from __future__ import annotations

import re
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from station.console import auth
from station.console.app import create_app
from station.members.store import MemberStore
from station.members.tokens import new_token

PASSWORD = "jump-coach-42"


def summary(jumps: int) -> dict[str, Any]:
    return {"started_at": time.time(), "jumps": jumps, "duration_s": 61.0, "best_streak": 30,
            "cadence_avg_per_min": 100.0, "cadence_peak_per_min": 120.0,
            "cadence_series": [[2.0, 90.0], [4.0, 110.0]], "fault_seconds": {"head": 9.0},
            "top_fault": "head", "count_source": "camera"}  # fmt: skip


@pytest.fixture
def setup(tmp_path: Path) -> tuple[TestClient, Path, str, str]:
    state = tmp_path / "state"
    site = tmp_path / "station.toml"
    site.write_text("# the gym's site file\n")
    with MemberStore.in_state_dir(state) as store:
        mine = store.add_page(summary(321), now=time.time(), valid_s=3600)
        theirs = store.add_page(summary(654), now=time.time(), valid_s=3600)
    client = TestClient(create_app(site, state), follow_redirects=False)
    return client, state, mine, theirs


def test_a_session_page_and_the_bad_tokens_around_it(setup: tuple[Any, ...]) -> None:
    client, _state, mine, theirs = setup
    page = client.get(f"/m/{mine}")
    assert page.status_code == 200 and 'id="count">321<' in page.text
    assert "Eyes up" not in page.text and "Look ahead" in page.text  # the head tip, in full
    assert "set-cookie" not in page.headers and page.headers["cache-control"] == "no-store"
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<script" not in page.text and "http" not in page.text  # nothing from elsewhere
    for bad in (new_token(), mine[:-1], mine + "A", mine[:-2] + "%2F", "x" * 5000, "%00",
                mine.swapcase()):  # fmt: skip
        reply = client.get(f"/m/{bad}", follow_redirects=True)
        assert reply.status_code == 404 and "No such page" in reply.text, bad
        assert "321" not in reply.text and "654" not in reply.text
    for bad in (new_token(), mine[:-1]):
        reply = client.post(f"/m/{bad}/keep")
        assert reply.status_code == 404
    assert client.get(f"/m/{mine}/keep").status_code == 405
    assert client.get(f"/h/{mine}").status_code == 404  # a session token is not a code
    assert client.post(f"/h/{new_token()}/delete", data={"confirm": "yes"}).status_code == 404
    assert 'id="count">654<' in client.get(f"/m/{theirs}").text


def test_keep_is_made_once_and_the_history_shows_it(setup: tuple[Any, ...]) -> None:
    client, _state, mine, _theirs = setup
    reply = client.post(f"/m/{mine}/keep")
    assert reply.status_code == 303
    location = reply.headers["location"]
    assert re.fullmatch(r"/h/[A-Za-z0-9_-]{22}\?new=1", location)
    history = client.get(location)
    assert history.status_code == 200 and "<b>321</b> jumps" in history.text
    assert "<svg" in history.text and "set-cookie" not in history.headers
    replay = client.post(f"/m/{mine}/keep")
    assert replay.status_code == 409 and "already in a history" in replay.text


def test_switched_off_pages_say_so(setup: tuple[Any, ...], tmp_path: Path) -> None:
    client, _state, mine, _theirs = setup
    (tmp_path / "station.toml").write_text("[members]\nenabled = false\n")
    reply = client.get(f"/m/{mine}")
    assert reply.status_code == 404 and "turned off" in reply.text


def login(client: TestClient) -> str:
    page = client.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    reply = client.post("/login", data={"csrf": token.group(1), "password": PASSWORD,
                                         "next": "/members"})  # fmt: skip
    assert reply.status_code == 303
    page = client.get("/members").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert token
    return token.group(1)


def test_a_trainer_edits_members_and_deletes_a_code(setup: tuple[Any, ...], tmp_path: Path) -> None:
    client, state, mine, _theirs = setup
    code_url = client.post(f"/m/{mine}/keep").headers["location"].split("?")[0]
    assert client.get("/members").status_code == 303  # not logged in: to the login page
    auth.set_password(state, PASSWORD)
    csrf = login(client)
    page = client.get("/members").text
    (code_hash,) = re.findall(r'name="code_hash" value="([0-9a-f]{64})"', page)
    assert code_url.rsplit("/", 1)[1] not in page  # a trainer never sees the code itself
    version = re.search(r'name="version" value="([^"]+)"', page)
    assert version
    form = {"csrf": csrf, "version": version.group(1), "members.enabled": "on",
            "members.link_valid_h": "48", "members.keep_days": "200",
            "members.base_url": "http://10.1.2.3:8080"}  # fmt: skip
    assert client.post("/members", data={**form, "members.base_url": "ftp://x"}).status_code == 400
    assert client.post("/members", data=form).status_code == 303
    saved = tomllib.loads((tmp_path / "station.toml").read_text())["members"]
    assert saved["link_valid_h"] == 48.0 and saved["base_url"] == "http://10.1.2.3:8080"
    assert client.post("/members/delete", data={"code_hash": code_hash}).status_code == 403
    assert (
        client.post("/members/delete", data={"csrf": csrf, "code_hash": code_hash}).status_code
        == 303
    )
    assert client.get(code_url).status_code == 404
    with MemberStore.in_state_dir(state) as store:
        assert store.codes() == []
