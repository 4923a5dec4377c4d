"""Peak host memory per step (Linux ``/proc``; None where unavailable)."""
from __future__ import annotations


def reset_peak_rss() -> None:
    """Restart the process's resident-set high-water mark (Linux only)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_bytes() -> int | None:
    """The resident-set high-water mark (VmHWM) in bytes, or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
