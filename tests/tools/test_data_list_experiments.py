"""tools/list_experiments.py: every table cell maps to an existing config,
a protocol that yields the cell's domains, and a metric key the run
reports; the tool stays torch-free."""
import json
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _grid():
    from mbcd_mmaction.experiments import grid
    return grid


def test_cell_counts_per_table():
    grid = _grid()
    count = {t: len(grid.table_cells([t], methods=['mbcd']))
             for t in grid.TABLES}
    # T1: 2 datasets x 4 combos x 3 targets; T2: 2 x 6; T3: 3;
    # T8/T9: 3 combos x 6; T10: 3 x 3
    assert count == {1: 24, 2: 12, 3: 3, 8: 18, 9: 18, 10: 9}
    cells = grid.table_cells()
    assert len(grid.unique_runs(cells)) < len(cells)  # single-source shares


@pytest.mark.slow
def test_every_cell_resolves_to_its_domains():
    pytest.importorskip('mmengine')
    from mmengine.config import Config
    from mbcd_mmaction.datasets import apply_protocol
    grid = _grid()
    full = {'D1': 'D1', 'D2': 'D2', 'D3': 'D3', 'H': 'human',
            'A': 'animal', 'C': 'cartoon'}
    cache = {}
    for cell in grid.table_cells():
        assert osp.isfile(osp.join(REPO, cell.config)), cell.config
        if cell.config not in cache:
            cache[cell.config] = Config.fromfile(osp.join(REPO, cell.config))
        cfg = Config(cache[cell.config].to_dict())
        cfg.merge_from_dict(dict(cell.options))
        apply_protocol(cfg)
        assert tuple(cfg.model.modalities) == grid.MODALITIES[
            cell.modalities]
        assert cfg.test_evaluator.type == 'DomainAccMetric' or \
            cell.metric == 'acc/fused_top1'
        train = cfg.train_dataloader.dataset.domains
        test = cfg.test_dataloader.dataset.domains
        if cell.protocol == 'single_source':
            s, t = cell.column.replace('S:', '').replace('T:', '').split()
            assert train == [full[s]] and full[t] in test
            assert cell.metric == f'acc/{full[t]}/fused_top1'
        else:
            sources, target = cell.column.split('->')
            assert train == [full[x] for x in sources.split(',')]
            want = [full[target]] if cell.protocol == 'multi_source' \
                else train
            assert test == want
            if cell.dataset == 'hac' and cell.protocol == 'multi_source':
                assert cfg.test_dataloader.dataset.split == 'all'


def test_tool_prints_commands_without_torch():
    probe = (
        'import runpy, sys\n'
        'sys.argv = ["x", "--table", "9", "--method", "mbcd", "--json"]\n'
        'try:\n'
        '    runpy.run_path("tools/list_experiments.py", '
        'run_name="__main__")\n'
        'except SystemExit:\n'
        '    pass\n'
        'print("TORCH" if "torch" in sys.modules else "NOTORCH")\n')
    out = subprocess.run([sys.executable, '-c', probe], cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    body, flag = out.stdout.rsplit('\n', 2)[0], out.stdout.split()[-1]
    assert flag == 'NOTORCH'
    cells = json.loads(body)
    assert len(cells) == 18
    assert cells[0]['command'] == (
        'python tools/train.py configs/mbcd/mbcd_hac.py --cfg-options '
        'protocol=single_source source_domain=human modalities=va')
