"""Resource quantities with units, normalised to the IR's units (MiB, cores).

Strings follow Kubernetes quantity notation
(https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/): ``Ki Mi Gi Ti``
are powers of 1024, ``K M G T`` (and ``KB MB GB TB``) powers of 1000, and a CPU of ``500m`` is
half a core. A bare number of memory or disk is MiB, as in Metaflow's ``@resources(memory=4096)``.
"""

from __future__ import annotations

import math
import re

__all__ = ["cpu_cores", "gpu_count", "mebibytes"]

_MIB = 1024 * 1024
_FACTORS = {
    "": _MIB,  # a bare number is MiB
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
    "ti": 1024**4,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
    "t": 1000**4,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
}
_QUANTITY = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*$")


def mebibytes(value: object) -> int:
    """Memory or disk in MiB (rounded up): ``4096`` / ``"4096"`` -> 4096, ``"4Gi"`` -> 4096.

    Raises:
        ValueError: not a positive quantity.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size")
    if isinstance(value, int | float):
        amount = float(value)
    elif isinstance(value, str):
        match = _QUANTITY.match(value)
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _FACTORS:
            raise ValueError(f"{value!r} is not a size (use MiB as a number, or units like 512Mi, 4Gi, 2G)")
        amount = float(match.group(1)) * _FACTORS[unit] / _MIB
    else:
        raise ValueError(f"{value!r} is not a size")
    if amount <= 0:
        raise ValueError(f"{value!r} is not a positive size")
    return math.ceil(amount - 1e-9)


def cpu_cores(value: object) -> float:
    """CPU cores: ``2`` -> 2.0, ``"0.5"`` -> 0.5, ``"500m"`` -> 0.5.

    Raises:
        ValueError: not a positive number of cores.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number of CPUs")
    if isinstance(value, int | float):
        cores = float(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            cores = float(text[:-1]) / 1000 if text.endswith("m") else float(text)
        except ValueError:
            raise ValueError(f"{value!r} is not a number of CPUs (use 2, 0.5 or 500m)") from None
    else:
        raise ValueError(f"{value!r} is not a number of CPUs")
    if not cores > 0 or math.isinf(cores):
        raise ValueError(f"{value!r} is not a positive number of CPUs")
    return cores


def gpu_count(value: object) -> int:
    """A whole number of GPUs (``0`` allowed).

    Raises:
        ValueError: not a whole, non-negative number.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number of GPUs")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a number of GPUs") from None
    if number < 0 or number != int(number):
        raise ValueError(f"{value!r} is not a whole number of GPUs")
    return int(number)
