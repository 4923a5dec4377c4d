"""Print the README's two commands, one per line: the bash blocks under its heading "The two commands".

CI runs them exactly as written (``.ci/run``), and ``tests/cli/test_packaging.py``
checks that the README still has them, so the README and CI cannot drift.
"""
from __future__ import annotations

import re
import sys

HEADING = "## The two commands"


def commands(text: str) -> list[str]:
    """The ```bash blocks between ``HEADING`` and the next ``## `` heading, each as one line."""
    start = text.index(HEADING) + len(HEADING)
    end = text.find("\n## ", start)
    section = text[start:] if end < 0 else text[start:end]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    # A block may continue its command over lines with a trailing backslash.
    return [" ".join(line.strip().removesuffix("\\").strip() for line in block.strip().splitlines())
            for block in blocks]


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        print("\n".join(commands(f.read())))
