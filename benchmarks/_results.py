"""What every benchmark records: the machine it ran on and a JSON file of its figures."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_info(**versions: object) -> dict[str, object]:
    """CPU, Python and library versions, and the load average when the run starts."""
    info: dict[str, object] = {
        "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(), **versions,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    if hasattr(os, "getloadavg"):
        info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    return info


def write_results(name: str, started: datetime, document: dict[str, object],
                  out: str | None = None) -> Path:
    """Write ``{"benchmark": name, started/finished, **document}``; returns the path."""
    machine = document.get("machine")
    if isinstance(machine, dict) and hasattr(os, "getloadavg"):
        machine["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = Path(out) if out else RESULTS_DIR / f"{name}-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"benchmark": name, "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"), **document}
    path.write_text(json.dumps(body, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(f"\nresults written to {path}")
    return path
