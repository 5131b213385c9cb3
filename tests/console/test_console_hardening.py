"""What a clumsy trainer or a hostile phone on the gym's Wi-Fi does to the console: partial
forms, hand-edited values, odd preset names, parallel guesses, copied cookies, a failing audit
log, a symlinked site file. The real app served by uvicorn on loopback, real files."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import tomllib
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from console_helpers import PASSWORD, SITE_TEXT, csrf_of, login, served, version_of
from starlette.applications import Starlette
from starlette.routing import Route

from station.console import auth
from station.console.app import create_app
from station.console.sitefile import AUDIT_FILE, SiteConfigFile, append_capped
from station.storage.live import CommandPoller


@contextmanager
def http(app: Starlette, source: str = "127.0.0.1") -> Iterator[httpx.Client]:
    with (
        served(app) as url,
        httpx.Client(base_url=url, follow_redirects=False, timeout=60,
                     transport=httpx.HTTPTransport(local_address=source)) as c,
    ):  # fmt: skip
        yield c


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("STATION_RUNTIME_DIR", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)
    return tmp_path / "state"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(SITE_TEXT)
    return path


@pytest.fixture
def app(site: Path, state_dir: Path) -> Starlette:
    auth.set_password(state_dir, PASSWORD)
    return create_app(site, state_dir, command_timeout_s=1.0)


@pytest.fixture
def client(app: Starlette) -> Iterator[httpx.Client]:
    with http(app) as c:
        yield c


def thresholds_form(client: httpx.Client, preset: str = "intermediate") -> dict[str, str]:
    html = client.get(f"/thresholds?preset={preset}").text
    return {"csrf": csrf_of(html), "version": version_of(html), "preset": preset}


# --- forms -------------------------------------------------------------------------------------


def test_a_partial_post_switches_no_fault_off(client: httpx.Client, site: Path) -> None:
    login(client)
    reply = client.post(
        "/thresholds", data={**thresholds_form(client), "presets.intermediate.back.warn": "13"}
    )
    assert reply.status_code == 303
    data = tomllib.loads(site.read_text())
    assert data["presets"]["intermediate"]["back"] == {"warn": 13.0}  # and nothing else
    assert "shoulders" not in data["presets"]["intermediate"]


def test_every_shown_checkbox_is_listed_in_present(client: httpx.Client) -> None:
    """The page's half of the contract: a browser sends `present` for each box it shows."""
    login(client)
    html = client.get("/thresholds?preset=intermediate").text
    boxes = html.count('type="checkbox"')
    assert boxes >= 5 and html.count('name="present"') == boxes


def test_untouched_hand_edited_values_are_not_rounded(client: httpx.Client, site: Path) -> None:
    site.write_text(SITE_TEXT + "[presets.intermediate.head]\nwarn = 1.1234567\n")
    login(client)
    html = client.get("/thresholds?preset=intermediate").text
    assert 'value="1.1234567"' in html  # shown as written
    # The whole form sent back as shown, with one other value changed.
    form = {**thresholds_form(client), "presets.intermediate.back.warn": "14"}
    form["presets.intermediate.head.warn"] = "1.1234567"
    assert client.post("/thresholds", data=form).status_code == 303
    data = tomllib.loads(site.read_text())
    assert data["presets"]["intermediate"]["head"]["warn"] == 1.1234567
    entry = json.loads((site.parent / "state" / AUDIT_FILE).read_text().splitlines()[-1])
    assert [c["key"] for c in entry["changes"]] == ["presets.intermediate.back.warn"]


@pytest.mark.parametrize(
    "name",
    ["", '"]\n[camera]', "a\u202eb", "a\x00b", "<b>x</b>", "x" * 10_000, "Beginner"],
    ids=["empty", "toml-injection", "rtl-override", "nul", "html", "10k", "upper-case"],
)
def test_api_set_enforces_the_preset_name_rule(client: httpx.Client, site: Path, name: str) -> None:
    login(client)
    form = thresholds_form(client)
    token = form["csrf"]
    reply = client.post(
        "/api/set",
        json={"key": f"presets.{name}.back.warn", "value": "12", "version": form["version"]},
        headers={"X-CSRF-Token": token},
    )
    assert reply.status_code == 400 and "preset name" in reply.json()["message"]
    assert site.read_text() == SITE_TEXT


def test_mat_scale_with_an_unknown_zone_is_an_error(client: httpx.Client, state_dir: Path) -> None:
    login(client)
    html = client.get("/mat").text
    reply = client.post(
        "/mat/scale",
        data={"csrf": csrf_of(html), "version": version_of(html), "known_n": "200",
              "zone": "nowhere"},
    )  # fmt: skip
    assert reply.status_code == 303
    assert "there is no zone" in client.get("/mat").text
    assert not list(CommandPoller(state_dir).poll())  # nothing was sent to the station


def test_a_symlinked_site_file_stays_a_symlink(tmp_path: Path, state_dir: Path) -> None:
    real = tmp_path / "repo" / "station.toml"
    real.parent.mkdir()
    real.write_text(SITE_TEXT)
    link = tmp_path / "station.toml"
    link.symlink_to(real)
    site = SiteConfigFile(link, create_app(link, state_dir).state.console.schema, state_dir)
    site.save({"presets.intermediate.back.warn": 13.0}, site.remember_current(), address="t")
    assert link.is_symlink() and link.resolve() == real
    assert tomllib.loads(real.read_text())["presets"]["intermediate"]["back"]["warn"] == 13.0


# --- a failing audit log ----------------------------------------------------------------------

STAND_IN = """
import signal, sys, time
from station.storage.live import write_pid_file
signal.signal(signal.SIGHUP, lambda *_: (print("SIGHUP", flush=True), sys.exit(0)))
write_pid_file(sys.argv[1])
print("ready", flush=True)
time.sleep(60)
"""


def test_a_failing_audit_append_still_reloads_the_station(
    client: httpx.Client, state_dir: Path, site: Path
) -> None:
    (state_dir / AUDIT_FILE).mkdir()  # appending to it fails, as on a full disk
    station = subprocess.Popen(
        [sys.executable, "-c", STAND_IN, str(state_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert station.stdout is not None and station.stdout.readline().strip() == "ready"
        login(client)  # the login's audit line fails too: the login works
        form = thresholds_form(client)
        reply = client.post("/thresholds", data={**form, "presets.intermediate.arms.warn": "0.7"})
        assert reply.status_code == 303
        assert station.stdout.readline().strip() == "SIGHUP"
        assert tomllib.loads(site.read_text())["presets"]["intermediate"]["arms"]["warn"] == 0.7
    finally:
        station.kill()
        station.wait()


def test_the_audit_log_is_rotated_and_read_a_page_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / AUDIT_FILE
    for i in range(2000):
        append_capped(path, json.dumps({"n": i, "pad": "x" * 80}), 20_000)
    old = path.with_name(AUDIT_FILE + ".1")
    assert path.stat().st_size <= 20_000 + 200 and old.stat().st_size <= 20_000 + 200
    assert sorted(p.name for p in tmp_path.iterdir()) == [AUDIT_FILE, AUDIT_FILE + ".1"]
    site = SiteConfigFile(tmp_path / "x.toml", create_app(tmp_path / "x.toml", tmp_path)
                          .state.console.schema, tmp_path)  # fmt: skip
    first = site.audit_entries(15)
    assert [e["n"] for e in first] == list(range(1999, 1984, -1))  # newest first
    # A page that starts in the current file and ends in the rotated one.
    in_current = len(path.read_text().splitlines())
    page = site.audit_entries(10, in_current - 5)
    assert [e["n"] for e in page] == list(range(1999 - in_current + 5, 1989 - in_current + 5, -1))


def test_a_page_of_a_huge_audit_log_costs_little_memory(tmp_path: Path) -> None:
    line = json.dumps({"action": "login-failed", "address": "10.0.0.9", "pad": "y" * 100})
    (tmp_path / AUDIT_FILE).write_text((line + "\n") * 200_000)  # ~25 MB (an old, unrotated log)
    site = SiteConfigFile(tmp_path / "x.toml", create_app(tmp_path / "x.toml", tmp_path)
                          .state.console.schema, tmp_path)  # fmt: skip
    tracemalloc.start()
    entries = site.audit_entries(16, 15)
    _now, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(entries) == 16 and peak < 2_000_000, peak


# --- logins and sessions ----------------------------------------------------------------------


def test_parallel_guesses_from_one_address_are_checked_one_at_a_time(app: Starlette) -> None:
    with http(app) as client:
        token = csrf_of(client.get("/login").text)
        cookies = dict(client.cookies)
        statuses: list[int] = []

        def guess() -> None:
            with httpx.Client(base_url=str(client.base_url), cookies=cookies, timeout=120) as c:
                reply = c.post("/login", data={"csrf": token, "password": "guess"})
                statuses.append(reply.status_code)

        threads = [threading.Thread(target=guess) for _ in range(60)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(statuses) == 60 and set(statuses) <= {401, 429}
    checked = statuses.count(401)
    assert 1 <= checked <= 5, statuses  # the documented five, never sixty
    # ... and a trainer at another address logs in at once.
    with http(app, source="127.0.0.2") as other:
        login(other)


def test_a_phone_guessing_never_locks_out_another_address(app: Starlette) -> None:
    with http(app) as phone:
        token = csrf_of(phone.get("/login").text)
        for _ in range(25):
            assert phone.post("/login", data={"csrf": token, "password": "x"}).status_code in (
                401,
                429,
            )
        assert phone.post("/login", data={"csrf": token, "password": PASSWORD}).status_code == 429
    with http(app, source="127.0.0.2") as trainer:
        login(trainer)
        assert trainer.get("/thresholds").status_code == 200


def test_logout_revokes_a_copied_cookie(app: Starlette) -> None:
    with http(app) as client:
        token = login(client)
        stolen = dict(client.cookies)
        with httpx.Client(base_url=str(client.base_url), cookies=stolen, timeout=60) as thief:
            assert thief.get("/thresholds").status_code == 200
            assert client.post("/logout", data={"csrf": token}).status_code == 303
            assert thief.get("/thresholds").status_code == 303  # to the login page


def test_a_password_change_revokes_every_session(app: Starlette, state_dir: Path) -> None:
    with http(app) as client:
        login(client)
        kept = dict(client.cookies)
        auth.set_password(state_dir, PASSWORD)  # the same password, set again
        with httpx.Client(base_url=str(client.base_url), cookies=kept, timeout=60) as again:
            assert again.get("/thresholds").status_code == 303


def test_a_500_page_carries_the_security_headers(app: Starlette) -> None:
    def boom(_request: object) -> None:
        raise RuntimeError("a bug")

    app.router.routes.append(Route("/boom", boom))
    with http(app) as client:
        reply = client.get("/boom")
    assert reply.status_code == 500 and "a bug" not in reply.text
    assert reply.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in reply.headers["content-security-policy"]
