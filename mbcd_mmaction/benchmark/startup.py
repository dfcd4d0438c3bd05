"""Start-up cost of the command-line tools (``tools/benchmark.py
--startup``): the seconds until each tool's ``--help`` answers, and of the
imports every training pays once, each in a fresh interpreter."""
import glob
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

#: What a training imports before it can build a runner, then torch alone
#: for comparison.
IMPORTS = ('mbcd_mmaction.registration', 'torch')


def tool_scripts(root: str) -> List[str]:
    """The tools under ``root``: tools/*.py and tools/data/*.py."""
    return sorted(glob.glob(osp.join(root, 'tools', '*.py')) +
                  glob.glob(osp.join(root, 'tools', 'data', '*.py')))


def _seconds(argv: Sequence[str], root: str, repeats: int) -> float:
    """Median wall seconds of ``argv`` run from ``root``; a failing command
    is an error naming it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [root, os.environ.get('PYTHONPATH')])))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(list(argv), cwd=root, env=env,
                              capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f'{" ".join(argv)} exited {done.returncode}: '
                               f'{done.stderr[-1000:]}')
    return round(statistics.median(times), 3)


def startup_times(root: str, repeats: int = 3,
                  tools: Optional[Sequence[str]] = None,
                  imports: Sequence[str] = IMPORTS) -> Dict:
    """``help_seconds`` (tool path relative to ``root`` -> median seconds of
    ``python TOOL --help``), ``import_seconds`` (module -> median seconds of
    ``python -c "import MODULE"``), the slowest ``--help`` and the
    repeats."""
    tools = tool_scripts(root) if tools is None else list(tools)
    helps = {osp.relpath(t, root): _seconds([sys.executable, t, '--help'],
                                            root, repeats) for t in tools}
    imports = {m: _seconds([sys.executable, '-c', f'import {m}'], root,
                           repeats) for m in imports}
    slowest = max(helps, key=helps.get) if helps else None
    return dict(help_seconds=helps, import_seconds=imports,
                slowest_help=dict(tool=slowest, seconds=helps.get(slowest)),
                repeats=repeats)


def format_startup(result: Dict) -> str:
    """The start-up times as a table for the terminal."""
    rows = [(f'{tool} --help', seconds)
            for tool, seconds in result['help_seconds'].items()]
    rows += [(f'import {module}', seconds)
             for module, seconds in result['import_seconds'].items()]
    width = max(len(name) for name, _ in rows)
    out = [f'{"command".ljust(width)}  seconds (median of '
           f'{result["repeats"]})', f'{"-" * width}  -------']
    out += [f'{name.ljust(width)}  {seconds:7.3f}' for name, seconds in rows]
    return '\n'.join(out) + '\n'
