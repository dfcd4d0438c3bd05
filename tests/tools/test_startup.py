"""The package root and the experiment tools are light: importing
``mbcd_mmaction.experiments`` and asking a tool for ``--help`` import
neither torch nor mmaction (no timing is asserted; ``python -X importtime``
shows what each imports)."""
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _imported(args):
    """Top-level modules a fresh interpreter imports for ``args``."""
    out = subprocess.run([sys.executable, '-X', 'importtime', *args],
                         cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line.split('|')[-1].strip() for line in out.stderr.splitlines()
             if line.startswith('import time:')]
    return {name.split('.')[0] for name in lines}


def test_experiments_package_imports_no_torch():
    mods = _imported(['-c', 'import mbcd_mmaction.experiments.grid, '
                      'mbcd_mmaction.experiments.collect, '
                      'mbcd_mmaction.experiments.sweep'])
    assert 'mbcd_mmaction' in mods
    assert not mods & {'torch', 'mmaction', 'mmcv'}, mods & {
        'torch', 'mmaction', 'mmcv'}


@pytest.mark.parametrize('tool', ['train', 'test', 'sweep', 'list_experiments',
                                  'collect_results'])
def test_tool_help_imports_no_torch(tool):
    mods = _imported([osp.join('tools', f'{tool}.py'), '--help'])
    assert not mods & {'torch', 'mmaction', 'mmcv'}, (tool, mods & {
        'torch', 'mmaction', 'mmcv'})


def test_registration_module_registers_everything():
    probe = ('import mbcd_mmaction.registration\n'
             'from mmaction.registry import HOOKS, MODELS\n'
             'print(MODELS.get("MBCD").__name__, '
             'HOOKS.get("TeacherUpdateHook").__name__)\n')
    out = subprocess.run([sys.executable, '-c', probe], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ['MBCD', 'TeacherUpdateHook']


def test_dataset_checker_does_not_import_the_models():
    probe = ('import sys\n'
             'import mbcd_mmaction.datasets.preparation.check\n'
             'print(sorted(m for m in sys.modules\n'
             '             if m.startswith("mbcd_mmaction.models")))\n')
    out = subprocess.run([sys.executable, '-c', probe], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == '[]'
