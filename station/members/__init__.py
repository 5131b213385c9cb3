"""Members keep their sessions: a take-home QR code on the summary screen, and an opt-in random
personal code to follow progress. Statistics only; no images and no names.

* :mod:`~station.members.tokens` — 128-bit random tokens and codes, their URLs and digests;
* :mod:`~station.members.store` — the members' SQLite database (pages, codes, histories,
  expiry and retention);
* :mod:`~station.members.qr` — making QR codes (segno) and reading them (OpenCV);
* :mod:`~station.members.desk` — the station's side: reading codes on the idle screen, a page
  per finished session;
* :mod:`~station.members.charts` — the pages' inline SVG charts.

The pages themselves are served by the console (:mod:`station.console.areas.members`).
"""
