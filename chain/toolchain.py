"""Make the project's offline toolchain visible to this process (solc shim, anvil)."""

from __future__ import annotations

import os

from chain.settings import PROJECT_ROOT

SOLC_VERSION = "0.8.28"


def ensure_toolchain_env() -> None:
    """Point py-solc-x at the project's solc shim and put the project's .bin on PATH.

    Idempotent; values already set by the caller win.
    """
    os.environ.setdefault("SOLCX_BINARY_PATH", str(PROJECT_ROOT / ".solcx"))
    bin_dir = str(PROJECT_ROOT / ".bin")
    path = os.environ.get("PATH", "")
    if bin_dir not in path.split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, path]) if path else bin_dir
