"""Posture: one metric per fault, judged into one light per fault (ok / warn / fault / unknown).

Public API (pure numpy, no mediapipe): :class:`PostureJudge` turns PoseFrames into
:class:`Lights`; :func:`summarise` turns a judged recording into per-fault totals and episodes.
The metrics and their formulas are in :mod:`station.posture.metrics` and docs/posture.md.
"""

from station.posture.judge import Light, Lights, PostureJudge, PostureSettings
from station.posture.metrics import METRICS, PLACEMENTS, Metric
from station.posture.summary import FaultSummary, faults_json, summarise

__all__ = [
    "METRICS",
    "PLACEMENTS",
    "FaultSummary",
    "Light",
    "Lights",
    "Metric",
    "PostureJudge",
    "PostureSettings",
    "faults_json",
    "summarise",
]
