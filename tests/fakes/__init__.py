"""Local fake web services (AcoustID, MusicBrainz, AcousticBrainz, Cover Art Archive) for tests.

Real HTTP servers on 127.0.0.1 that answer like the real services, enforce their rate limits,
count requests and play injected faults. :class:`FakeServices` runs all four over one World.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fakes.acoustid import FakeAcoustID
from tests.fakes.brainz import FakeAcousticBrainz, FakeCoverArt
from tests.fakes.musicbrainz import FakeMusicBrainz
from tests.fakes.server import FakeService, Fault, FaultKind
from tests.fakes.world import Library, World, build_library

__all__ = [
    "API_KEY",
    "FakeAcoustID",
    "FakeAcousticBrainz",
    "FakeCoverArt",
    "FakeMusicBrainz",
    "FakeService",
    "FakeServices",
    "Fault",
    "FaultKind",
    "Library",
    "Rates",
    "World",
    "build_library",
]

API_KEY = "fake-acoustid-key-3f9c2"


@dataclass(frozen=True)
class Rates:
    """Requests per second each fake enforces (None: no limit)."""

    acoustid: float | None = 3.0
    musicbrainz: float | None = 1.0
    acousticbrainz: float | None = 1.0
    coverart: float | None = 5.0

    @classmethod
    def fast(cls, rate: float = 50.0) -> Rates:
        return cls(rate, rate, rate, rate)


class FakeServices:
    def __init__(
        self,
        world: World,
        *,
        rates: Rates | None = None,
        api_key: str = API_KEY,
        tolerance: float = 0.05,
        ab_bulk: bool = True,
        **mb: Any,
    ):
        rates = rates or Rates()
        self.acoustid = FakeAcoustID(world, api_key=api_key, rate=rates.acoustid, tolerance=tolerance)
        self.musicbrainz = FakeMusicBrainz(world, rate=rates.musicbrainz, tolerance=tolerance, **mb)
        self.acousticbrainz = FakeAcousticBrainz(world, rate=rates.acousticbrainz, tolerance=tolerance, bulk=ab_bulk)
        self.coverart = FakeCoverArt(world, rate=rates.coverart, tolerance=tolerance)
        self.rates = rates
        self.api_key = api_key

    @property
    def all(self) -> dict[str, FakeService]:
        return {
            "acoustid": self.acoustid,
            "musicbrainz": self.musicbrainz,
            "acousticbrainz": self.acousticbrainz,
            "coverart": self.coverart,
        }

    def start(self) -> FakeServices:
        for fake in self.all.values():
            fake.start()
        return self

    def stop(self) -> None:
        for fake in self.all.values():
            fake.stop()

    def __enter__(self) -> FakeServices:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def settings_changes(self) -> dict[str, Any]:
        """Settings fields pointing the clients at the fakes, at the rates the fakes enforce."""
        changes: dict[str, Any] = {f"{name}_url": fake.url for name, fake in self.all.items()}
        for name in self.all:
            rate = getattr(self.rates, name)
            changes[f"{name}_rate"] = rate if rate is not None else 1000.0
        changes["acoustid_api_key"] = self.api_key
        return changes

    def counts(self) -> dict[str, int]:
        return {name: fake.count() for name, fake in self.all.items()}

    def throttled(self) -> dict[str, int]:
        return {name: fake.throttled for name, fake in self.all.items()}

    def reset(self) -> None:
        for fake in self.all.values():
            fake.reset()
