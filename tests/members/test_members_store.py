"""The members' database on real SQLite: tokens, expiry, keeping a history once, deletion
(by the member and by a trainer), retention, and the bad input a public URL gets."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from station.members.store import EXPIRED_NOTICE_DAYS, MemberStore
from station.members.tokens import (
    TOKEN_CHARS,
    code_from_qr,
    digest,
    history_url,
    new_token,
    session_url,
    well_formed,
)

DAY = 86400.0
T0 = 1_780_000_000.0  # a Unix time in 2026


def summary(jumps: int = 120, started_at: float = T0) -> dict[str, Any]:
    return {
        "started_at": started_at,
        "jumps": jumps,
        "duration_s": 75.0,
        "best_streak": 40,
        "cadence_avg_per_min": 110.0,
        "cadence_peak_per_min": 131.0,
        "cadence_series": [[5.0, 100.0], [10.0, 120.0]],
        "fault_seconds": {"back": 12.0},
        "top_fault": "back",
        "count_source": "mat",
    }


@pytest.fixture
def store(tmp_path: Path) -> MemberStore:
    return MemberStore(tmp_path / "members.sqlite3")


def rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def test_tokens_are_128_bit_random_and_shaped_exactly() -> None:
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) == TOKEN_CHARS and well_formed(t) for t in tokens)
    # 22 base64url characters carry 132 bits; token_urlsafe(16) fills 128 of them at random.
    assert TOKEN_CHARS * 6 >= 128
    t = next(iter(tokens))
    assert not well_formed(t[:-1]) and not well_formed(t + "A") and not well_formed(t[:-1] + "/")


def test_a_page_lives_until_it_expires_then_says_so(store: MemberStore) -> None:
    token = store.add_page(summary(), now=T0, valid_s=24 * 3600)
    live = store.page(token, now=T0 + 23.9 * 3600)
    assert live.state == "ok" and live.summary is not None and live.summary["jumps"] == 120
    assert store.page(token, now=T0 + 24 * 3600).state == "expired"
    # After expiry the statistics go at the next purge; the link still says "expired" ...
    store.purge(now=T0 + 25 * 3600, keep_days=365)
    assert rows(store.path, "SELECT summary FROM pages") == [(None,)]
    assert store.page(token, now=T0 + 25 * 3600).state == "expired"
    # ... and after a while the row itself goes.
    store.purge(now=T0 + (EXPIRED_NOTICE_DAYS + 2) * DAY, keep_days=365)
    assert rows(store.path, "SELECT count(*) FROM pages") == [(0,)]


def test_forged_truncated_and_padded_tokens_lead_nowhere(store: MemberStore) -> None:
    token = store.add_page(summary(), now=T0, valid_s=3600)
    for bad in (new_token(), token[:-1], token + "x", token.upper(), "", "../../etc/passwd",
                token[:11], "' OR 1=1 --", token.replace(token[0], "%")):  # fmt: skip
        assert store.page(bad, now=T0).state == "unknown", bad
    # The database holds digests only: the token itself is nowhere in the file.
    assert token.encode() not in store.path.read_bytes()
    assert rows(store.path, "SELECT token_hash FROM pages") == [(digest(token),)]


def test_keep_my_history_makes_one_code_even_when_replayed(store: MemberStore) -> None:
    token = store.add_page(summary(), now=T0, valid_s=3600)
    lookup, code = store.keep(token, now=T0 + 60)
    assert lookup.state == "ok" and code is not None and well_formed(code)
    assert store.page(token, now=T0 + 61).kept
    again, second = store.keep(token, now=T0 + 62)  # the same POST replayed
    assert second is None and again.kept
    assert len(store.codes()) == 1
    assert [s["jumps"] for s in store.history(code) or []] == [120]
    # An expired page cannot be kept.
    old = store.add_page(summary(), now=T0, valid_s=60)
    late, none = store.keep(old, now=T0 + 61)
    assert late.state == "expired" and none is None


def test_a_code_collects_its_sessions_and_deleting_it_removes_them(store: MemberStore) -> None:
    token = store.add_page(summary(100), now=T0, valid_s=3600)
    _, code = store.keep(token, now=T0)
    assert code is not None
    for week in (1, 2, 3):
        store.add_page(summary(100 + week, T0 + week * 7 * DAY), now=T0 + week * 7 * DAY,
                       valid_s=3600, code=code)  # fmt: skip
    store.add_page(summary(999), now=T0 + DAY, valid_s=3600)  # somebody else, no code
    assert [s["jumps"] for s in store.history(code) or []] == [100, 101, 102, 103]
    assert store.codes()[0].sessions == 4
    assert store.delete_code(code)
    assert store.history(code) is None and not store.code_known(code)
    assert rows(store.path, "SELECT count(*) FROM history") == [(0,)]
    assert rows(store.path, "SELECT count(*) FROM codes") == [(0,)]
    assert rows(store.path, "SELECT count(*) FROM pages WHERE code_hash IS NOT NULL") == [(0,)]
    assert not store.delete_code(code)  # twice: nothing to delete, no error
    # A session whose greeted code was deleted meanwhile is stored unlinked, not lost.
    token = store.add_page(summary(5), now=T0 + 30 * DAY, valid_s=3600, code=code)
    assert store.page(token, now=T0 + 30 * DAY).state == "ok"
    assert rows(store.path, "SELECT count(*) FROM history") == [(0,)]


def test_a_trainer_deletes_by_digest(store: MemberStore) -> None:
    _, code = store.keep(store.add_page(summary(), now=T0, valid_s=3600), now=T0)
    assert code is not None
    (info,) = store.codes()
    assert info.code_hash == digest(code) and code not in info.short
    assert store.delete_code_hash(info.code_hash)
    assert store.codes() == [] and store.history(code) is None


def test_history_goes_after_keep_days_without_a_session(store: MemberStore) -> None:
    _, stale = store.keep(store.add_page(summary(), now=T0, valid_s=3600), now=T0)
    _, active = store.keep(store.add_page(summary(), now=T0, valid_s=3600), now=T0)
    assert stale is not None and active is not None
    store.add_page(summary(), now=T0 + 300 * DAY, valid_s=3600, code=active)
    assert store.purge(now=T0 + 364 * DAY, keep_days=365)[1] == 0
    assert store.purge(now=T0 + 366 * DAY, keep_days=365)[1] == 1
    assert store.history(stale) is None
    assert store.history(active) is not None


def test_personal_codes_are_read_only_from_their_own_url_shape() -> None:
    code = new_token()
    assert code_from_qr(history_url("http://10.0.0.5:8080", code)) == code
    assert code_from_qr(history_url("https://gym.example", code) + "\n") == code
    assert code_from_qr(session_url("http://10.0.0.5:8080", code)) is None  # a session link
    for bad in (code, f"http://x/h/{code[:-1]}", f"http://x/h/{code}/delete",
                f"http://x/h/{code}?a=1", f"javascript:/h/{code}", ""):  # fmt: skip
        assert code_from_qr(bad) is None, bad


def test_a_page_stored_again_with_its_shown_token_changes_nothing(store: MemberStore) -> None:
    token = store.add_page(summary(100), now=T0, valid_s=3600)
    _, code = store.keep(token, now=T0)
    assert code is not None
    shown = new_token()  # the token the summary screen showed; a retry stores it again
    for _ in range(2):
        assert store.add_page(summary(7), now=T0 + DAY, valid_s=3600, code=code, token=shown)
    assert store.page(shown, now=T0 + DAY).state == "ok"
    assert [s["jumps"] for s in store.history(code) or []] == [100, 7]
    assert rows(store.path, "SELECT count(*) FROM pages") == [(2,)]
    with pytest.raises(ValueError, match="22 URL-safe"):
        store.add_page(summary(), now=T0, valid_s=3600, token=shown[:-1])
