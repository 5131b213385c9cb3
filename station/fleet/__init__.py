"""Many stations, one gym: the MQTT wire format (``wire``), the station's uplink and the
gym's recorder. See docs/fleet.md."""
