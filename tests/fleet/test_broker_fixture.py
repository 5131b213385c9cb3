"""The Mosquitto fixture itself: a station may publish its own status, and the ACL refuses
what is not its own (MQTT 5 PUBACK reason codes, so the refusal is seen, not inferred)."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from fleet_helpers import connect
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode


def _puback(broker, user: str, topic: str) -> ReasonCode:  # type: ignore[no-untyped-def]
    done = threading.Event()
    codes: list[ReasonCode] = []

    def on_publish(_c, _u, _mid, reason: ReasonCode, _p) -> None:  # type: ignore[no-untyped-def]
        codes.append(reason)
        done.set()

    client = connect(broker, user, protocol=mqtt.MQTTv5)
    client.on_publish = on_publish
    client.publish(topic, b'{"v":1}', qos=1)
    assert done.wait(5), "no PUBACK"
    client.disconnect()
    client.loop_stop()
    return codes[0]


def test_a_station_publishes_only_under_its_own_id(mosquitto) -> None:  # type: ignore[no-untyped-def]
    assert not _puback(mosquitto, "st-1", "station/v1/gym/st-1/status").is_failure
    assert _puback(mosquitto, "st-1", "station/v1/gym/st-2/status").is_failure
    assert _puback(mosquitto, "st-1", "station/v1/gym/all/config/set").is_failure
    assert _puback(mosquitto, "intruder", "station/v1/gym/st-1/config/set").is_failure
    assert not _puback(mosquitto, "fleet", "station/v1/gym/all/config/set").is_failure


def test_the_recorder_may_announce_to_home_assistant_and_nothing_else(mosquitto) -> None:  # type: ignore[no-untyped-def]
    """`station fleet record --home-assistant` publishes discovery configs as `recorder`;
    it must reach the broker under the shipped ACL, and the recorder still sends no
    station topic, and a station no discovery."""
    discovery = "homeassistant/sensor/gym_st-1_state/config"
    assert not _puback(mosquitto, "recorder", discovery).is_failure
    assert _puback(mosquitto, "recorder", "station/v1/gym/all/config/set").is_failure
    assert _puback(mosquitto, "st-1", discovery).is_failure


def test_a_wrong_password_is_refused(mosquitto) -> None:  # type: ignore[no-untyped-def]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.username_pw_set("st-1", "wrong")
    refused = threading.Event()
    client.on_connect = lambda _c, _u, _f, reason, _p: refused.set() if reason.is_failure else None
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    assert refused.wait(5)
    client.disconnect()
    client.loop_stop()
