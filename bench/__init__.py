"""Benchmarks. ``gas``: deterministic whole-transaction gas per operation, with a snapshot.

Throughput and latency benchmarks print figures; they are never timed tests. The names below load
on first use, so that the console can register ``bench soak`` without importing web3.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.gas import GasBench, gas_case, run_gas_bench

__all__ = ["GasBench", "gas_case", "run_gas_bench"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bench import gas

        return getattr(gas, name)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
