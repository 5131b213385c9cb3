"""The console's HTTP API: access control, CSRF, rate limit, validation, concurrent edits,
reload, commands and exports. The real app served by uvicorn on a loopback port, real files,
an HTTP client on loopback addresses only."""

from __future__ import annotations

import json
import re
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from console_helpers import PASSWORD, SITE_TEXT, csrf_of, login, make_site, served, version_of
from starlette.applications import Starlette

from station.config.loader import load_config
from station.console import auth
from station.console.app import create_app
from station.console.sitefile import AUDIT_FILE
from station.storage.live import CommandPoller, LiveStatus, LiveStatusWriter, snapshot_path
from station.storage.sessions import CSV_FIELDS, SessionLog


@contextmanager
def http(app: Starlette, source: str = "127.0.0.1") -> Iterator[httpx.Client]:
    """A client of `app` served on 127.0.0.1, connecting from the loopback address `source`."""
    with (
        served(app) as url,
        httpx.Client(
            base_url=url,
            follow_redirects=False,
            transport=httpx.HTTPTransport(local_address=source),
            timeout=30,
        ) as c,
    ):
        yield c


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    return folder


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_site(tmp_path)


@pytest.fixture
def limiter_clock() -> Clock:
    return Clock()


@pytest.fixture
def app(site: Path, state_dir: Path, limiter_clock: Clock) -> Starlette:
    auth.set_password(state_dir, PASSWORD)
    return create_app(
        site, state_dir, limiter=auth.LoginLimiter(clock=limiter_clock), command_timeout_s=2.0
    )


@pytest.fixture
def client(app: Starlette) -> Iterator[httpx.Client]:
    with http(app) as c:
        yield c


def audit(state_dir: Path) -> list[dict[str, object]]:
    path = state_dir / AUDIT_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


# --- access ------------------------------------------------------------------------------------


def test_disabled_until_a_password_is_set(site: Path, state_dir: Path) -> None:
    with http(create_app(site, state_dir)) as c:
        page = c.get("/login")
        assert page.status_code == 503 and "set-password" in page.text
        token = csrf_of(page.text)
        refused = c.post("/login", data={"csrf": token, "password": "anything"})
        assert refused.status_code == 503
        assert c.get("/thresholds").status_code == 303  # still not logged in


def test_password_is_stored_only_as_a_scrypt_hash(state_dir: Path) -> None:
    auth.set_password(state_dir, PASSWORD)
    stored = (state_dir / auth.PASSWORD_FILE).read_text()
    assert PASSWORD not in stored
    data = json.loads(stored)
    assert data["algorithm"] == "scrypt" and data["n"] >= 2**14 and len(data["salt"]) == 32
    assert (state_dir / auth.PASSWORD_FILE).stat().st_mode & 0o777 == 0o600
    assert (state_dir / auth.SECRET_FILE).stat().st_mode & 0o777 == 0o600
    creds = auth.load_credentials(state_dir)
    assert auth.check_password(creds, PASSWORD) and not auth.check_password(creds, "jump-coach")
    other = state_dir / "other"
    auth.set_password(other, PASSWORD)
    assert json.loads((other / auth.PASSWORD_FILE).read_text())["salt"] != data["salt"]


def test_without_a_session_nothing_is_shown_or_changed(client: httpx.Client, site: Path) -> None:
    for path in ("/thresholds", "/live", "/alerts", "/mat", "/camera", "/history", "/history.csv"):
        reply = client.get(path)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/login"), path
    assert client.get("/live/stream").status_code == 401
    token = csrf_of(client.get("/login").text)  # an anonymous token does not help
    reply = client.post(
        "/thresholds", data={"csrf": token, "preset": "intermediate",
                             "presets.intermediate.back.warn": "5"},
    )  # fmt: skip
    assert reply.status_code == 401
    assert site.read_text() == SITE_TEXT


def test_wrong_password_is_refused_and_logged(client: httpx.Client, state_dir: Path) -> None:
    token = csrf_of(client.get("/login").text)
    reply = client.post("/login", data={"csrf": token, "password": "wrong-password"})
    assert reply.status_code == 401 and "Wrong password" in reply.text
    assert client.get("/thresholds").status_code == 303
    assert [(e["action"], e["address"]) for e in audit(state_dir)] == [
        ("login-failed", "127.0.0.1")
    ]


def test_login_needs_the_csrf_token(client: httpx.Client) -> None:
    client.get("/login")
    assert client.post("/login", data={"password": PASSWORD}).status_code == 403
    assert client.post("/login", data={"password": PASSWORD, "csrf": "x" * 32}).status_code == 403
    assert client.get("/thresholds").status_code == 303


def test_too_many_attempts_lock_out_that_address(
    app: Starlette, client: httpx.Client, state_dir: Path, limiter_clock: Clock
) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        assert client.post("/login", data={"csrf": token, "password": "guess"}).status_code == 401
    locked = client.post("/login", data={"csrf": token, "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in locked.text
    assert client.get("/thresholds").status_code == 303  # the right password did not get in
    # Another loopback address is not locked out by this one's failures.
    with http(app, source="127.0.0.2") as other:
        login(other)
    limiter_clock.t += 301  # the window passes
    login(client)
    actions = [e["action"] for e in audit(state_dir)]
    assert actions.count("login-failed") == 5 and "login-refused" in actions


def test_logout_ends_the_session(client: httpx.Client) -> None:
    token = login(client)
    assert client.post("/logout", data={}).status_code == 403  # CSRF on logout too
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    assert client.get("/thresholds").status_code == 303


def test_session_cookie_flags(client: httpx.Client) -> None:
    client.get("/login")
    token = csrf_of(client.get("/login").text)
    reply = client.post("/login", data={"csrf": token, "password": PASSWORD})
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=28800" in cookie


def test_pages_refuse_framing_and_foreign_scripts(client: httpx.Client) -> None:
    page = client.get("/login")
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_sessions_expire(site: Path, state_dir: Path) -> None:
    auth.set_password(state_dir, PASSWORD)
    calendar = [time.time()]  # the console's wall clock, moved on by the test
    app = create_app(site, state_dir, session_hours=8.0, wall=lambda: calendar[0])
    with http(app) as c:
        login(c)
        calendar[0] += 8 * 3600 - 1
        assert c.get("/thresholds").status_code == 200  # a second left
        calendar[0] += 1
        assert c.get("/thresholds").status_code == 303


def test_a_new_password_logs_everyone_out(client: httpx.Client, state_dir: Path) -> None:
    login(client)
    auth.set_password(state_dir, "another-password")
    assert client.get("/thresholds").status_code == 303


# --- saving ------------------------------------------------------------------------------------


def form_for(client: httpx.Client, preset: str = "intermediate") -> dict[str, str]:
    html = client.get(f"/thresholds?preset={preset}").text
    return {"csrf": csrf_of(html), "version": version_of(html), "preset": preset}


def test_change_a_threshold_keeps_comments_reloads_and_audits(
    client: httpx.Client, site: Path, state_dir: Path
) -> None:
    login(client)
    form = form_for(client)
    # As a browser sends it: the ticked box, and the `present` list naming the boxes shown.
    shown = ["presets.intermediate.back.enabled", "presets.intermediate.shoulders.enabled"]
    reply = client.post(
        "/thresholds", data={**form, "presets.intermediate.back.warn": "13.5",
                             "presets.intermediate.back.enabled": "on", "present": shown},
    )  # fmt: skip
    assert reply.status_code == 303
    text = site.read_text()
    assert "# Site config for the gym's station." in text  # comments survive
    assert "# Trainers asked for a softer back threshold." in text
    assert "# the trainers' default" in text
    data = tomllib.loads(text)
    assert data["presets"]["intermediate"]["back"]["warn"] == 13.5
    # Only real changes reach the file (the other faults' shown values are their defaults);
    # an unticked checkbox the form showed is a change (enabled = false) and so is written.
    assert data["presets"]["intermediate"]["shoulders"] == {"enabled": False}
    entry = audit(state_dir)[-1]
    assert entry["action"] == "save" and entry["address"] == "127.0.0.1"
    changes = {c["key"]: (c["old"], c["new"]) for c in entry["changes"]}  # type: ignore[union-attr]
    assert changes["presets.intermediate.back.warn"] == (12.0, 13.5)
    page = client.get("/thresholds").text
    assert "Saved " in page and "presets.intermediate.back.warn = 13.5" in page
    assert "the station is not running" in page.lower()  # no pid file: said, not hidden


def test_missing_or_wrong_csrf_token_changes_nothing(client: httpx.Client, site: Path) -> None:
    login(client)
    form = form_for(client)
    values = {"presets.intermediate.back.warn": "3"}
    no_token = {k: v for k, v in form.items() if k != "csrf"}
    assert client.post("/thresholds", data={**no_token, **values}).status_code == 403
    bad = {**form, "csrf": form["csrf"][::-1]}
    assert client.post("/thresholds", data={**bad, **values}).status_code == 403
    assert client.post("/alerts/test-beep", data={"csrf": "nope"}).status_code == 403
    api = client.post("/api/set", json={"key": "presets.intermediate.back.warn", "value": "3",
                                         "version": form["version"]})  # fmt: skip
    assert api.status_code == 403
    assert site.read_text() == SITE_TEXT


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("presets.intermediate.back.hold_s", "99", "too large"),
        ("presets.intermediate.back.warn", "-1", "too small"),
        ("presets.intermediate.back.warn", "soft", "is not a number"),
        ("presets.intermediate.back.fault", "5", "must be ≥ warn"),
    ],
)
def test_out_of_range_value_is_a_form_error_and_nothing_is_written(
    client: httpx.Client, site: Path, key: str, value: str, message: str
) -> None:
    login(client)
    form = form_for(client)
    reply = client.post("/thresholds", data={**form, key: value,
                                             "presets.intermediate.head.warn": "17"})  # fmt: skip
    assert reply.status_code == 400
    assert "Nothing was saved" in reply.text
    assert message in reply.text
    assert f'value="{value}"' in reply.text  # the trainer's input is kept in the form
    assert site.read_text() == SITE_TEXT  # not even the valid head.warn change


def test_concurrent_edit_is_refused_and_says_what_changed(
    client: httpx.Client, site: Path, state_dir: Path
) -> None:
    login(client)
    form = form_for(client)
    # Someone edits the file on the station while this form is open.
    edited = SITE_TEXT.replace("warn = 12.0", "warn = 14.0")
    site.write_text(edited)
    reply = client.post("/thresholds", data={**form, "presets.intermediate.back.hold_s": "2"})
    assert reply.status_code == 409
    assert "changed by someone else" in reply.text and "NOT saved" in reply.text
    assert "presets.intermediate.back.warn" in reply.text
    assert site.read_text() == edited  # their edit stands; ours was not merged over it
    # The page now shows their value and a fresh version; saving again works.
    fresh = form_for(client)
    assert 'value="14"' in client.get("/thresholds").text
    ok = client.post("/thresholds", data={**fresh, "presets.intermediate.back.hold_s": "2"})
    assert ok.status_code == 303
    assert tomllib.loads(site.read_text())["presets"]["intermediate"]["back"]["warn"] == 14.0


def test_presets_save_as_and_select(client: httpx.Client, site: Path) -> None:
    login(client)
    form = form_for(client, "beginner")
    bad = client.post("/presets/new", data={**form, "name": "Kids Class!"})
    assert bad.status_code == 400 and "lower-case" in bad.text
    reply = client.post("/presets/new", data={**form, "name": "kids"})
    assert reply.status_code == 303 and reply.headers["location"] == "/thresholds?preset=kids"
    data = tomllib.loads(site.read_text())
    beginner = load_config(site).get("presets.beginner.back.warn")
    assert data["presets"]["kids"]["back"]["warn"] == beginner  # the beginner values, copied
    form = form_for(client, "kids")
    reply = client.post("/thresholds/preset", data={**form, "preset": "kids"})
    assert reply.status_code == 303
    assert tomllib.loads(site.read_text())["posture"]["preset"] == "kids"
    assert "# the trainers' default" in site.read_text()
    page = client.get("/thresholds").text
    assert "kids ●" in page


def test_alerts_page_saves_quiet_hours_and_rejects_bad_ones(
    client: httpx.Client, site: Path
) -> None:
    login(client)
    html = client.get("/alerts").text
    form = {"csrf": csrf_of(html), "version": version_of(html), "alerts.enabled": "on"}
    bad = client.post("/alerts", data={**form, "alerts.quiet_hours": "22:00-6"})
    assert bad.status_code == 400 and "is not HH:MM-HH:MM" in bad.text
    assert site.read_text() == SITE_TEXT
    changes = {
        "alerts.quiet_hours": "22:00-06:00, 12:00-13:00",
        "alerts.back.beeps": "3",
        "alerts.back.enabled": "on",
    }
    good = client.post("/alerts", data={**form, **changes})
    assert good.status_code == 303
    alerts = tomllib.loads(site.read_text())["alerts"]
    assert alerts["quiet_hours"] == ["22:00-06:00", "12:00-13:00"]
    assert alerts["back"]["beeps"] == 3


def test_api_set_for_live_tuning(client: httpx.Client, site: Path) -> None:
    token = login(client)
    version = form_for(client)["version"]
    headers = {"X-CSRF-Token": token}
    reply = client.post("/api/set", headers=headers, json={
        "key": "presets.intermediate.head.warn", "value": "18", "version": version})  # fmt: skip
    assert reply.status_code == 200 and reply.json()["ok"]
    assert tomllib.loads(site.read_text())["presets"]["intermediate"]["head"]["warn"] == 18.0
    stale = client.post("/api/set", headers=headers, json={
        "key": "presets.intermediate.head.warn", "value": "19", "version": version})  # fmt: skip
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["message"]
    new_version = stale.json()["version"]
    not_threshold = client.post("/api/set", headers=headers, json={
        "key": "storage.state_dir", "value": "/tmp", "version": new_version})  # fmt: skip
    assert not_threshold.status_code == 400


# --- the station side: reload, commands, live status, history ----------------------------------


STAND_IN = """
import signal, sys, time
from station.storage.live import write_pid_file
signal.signal(signal.SIGHUP, lambda *_: (print("SIGHUP", flush=True), sys.exit(0)))
write_pid_file(sys.argv[1])
print("ready", flush=True)
time.sleep(60)
"""


def test_a_save_sends_sighup_to_the_station(client: httpx.Client, state_dir: Path) -> None:
    import subprocess
    import sys

    station = subprocess.Popen(
        [sys.executable, "-c", STAND_IN, str(state_dir)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert station.stdout is not None and station.stdout.readline().strip() == "ready"
        login(client)
        form = form_for(client)
        reply = client.post("/thresholds", data={**form, "presets.intermediate.arms.warn": "0.7"})
        assert reply.status_code == 303
        assert station.stdout.readline().strip() == "SIGHUP"
        assert station.wait(timeout=10) == 0
        assert "The station is reloading" in client.get("/thresholds").text
    finally:
        station.kill()


def fake_station(state_dir: Path, stop: threading.Event, replies: dict[str, object]) -> None:
    """Answers console commands the way the runtime will (see CommandPoller)."""
    poller = CommandPoller(state_dir)
    while not stop.is_set():
        for cmd in poller.poll():
            if cmd.name == "snapshot":
                snapshot_path().parent.mkdir(parents=True, exist_ok=True)
                snapshot_path().write_bytes(b"\xff\xd8fake-jpeg\xff\xd9")
            reply = replies.get(cmd.name, {})
            assert isinstance(reply, dict)
            poller.reply(cmd, True, f"{cmd.name} {cmd.args.get('fault', '')}".strip(), reply)
        time.sleep(0.02)


@pytest.fixture
def station(state_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STATION_RUNTIME_DIR", str(tmp_path / "ram"))
    stop = threading.Event()
    replies = {"mat_zero": {"config": {"mat.offset_counts": [12.5, 9.0]}}}
    thread = threading.Thread(target=fake_station, args=(state_dir, stop, replies))
    thread.start()
    yield
    stop.set()
    thread.join()


def test_test_beep_and_snapshot_and_mat_zero(
    client: httpx.Client, station: None, site: Path, state_dir: Path
) -> None:
    token = login(client)
    reply = client.post("/alerts/test-beep", data={"csrf": token, "fault": "back"})
    assert reply.status_code == 303
    assert "Test beep: beep back." in client.get("/alerts").text

    snap = client.post("/camera/snapshot", headers={"X-CSRF-Token": token})
    assert snap.status_code == 200 and snap.content == b"\xff\xd8fake-jpeg\xff\xd9"
    assert snap.headers["cache-control"] == "no-store"
    assert not snapshot_path().exists()  # shown once, never kept
    assert not any(p.suffix == ".jpg" for p in state_dir.rglob("*"))

    html = client.get("/mat").text
    reply = client.post("/mat/zero", data={"csrf": token, "version": version_of(html)})
    assert reply.status_code == 303
    assert tomllib.loads(site.read_text())["mat"]["offset_counts"] == [12.5, 9.0]
    assert "Saved to the config file" in client.get("/mat").text


def test_commands_without_a_station_say_so(client: httpx.Client) -> None:
    token = login(client)
    client.post("/alerts/test-beep", data={"csrf": token})
    assert "the station did not answer" in client.get("/alerts").text


def test_live_stream_relays_every_status(site: Path, state_dir: Path) -> None:
    auth.set_password(state_dir, PASSWORD)
    app = create_app(site, state_dir)
    writer = LiveStatusWriter(state_dir, interval_s=0.0)
    with served(app) as url, httpx.Client(base_url=url, follow_redirects=False) as http:
        login(http)
        seen: list[int] = []
        stop = threading.Event()

        def station() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                writer.write(LiveStatus(phase="active", counts={"jumps": n},
                                        lights={"back": "fault" if n % 2 else "ok"}))  # fmt: skip
                time.sleep(0.25)

        thread = threading.Thread(target=station)
        thread.start()
        try:
            with http.stream("GET", "/live/stream") as events:
                assert events.headers["content-type"].startswith("text/event-stream")
                for line in events.iter_lines():
                    if line.startswith("data: "):
                        status = json.loads(line[6:])
                        if "counts" not in status:
                            continue  # polled before the first write: "not running" is right
                        # (`running` also depends on the file's age, i.e. on how loaded this
                        # machine is; the relay itself is what is tested here)
                        assert status["phase"] == "active"
                        seen.append(status["counts"]["jumps"])
                        if len(seen) == 6:
                            break
        finally:
            stop.set()
            thread.join()
    # Each write reached the browser once, in order (the stream polls the file every 0.1 s,
    # faster than the station's 4 writes a second).
    assert seen == sorted(seen) and len(set(seen)) == 6
    assert seen[-1] - seen[0] <= 6


def test_history_and_csv(client: httpx.Client, state_dir: Path) -> None:
    from datetime import datetime

    with SessionLog.in_state_dir(state_dir) as db:
        today = datetime.now().replace(hour=9, minute=0, second=0, microsecond=0).timestamp()
        for i, jumps in enumerate((120, 80)):
            sid = db.begin(started_at=today + i * 600)
            summary = {"jumps": jumps, "duration_s": 60.0, "fault_seconds": {"back": 6.0 * (i + 1)}}
            db.finish(sid, summary, ended_at=today + i * 600 + 60)
    login(client)
    page = client.get("/history").text
    assert "2 sessions, 200 jumps" in page
    assert "15.0 %" in page  # back: 18 s at fault over 120 s of jumping
    csv_reply = client.get("/history.csv")
    assert csv_reply.headers["content-type"].startswith("text/csv")
    lines = csv_reply.text.splitlines()
    assert lines[0].startswith("id,status,started_at") and len(lines) == 3


def test_a_broken_site_file_is_shown_not_overwritten(client: httpx.Client, site: Path) -> None:
    login(client)
    broken = SITE_TEXT + "\n[mat]\nsample_rate_hz = 50\n"
    site.write_text(broken)
    page = client.get("/thresholds")
    assert page.status_code == 503  # the console works; the config does not
    assert "mat.sample_rate_hz = 50: too small" in page.text
    assert "keeps running on its last good config" in page.text
    token = csrf_of(page.text)
    reply = client.post("/thresholds", data={"csrf": token, "version": "x", "preset": "beginner"})
    assert reply.status_code == 503
    assert site.read_text() == broken


def test_a_stale_form_from_before_a_restart_is_refused(app: Starlette, site: Path) -> None:
    """The console no longer knows the form's version: it still refuses, without guessing."""
    with http(app) as c:
        login(c)
        form = form_for(c)
    site.write_text(SITE_TEXT + "\n")
    with http(create_app(site, site.parent / "state")) as c:
        token = login(c)
        reply = c.post("/thresholds", data={**form, "csrf": token,
                                            "presets.intermediate.back.hold_s": "2"})  # fmt: skip
    assert reply.status_code == 409 and "NOT saved" in reply.text
    assert site.read_text() == SITE_TEXT + "\n"


def test_login_only_sends_you_back_inside_the_console(client: httpx.Client) -> None:
    for asked, landed in [
        ("/mat", "/mat"),
        ("//evil.example/x", "/thresholds"),
        ("https://evil.example/", "/thresholds"),
        ("javascript:alert(1)", "/thresholds"),
    ]:
        token = csrf_of(client.get(f"/login?next={asked}").text)
        reply = client.post("/login", data={"csrf": token, "password": PASSWORD, "next": asked})
        assert reply.status_code == 303 and reply.headers["location"] == landed, asked


def test_a_preset_name_in_use_or_a_missing_source_is_refused(
    client: httpx.Client, site: Path
) -> None:
    login(client)
    form = form_for(client, "beginner")
    taken = client.post("/presets/new", data={**form, "name": "intermediate"})
    assert taken.status_code == 400 and "already a preset called" in taken.text
    assert 'aria-current="page">beginner' in taken.text  # still showing the preset copied
    ghost = client.post("/presets/new", data={**form, "preset": "ghost", "name": "kids"})
    assert ghost.status_code == 400
    assert site.read_text() == SITE_TEXT


def test_history_parameters_out_of_range_are_clamped_or_refused(client: httpx.Client) -> None:
    login(client)
    for query in ("days=0", "days=100000", "days=many", "audit_page=-3", "audit_page=x"):
        assert client.get(f"/history?{query}").status_code == 200, query
    assert "in the last 366 days" in client.get("/history?days=100000").text
    assert "in the last 14 days" in client.get("/history?days=many").text  # the default
    assert client.get("/history.csv?since=yesterday").status_code == 400
    assert client.get("/history.csv?since=2999-01-01").text.splitlines() == [",".join(CSV_FIELDS)]


def test_a_field_that_may_go_negative_gets_a_keyboard_with_a_minus(client: httpx.Client) -> None:
    # A phone's decimal keypad (iOS) has no minus key: such a field could not be typed there.
    login(client)
    page = client.get("/thresholds").text

    def inputmode(path: str) -> str:
        match = re.search(rf'<input id="{re.escape(path)}"[^>]*inputmode="(\w+)"', page)
        assert match, path
        return match.group(1)

    assert inputmode("presets.intermediate.landing_camera.warn") == "text"  # down to -30
    assert inputmode("presets.intermediate.back.warn") == "decimal"  # never below 0
