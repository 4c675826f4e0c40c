"""One generic registry, used for readers, detectors, labellers and metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from gazekit.errors import GazekitError

T = TypeVar("T")


class Registry(Generic[T]):
    """Named collection of plug-ins of one kind.

    Parameters
    ----------
    kind : str
        What the registry holds, used in error messages ("reader", "detector", ...).

    Examples
    --------
    >>> detectors = Registry("detector")
    >>> @detectors.register("noop")
    ... def noop(x):
    ...     return x
    >>> detectors.get("noop")(3)
    3
    >>> detectors.names()
    ['noop']
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def add(self, name: str, item: T, *, overwrite: bool = False) -> T:
        """Register ``item`` under ``name``."""
        if name in self._items and not overwrite:
            raise GazekitError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def register(self, name: str, *, overwrite: bool = False) -> Callable[[T], T]:
        """Decorator form of :meth:`add`."""

        def deco(item: T) -> T:
            return self.add(name, item, overwrite=overwrite)

        return deco

    def get(self, name: str) -> T:
        """Return the item registered as ``name``; a clear error lists the known names."""
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise GazekitError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
