"""Progress reporting for long work: a callback that takes one line of text."""

from collections.abc import Callable

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A progress callback that prints nothing."""
    return None


__all__ = ["Progress", "quiet"]
