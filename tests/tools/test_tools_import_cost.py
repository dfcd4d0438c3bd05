"""The --help of every tool, and the torch-free tools, never import torch."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = sorted(glob.glob(osp.join(ROOT, 'tools', '*.py')) +
               glob.glob(osp.join(ROOT, 'tools', 'data', '*.py')))

PROBE = (
    "import runpy, sys\n"
    "sys.argv = [sys.argv[1]] + sys.argv[2:]\n"
    "try:\n"
    "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
    "except SystemExit:\n"
    "    pass\n"
    "heavy = sorted(m for m in ('torch', 'mmengine', 'mmaction') if m in sys.modules)\n"
    "print('HEAVY=' + ','.join(heavy))\n")


def _heavy_modules(tool, *args):
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = subprocess.run([sys.executable, '-c', PROBE, tool, *args],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    line = [x for x in out.stdout.splitlines() if x.startswith('HEAVY=')]
    assert line, out.stderr[-2000:]
    return line[-1][len('HEAVY='):]


@pytest.mark.parametrize('tool', TOOLS, ids=lambda p: osp.relpath(p, ROOT))
def test_help_imports_no_torch(tool):
    assert 'torch' not in _heavy_modules(tool, '--help').split(',')


@pytest.mark.parametrize('tool, args', [
    ('collect_results.py', ['--help']),
    ('list_experiments.py', []),
    ('sweep.py', ['--method', 'erm', 'mbcd', '--dataset', 'epic',
                  '--modalities', 'vaf', '--protocol', 'multi_source',
                  '--seeds', '0', '--dry-run']),
], ids=['collect_results', 'list_experiments', 'sweep --dry-run'])
def test_torch_free_tools_import_neither_torch_nor_mmaction(tool, args):
    heavy = _heavy_modules(osp.join(ROOT, 'tools', tool), *args)
    assert 'torch' not in heavy.split(',') and \
        'mmaction' not in heavy.split(','), heavy


def test_the_benchmark_offers_every_input_size():
    """``--size``'s choices (light, in the parser) are the sizes the
    benchmark has shapes for."""
    from mbcd_mmaction.benchmark.training import SHAPES
    from mbcd_mmaction.parsers import BENCHMARK_SIZES
    assert BENCHMARK_SIZES == tuple(SHAPES)


def test_startup_benchmark_times_each_tool_in_a_fresh_interpreter(tmp_path):
    """``tools/benchmark.py --startup``'s figures: one per tool given and
    per import, from processes that ran (a failing one is an error)."""
    from mbcd_mmaction.benchmark.startup import format_startup, startup_times
    tools = [osp.join(ROOT, 'tools', 'train.py'),
             osp.join(ROOT, 'tools', 'collect_results.py')]
    result = startup_times(ROOT, repeats=1, tools=tools, imports=['json'])
    assert set(result['help_seconds']) == {'tools/train.py',
                                           'tools/collect_results.py'}
    assert set(result['import_seconds']) == {'json'}
    assert all(s > 0 for s in [*result['help_seconds'].values(),
                               *result['import_seconds'].values()])
    assert result['slowest_help']['seconds'] == max(
        result['help_seconds'].values())
    assert 'tools/train.py --help' in format_startup(result)
    broken = tmp_path / 'broken.py'
    broken.write_text('raise SystemExit(3)\n')
    with pytest.raises(RuntimeError, match='broken.py --help exited 3'):
        startup_times(ROOT, repeats=1, tools=[str(broken)], imports=[])


@pytest.mark.parametrize('tool, args, message', [
    ('demo.py', ['--scenario', 'bogus'],
     "--scenario bogus: expected one of ['balanced', 'imbalance']"),
    ('cache_features.py', ['configs/mbcd/mbcd_epic_demo.py', '--splits',
                           'train', 'bogus'],
     "--splits bogus: expected one of ('train', 'val', 'test')"),
    ('cache_features.py', ['configs/mbcd/mbcd_epic_demo.py', '--dtype',
                           'int8'],
     "--dtype int8: expected one of ('float16', 'float32')"),
], ids=['demo --scenario', 'cache_features --splits',
        'cache_features --dtype'])
def test_choices_checked_after_the_late_imports(tool, args, message):
    """The choices that need the package are still checked, before
    anything runs: a usage error (exit 2) naming the value."""
    done = subprocess.run([sys.executable, osp.join(ROOT, 'tools', tool),
                           *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=ROOT))
    assert done.returncode == 2 and message in done.stderr, done.stderr
