"""Sweep work dirs -> the MBCD paper's tables (Markdown and CSV).

Torch-free (stdlib only). The run of a table cell and seed lives in
``<work_root>/<run name>[/opts_<hash>]/seed<N>`` (:mod:`.sweep`); the
tables, seeds, config pattern and options of the sweeps that ran are read
from the work root's ``sweep_manifest.json`` (:func:`collect_manifest`),
and a finished run that matches no cell is reported. Its number is

* ``source_val`` (default, the papers' rule and the tables'): the
  ``test_metrics`` of ``target_results.json``, i.e. the checkpoint with
  the best source-validation accuracy, tested on the target by
  ``tools/train.py``;
* ``oracle``: the best target accuracy over the epochs of
  ``eval_log.jsonl`` (:class:`.selection.Oracle`; marked as an oracle).

A cell shows ``mean ± std (n)`` in percent over the seeds found, ``std``
the sample standard deviation (ddof=1; ``—`` with one seed), and names
the seeds that are missing (no work dir), failed (``sweep_status.json``)
or unfinished; a cell without any number says which. ``Avg.`` is the mean
of the row's cell means, as in the paper, only when every cell has one.

``per_modality=True`` (:func:`render_modality_table`) gives every cell's
target accuracy fused and per modality and the fused minus the best
uni-modal accuracy (per seed, then averaged), at the selected checkpoint
and at the last epoch (``selection.last_epoch`` of the results: a view
that no selection rule decides).
"""
import csv
import io
import math
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import os

from . import grid
from .selection import SELECTIONS, read_eval_log
from .sweep import read_json_file, read_manifest, run_work_dir

RESULTS = 'target_results.json'
STATUS = 'sweep_status.json'
MODALITY_COLUMNS = (('Video', 'rgb'), ('Audio', 'audio'), ('Flow', 'flow'))
DATASET_NAMES = {'epic': 'EPIC-Kitchens', 'hac': 'HAC'}
CAPTIONS = {
    1: 'MBCD Table 1: multi-modal multi-source DG accuracy.',
    2: 'MBCD Table 2: multi-modal single-source DG accuracy, video + audio '
       '+ flow (S: source, T: target).',
    3: 'MBCD Table 3: multi-modal in-domain accuracy on EPIC-Kitchens.',
    8: 'MBCD Table 8: multi-modal single-source DG accuracy on '
       'EPIC-Kitchens with two modalities.',
    9: 'MBCD Table 9: multi-modal single-source DG accuracy on HAC with '
       'two modalities.',
    10: 'MBCD Table 10: multi-modal in-domain accuracy on EPIC-Kitchens '
        'with two modalities.',
}


@dataclass
class CellResult:
    """The seeds of one table cell."""
    values: Dict[int, float] = field(default_factory=dict)  # seed -> %
    missing: List[int] = field(default_factory=list)
    failed: List[int] = field(default_factory=list)
    unfinished: List[int] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> Optional[float]:
        return sum(self.values.values()) / self.n if self.n else None

    @property
    def std(self) -> Optional[float]:
        """Sample standard deviation (ddof=1); None below two seeds."""
        if self.n < 2:
            return None
        mean = self.mean
        return math.sqrt(sum((v - mean) ** 2 for v in self.values.values())
                         / (self.n - 1))

    def notes(self) -> str:
        parts = [f'{label} seed {",".join(map(str, seeds))}'
                 for label, seeds in (('missing', self.missing),
                                      ('failed', self.failed),
                                      ('unfinished', self.unfinished))
                 if seeds]
        return '; '.join(parts)

    def format(self) -> str:
        if not self.n:
            states = [s for s, seeds in (('failed', self.failed),
                                         ('unfinished', self.unfinished),
                                         ('missing', self.missing)) if seeds]
            return ' / '.join(states) or 'missing'
        std = '—' if self.std is None else f'{self.std:.2f}'
        text = f'{self.mean:.2f} ± {std} (n={self.n})'
        notes = self.notes()
        return f'{text} [{notes}]' if notes else text


def run_value(work_dir: str, metric: str, selection: str = 'source_val'
              ) -> Tuple[str, Optional[float]]:
    """``(state, value in %)`` of one run: state ``'ok'`` with a value, or
    ``'missing'``, ``'failed'``, ``'unfinished'`` without one."""
    if not osp.isdir(work_dir):
        return 'missing', None
    results = read_json_file(osp.join(work_dir, RESULTS))
    if results is None:
        status = read_json_file(osp.join(work_dir, STATUS)) or {}
        return ('failed' if status.get('state') == 'failed'
                else 'unfinished'), None
    if selection == 'source_val':
        metrics = results.get('test_metrics', {})
        if metric not in metrics:
            raise KeyError(f'{osp.join(work_dir, RESULTS)} has no '
                           f'{metric!r}; it has {sorted(metrics)}')
        return 'ok', 100.0 * float(metrics[metric])
    rule = SELECTIONS[selection]
    log = osp.join(work_dir, 'eval_log.jsonl')
    if not osp.isfile(log):
        return 'unfinished', None
    chosen = rule.select(read_eval_log(log), target_metric=metric)
    if chosen is None or chosen.target_score is None:
        return 'unfinished', None
    return 'ok', 100.0 * float(chosen.target_score)


def table_methods(methods: Optional[Sequence[str]] = None) -> List[str]:
    """Rows of the method tables: the paper's (:data:`grid.PAPER_ROWS`),
    then every other method of the grid; or ``methods``."""
    if methods:
        return list(methods)
    return list(grid.PAPER_ROWS) + [m for m in grid.METHODS
                                    if m not in grid.PAPER_ROWS]


def table_cells(table, methods: Optional[Sequence[str]] = None,
                datasets: Optional[Sequence[str]] = None,
                pattern: str = grid.CONFIG_PATTERN) -> List:
    """The grid cells of a table (ablation tables: their rows)."""
    if table in grid.ABLATIONS:
        return [c for c in grid.ablation_cells(table)
                if not datasets or c.dataset in datasets]
    return grid.table_cells([table], table_methods(methods), datasets,
                            pattern=pattern)


def table_layout(cells) -> Tuple[List, List]:
    """Rows ``(key, label, modalities)`` and columns ``(dataset, column)``
    in the paper's order (method tables: grouped by modalities)."""
    if cells and cells[0].label:
        rows = list(dict.fromkeys((c.method, c.label, c.modalities)
                                  for c in cells))
    else:
        mods_order = list(dict.fromkeys(c.modalities for c in cells))
        methods = list(dict.fromkeys(c.method for c in cells))
        rows = [(m, grid.METHOD_NAMES.get(m, m), mods)
                for mods in mods_order for m in methods]
    columns = list(dict.fromkeys((c.dataset, c.column) for c in cells))
    return rows, columns


def collect_table(cells, work_root: str, seeds: Sequence[int],
                  selection: str = 'source_val',
                  extra_options: Sequence[str] = (),
                  used: Optional[set] = None) -> Dict:
    """``{(row key, mods): {(dataset, column): CellResult}}``; the work
    dirs looked at are added to ``used``."""
    out: Dict = {}
    for cell in cells:
        result = CellResult()
        for seed in seeds:
            work_dir = run_work_dir(work_root, cell.run_name, seed,
                                    extra_options)
            if used is not None:
                used.add(osp.abspath(work_dir))
            state, value = run_value(work_dir, cell.metric, selection)
            if state == 'ok':
                result.values[seed] = value
            else:
                getattr(result, state).append(seed)
        out.setdefault((cell.method, cell.modalities), {})[
            (cell.dataset, cell.column)] = result
    return out


def _avg(results: Sequence[CellResult]) -> str:
    means = [r.mean for r in results]
    if not means or any(m is None for m in means):
        return '—'
    return f'{sum(means) / len(means):.2f}'


def caption(table, selection: str, seeds: Sequence[int]) -> str:
    head = grid.ABLATIONS[table][0] if table in grid.ABLATIONS \
        else CAPTIONS[table]
    return (f'{head} Top-1 accuracy (%), mean ± sample std (ddof=1) over '
            f'seeds {list(seeds)}, n = seeds with a result; '
            f'{SELECTIONS[selection].description}.')


def render_table(table, cells, results: Dict, selection: str,
                 seeds: Sequence[int]) -> Tuple[str, List[List[str]]]:
    """Markdown of one table and its long-format CSV rows."""
    rows, columns = table_layout(cells)
    datasets = list(dict.fromkeys(d for d, _ in columns))
    header = ['Method'] + [name for name, _ in MODALITY_COLUMNS]
    for dataset in datasets:
        header += [f'{DATASET_NAMES[dataset]} {col}'
                   for d, col in columns if d == dataset]
        header.append(f'{DATASET_NAMES[dataset]} Avg.')
    lines = [f'### Table {table}', '', caption(table, selection, seeds), '',
             '| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    csv_rows = []
    for key, label, mods in rows:
        cells = results.get((key, mods), {})
        used = grid.MODALITIES[mods]
        line = [label] + ['✓' if m in used else '' for _, m in
                          MODALITY_COLUMNS]
        for dataset in datasets:
            row_cells = [cells[(d, col)] for d, col in columns
                         if d == dataset]
            line += [r.format() for r in row_cells]
            line.append(_avg(row_cells))
        lines.append('| ' + ' | '.join(line) + ' |')
        for (dataset, column), r in cells.items():
            csv_rows.append([
                table, label, mods, dataset, column,
                '' if r.mean is None else f'{r.mean:.4f}',
                '' if r.std is None else f'{r.std:.4f}', r.n,
                ' '.join(f'{s}:{v:.4f}' for s, v in sorted(r.values.items())),
                ' '.join(map(str, r.missing)), ' '.join(map(str, r.failed)),
                ' '.join(map(str, r.unfinished)), selection])
    return '\n'.join(lines) + '\n', csv_rows


CSV_HEADER = ['table', 'row', 'modalities', 'dataset', 'column', 'mean',
              'std', 'n', 'values', 'missing_seeds', 'failed_seeds',
              'unfinished_seeds', 'selection']


#: the views of :func:`render_modality_table`: (name, where in
#: ``target_results.json`` the target metrics are)
MODALITY_VIEWS = (('selected', ('test_metrics',)),
                  ('last epoch', ('selection', 'last_epoch', 'target')))
MODALITY_CSV_HEADER = ['table', 'row', 'modalities', 'dataset', 'column',
                       'view', 'quantity', 'mean', 'std', 'n', 'values',
                       'missing_seeds', 'failed_seeds', 'unfinished_seeds']


def _view_metrics(results: dict, path: Sequence[str], results_file: str
                  ) -> Dict[str, float]:
    metrics = results
    for key in path:
        metrics = metrics.get(key) if isinstance(metrics, dict) else None
    if not isinstance(metrics, dict):
        raise KeyError(f'{results_file} has no {".".join(path)} (written by '
                       'an older tools/train.py?); re-run the cell or '
                       'collect without --per-modality.')
    return metrics


def modality_values(work_dir: str, modalities: Sequence[str]
                    ) -> Tuple[str, Dict[str, Dict[str, float]]]:
    """``(state, {view: {quantity: value in %}})`` of one run: quantities
    ``fused``, each of ``modalities`` and ``fused - best uni``."""
    state, _ = run_value(work_dir, 'acc/fused_top1')
    if state != 'ok':
        return state, {}
    results_file = osp.join(work_dir, RESULTS)
    results = read_json_file(results_file)
    out = {}
    for view, path in MODALITY_VIEWS:
        metrics = _view_metrics(results, path, results_file)
        values = {}
        for name in ('fused', *modalities):
            key = f'acc/{name}_top1'
            if key not in metrics:
                raise KeyError(f'{results_file}: {".".join(path)} has no '
                               f'{key!r}; it has {sorted(metrics)}')
            values[name] = 100.0 * float(metrics[key])
        values['fused - best uni'] = values['fused'] - max(
            values[m] for m in modalities)
        out[view] = values
    return state, out


def render_modality_table(table, cells, work_root: str,
                          seeds: Sequence[int],
                          extra_options: Sequence[str] = (),
                          used: Optional[set] = None
                          ) -> Tuple[str, List[List[str]]]:
    """Markdown and long-format CSV rows of ``cells`` with the target
    accuracy fused and per modality and fused minus the best uni-modal
    one, at the selected checkpoint and at the last epoch."""
    all_mods = [m for _, m in MODALITY_COLUMNS]
    header = ['Method', 'Target', 'View', 'Fused'] + [
        name for name, _ in MODALITY_COLUMNS] + ['Fused − best uni']
    lines = [f'### Table {table}: fused and per modality', '',
             f'Target top-1 accuracy (%), mean ± sample std (ddof=1) over '
             f'seeds {list(seeds)}, n = seeds with a result; "selected": '
             f'the checkpoint of {SELECTIONS["source_val"].description}; '
             '"last epoch": the last epoch\'s model, no selection. '
             '"Fused − best uni": per seed, the fused accuracy minus the '
             'best of its own modalities.', '',
             '| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    csv_rows = []
    # cells without any run; (modalities, target) groups with one
    skipped, shown = [], set()
    for cell in cells:
        mods = [m for m in all_mods if m in grid.MODALITIES[cell.modalities]]
        per_view = {view: {} for view, _ in MODALITY_VIEWS}
        states: Dict[str, List[int]] = {}
        for seed in seeds:
            work_dir = run_work_dir(work_root, cell.run_name, seed,
                                    extra_options)
            if used is not None:
                used.add(osp.abspath(work_dir))
            state, views = modality_values(work_dir, mods)
            if state != 'ok':
                states.setdefault(state, []).append(seed)
            for view, values in views.items():
                for quantity, value in values.items():
                    per_view[view].setdefault(
                        quantity, CellResult()).values[seed] = value
        target = f'{DATASET_NAMES[cell.dataset]} {cell.column}'
        label = grid.METHOD_NAMES.get(cell.method, cell.method)
        group = (cell.modalities, target)
        if states.get('missing') == list(seeds):
            skipped.append((group, f'{label} ({cell.modalities}) {target}'))
            continue
        shown.add(group)
        for view, _ in MODALITY_VIEWS:
            line = [label, target, view]
            for quantity in ['fused'] + all_mods + ['fused - best uni']:
                if quantity in all_mods and quantity not in mods:
                    line.append('')
                    continue
                result = per_view[view].get(quantity, CellResult())
                for state, missed in states.items():
                    setattr(result, state, list(missed))
                line.append(result.format())
                csv_rows.append([
                    table, label, cell.modalities, cell.dataset, cell.column,
                    view, quantity,
                    '' if result.mean is None else f'{result.mean:.4f}',
                    '' if result.std is None else f'{result.std:.4f}',
                    result.n, ' '.join(f'{s}:{v:.4f}' for s, v in
                                       sorted(result.values.items())),
                    ' '.join(map(str, result.missing)),
                    ' '.join(map(str, result.failed)),
                    ' '.join(map(str, result.unfinished))])
            lines.append('| ' + ' | '.join(line) + ' |')
    # a method missing beside others that ran is named; a target and
    # modalities nobody ran (not part of this sweep) are only counted
    missing = [name for group, name in skipped if group in shown]
    empty = {group for group, _ in skipped if group not in shown}
    if missing:
        lines += ['', 'No run for: ' + '; '.join(missing) + '.']
    if empty:
        lines += ['', f'{len(empty)} target(s) x modalities of the table '
                  'without any run (no work dir for any seed) are left '
                  'out.']
    return '\n'.join(lines) + '\n', csv_rows


def finished_runs(work_root: str) -> List[str]:
    """Every work dir under ``work_root`` with a ``target_results.json``."""
    found = []
    for directory, subdirs, files in os.walk(work_root):
        subdirs[:] = [d for d in subdirs if not d.startswith('.')]
        if RESULTS in files:
            found.append(osp.abspath(directory))
    return sorted(found)


def unmatched_warning(work_root: str, used: set) -> Optional[str]:
    """A warning naming the finished runs of ``work_root`` that no
    collected cell looked at (None if there are none)."""
    unmatched = [d for d in finished_runs(work_root) if d not in used]
    if not unmatched:
        return None
    shown = ', '.join(osp.relpath(d, work_root) for d in unmatched[:5])
    return (f'WARNING: {len(unmatched)} finished run(s) in {work_root} '
            f'match no cell of these tables ({shown}'
            f'{" ..." if len(unmatched) > 5 else ""}). Give the sweep\'s '
            '--table / --seeds / --config-pattern / --cfg-options, or '
            'collect without them to read the sweep manifest.')


def _check_selection(selection: str) -> None:
    if selection not in SELECTIONS:
        raise KeyError(f'selection {selection!r}: expected one of '
                       f'{sorted(SELECTIONS)}')


def collect(work_root: str, tables: Sequence, seeds: Sequence[int],
            selection: str = 'source_val',
            methods: Optional[Sequence[str]] = None,
            datasets: Optional[Sequence[str]] = None,
            pattern: str = grid.CONFIG_PATTERN,
            extra_options: Sequence[str] = (),
            used: Optional[set] = None,
            per_modality: bool = False) -> Tuple[str, str]:
    """(Markdown, CSV) of ``tables`` (rows: every method of the paper
    tables and the grid unless ``methods`` is given) for the sweep runs
    with ``extra_options``; the work dirs looked at are added to
    ``used``. ``per_modality``: :func:`render_modality_table`'s layout
    (source-validation selection only)."""
    _check_selection(selection)
    if per_modality and selection != 'source_val':
        raise ValueError(f'per_modality reports the selected checkpoint '
                         f'and the last epoch; selection={selection!r} is '
                         "not one of them (use 'source_val').")
    parts, csv_rows = [], []
    for table in tables:
        table = grid.parse_table(table)
        cells = table_cells(table, methods, datasets, pattern)
        if per_modality:
            md, rows = render_modality_table(table, cells, work_root, seeds,
                                             extra_options, used)
        else:
            md, rows = render_table(
                table, cells, collect_table(cells, work_root, seeds,
                                            selection, extra_options, used),
                selection, seeds)
        if extra_options:
            md = md.replace('\n', f'\n\nOptions added to every run: '
                            f'`{" ".join(extra_options)}`\n', 1)
        parts.append(md)
        csv_rows += rows
    return '\n'.join(parts), _csv(
        csv_rows, MODALITY_CSV_HEADER if per_modality else CSV_HEADER)


def collect_manifest(work_root: str, selection: str = 'source_val',
                     methods: Optional[Sequence[str]] = None,
                     datasets: Optional[Sequence[str]] = None,
                     per_modality: bool = False
                     ) -> Tuple[str, str, Optional[str]]:
    """(Markdown, CSV, warning) of every grid sweep recorded in
    ``<work_root>/sweep_manifest.json``: its tables, seeds, config pattern
    and added options, as it ran them (sweeps of one config are not
    tables and are skipped). The warning (None if none) names finished
    runs that match no cell."""
    manifest = read_manifest(work_root)
    if manifest is None:
        raise FileNotFoundError(
            f'{work_root} has no sweep_manifest.json (no sweep was launched '
            'there): give --table / --seeds / --config-pattern.')
    groups: Dict = {}
    for sweep in manifest.get('sweeps', []):
        if sweep.get('config'):
            continue
        key = (sweep.get('config_pattern') or grid.CONFIG_PATTERN,
               tuple(sweep.get('cfg_options') or ()))
        group = groups.setdefault(key, dict(tables=[], seeds=[], methods=[],
                                            datasets=[]))
        recorded = dict(sweep, tables=sweep.get('tables') or ['1'],
                        seeds=sweep.get('seeds') or [])
        for field, have in group.items():
            # the union over the sweeps; None (a sweep of every method or
            # dataset) absorbs the rest
            values = recorded.get(field)
            if have is None or values is None:
                group[field] = None
            else:
                have += [v for v in values if v not in have]
    parts, csv_parts = [], []
    used = set()
    for (pattern, extra), group in groups.items():
        markdown, table_csv = collect(
            work_root, group['tables'], sorted(group['seeds']), selection,
            methods or group['methods'], datasets or group['datasets'],
            pattern, extra, used, per_modality)
        parts.append(markdown)
        csv_parts.append(table_csv if not csv_parts else
                         table_csv.split('\n', 1)[1])
    return '\n'.join(parts), ''.join(csv_parts), \
        unmatched_warning(work_root, used)


def _csv(csv_rows, header: Sequence[str] = CSV_HEADER) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(header)
    writer.writerows(csv_rows)
    return buffer.getvalue()
