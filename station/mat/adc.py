"""ADC chips for the force mat: one class per chip, chosen by name from one registry.

A chip knows its resolution, its channels and how fast it converts, and it builds and parses
its own SPI frames – both sides of them, so the simulated bus (`station.mat.sensors.
SimulatedSpi`) answers with the chip's own framing and tests exercise the real code. In the
spirit of gpiozero's MCP3xxx family (one base class, the chip's figures as class attributes),
but written for a reader that converts every channel 1000+ times a second: frames are built
once per channel, and decoding is a few integer operations.

Adding a chip is one class: subclass :class:`AdcChip` with a `name` (it registers itself) and
give it `bits`, `channels`, `max_rate_hz`, :meth:`~AdcChip.request`, :meth:`~AdcChip.value`,
:meth:`~AdcChip.channel_of` and :meth:`~AdcChip.reply`. Everything else – the config's
`mat.adc_chip`, calibration's full scale, `station diag`, the benchmark, the simulated bus – asks
the registry (:func:`chip`). See docs/mat.md, "How to add an ADC chip".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

REGISTRY: dict[str, type[AdcChip]] = {}
"""Every known chip class by its config name (`mat.adc_chip`)."""


class UnknownChip(ValueError):
    pass


class AdcChip:
    """One SPI ADC. Subclasses set the class attributes; instances are stateless."""

    name: ClassVar[str] = ""
    bits: ClassVar[int]
    channels: ClassVar[int]
    max_rate_hz: ClassVar[float]
    """The most conversions per second (all channels together) the chip guarantees on the
    Pi's 3.3 V supply: the datasheet's figure at its lowest supply, 2.7 V (its 5 V figure is
    higher, and nothing between is specified)."""
    description: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in REGISTRY and REGISTRY[cls.name].__qualname__ != cls.__qualname__:
                raise ValueError(f"ADC chip name {cls.name!r} is taken by {REGISTRY[cls.name]}")
            REGISTRY[cls.name] = cls

    @property
    def full_scale(self) -> int:
        """The highest reading: 2^bits − 1."""
        return (1 << self.bits) - 1

    def request(self, channel: int) -> list[int]:
        """The bytes that start a single-ended conversion of `channel`."""
        raise NotImplementedError

    def value(self, reply: Sequence[int]) -> int:
        """The reading in the bytes clocked back during :meth:`request`."""
        raise NotImplementedError

    def channel_of(self, request: Sequence[int]) -> int:
        """The device's side: which channel a request asks for (ValueError if it is not a
        single-ended conversion request of this chip)."""
        raise NotImplementedError

    def reply(self, request: Sequence[int], value: int) -> list[int]:
        """The device's side: the bytes it clocks out for `request` when it reads `value`."""
        raise NotImplementedError

    def check_channel(self, channel: int) -> None:
        if not 0 <= channel < self.channels:
            raise ValueError(f"{self.name} has channels 0-{self.channels - 1}, not {channel}")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Mcp3x08(AdcChip):
    """Microchip's 8-channel successive-approximation family (MCP3008, MCP3208): a start bit,
    single-ended bit and three channel bits, then a null bit and the result, MSB first. Sent
    as three bytes, the command is right-aligned so that the result fills the last `bits` bits
    of the reply (datasheets, section 6.1 "Using the MCU's SPI port with 8-bit segments")."""

    channels = 8
    FRAME_BYTES: ClassVar[int] = 3
    START_SINGLE: ClassVar[int] = 0b11000  # start bit, single-ended

    def _command(self, channel: int) -> int:
        # The result's bits and the null bit before it follow the command's last bit.
        return (self.START_SINGLE | channel) << (self.bits + 2)

    def request(self, channel: int) -> list[int]:
        self.check_channel(channel)
        return list(self._command(channel).to_bytes(self.FRAME_BYTES, "big"))

    def value(self, reply: Sequence[int]) -> int:
        return int.from_bytes(bytes(reply[-self.FRAME_BYTES :]), "big") & self.full_scale

    def channel_of(self, request: Sequence[int]) -> int:
        word = int.from_bytes(bytes(request), "big") >> (self.bits + 2)
        if len(request) != self.FRAME_BYTES or word & ~0b111 != self.START_SINGLE:
            raise ValueError(f"not an {self.name} single-ended request: {list(request)}")
        return word & 0b111

    def reply(self, request: Sequence[int], value: int) -> list[int]:
        self.channel_of(request)
        return list((value & self.full_scale).to_bytes(self.FRAME_BYTES, "big"))


class Mcp3008(Mcp3x08):
    name = "mcp3008"
    bits = 10
    max_rate_hz = 75_000.0  # datasheet: 200 ksps at VDD 5 V, 75 ksps at 2.7 V
    description = "Microchip MCP3008, 10-bit, 8 channels"


class Mcp3208(Mcp3x08):
    name = "mcp3208"
    bits = 12
    max_rate_hz = 50_000.0  # datasheet: 100 ksps at VDD 5 V, 50 ksps at 2.7 V
    description = "Microchip MCP3208, 12-bit, 8 channels"


def chip(name: str) -> AdcChip:
    """The chip called `name` (`mat.adc_chip`)."""
    try:
        return REGISTRY[name]()
    except KeyError:
        raise UnknownChip(f"no ADC chip {name!r} (known: {', '.join(sorted(REGISTRY))})") from None


def chip_names() -> tuple[str, ...]:
    return tuple(sorted(REGISTRY))
