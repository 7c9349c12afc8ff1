"""Benchmarks. ``gas``: deterministic whole-transaction gas per operation, with a snapshot.

Throughput and latency benchmarks print figures; they are never timed tests.
"""

from bench.gas import GasBench, gas_case, run_gas_bench

__all__ = ["GasBench", "gas_case", "run_gas_bench"]
