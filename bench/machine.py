"""One line describing the machine a benchmark ran on, printed with its figures."""

from __future__ import annotations

import os
import platform
from pathlib import Path

SIMD_FLAGS = {"avx2": "AVX2", "avx512f": "AVX-512", "avx512_bf16": "BF16", "avx512_vnni": "VNNI", "amx_tile": "AMX"}


def _cpu_info() -> dict[str, str]:
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    return info


def describe_machine() -> str:
    """The CPU by name, family and model (a cloud "AMD EPYC" may be any generation) and the vector
    instructions the figures depend on."""
    info = _cpu_info()
    model = info.get("model name") or platform.processor() or platform.machine()
    if "cpu family" in info:
        flags = set(info.get("flags", "").split())
        simd = ", ".join(name for flag, name in SIMD_FLAGS.items() if flag in flags)
        model += f" (family {info['cpu family']} model {info.get('model', '?')}; {simd or 'no AVX2'})"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{model}, {cores} cores usable ({os.cpu_count()} in the machine){load}, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
