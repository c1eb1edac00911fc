"""A long list as a page shows it: its first items and how many there are in all (the rest is
named by a count and a link to where the whole list is: a page stays the same size whatever
the programme's)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shortened:
    """A list as a page shows it: its first items, and how many it holds in all."""

    first: list
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.first)


def shorten(items: list, shown: int | None) -> Shortened:
    """The first ``shown`` of ``items`` (None: all)."""
    return Shortened(items[:shown], len(items))
