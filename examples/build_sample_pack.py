"""Build the sample pack: python examples/build_sample_pack.py [PLAYBOOK] [OUT]

With no PLAYBOOK the bundled example playbook is used; point it at a clone of the
public M3 playbook repository to get the whole engagement's starter pack.
"""
from __future__ import annotations

import sys
from pathlib import Path

import m3docs

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    playbook = m3docs.load_playbook(argv[0] if argv else None)
    out = Path(argv[1]) if len(argv) > 1 else Path("sample-pack")
    engagement = m3docs.load_engagement(HERE / "engagement.yaml", playbook)
    report = m3docs.build_pack(playbook, engagement, out)
    print(report.summary())
    for doc in report.documents:
        print(f"  {doc['path']}  ({doc['template']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
