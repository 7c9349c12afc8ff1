"""didkit's exception class, typed (its stub declares it as an instance, not a class)."""

from __future__ import annotations

from typing import cast

import didkit

DIDKitException = cast(type[Exception], didkit.DIDKitException)
