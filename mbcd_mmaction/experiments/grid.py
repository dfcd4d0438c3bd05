"""Every cell of the MBCD paper's result tables as a config + options.

Stdlib only (no torch, no mmengine): ``tools/list_experiments.py``,
``tools/sweep.py`` and ``tools/collect_results.py`` load this file directly.

Scheme (``configs/`` relative to the repository root). Every protocol is an
option of the same config (``MMDGRunner`` applies it when the runner is
built, so the stock tools honour it too):

* Table 1, multi-source, EPIC / HAC, va / vf / af / vaf:
  ``configs/{family}/{method}_{dataset}.py --cfg-options target_domain=T
  modalities={mods}``;
  the cell is ``test_metrics["acc/fused_top1"]`` of ``target_results.json``.
* Tables 2 (vaf), 8 (EPIC va/vf/af), 9 (HAC va/vf/af), single-source:
  the same config ``--cfg-options protocol=single_source
  source_domain=S``; one run tests both targets, cell ``S -> T`` is
  ``acc/T/fused_top1``.
* Tables 3 (vaf) and 10 (va/vf/af), in-domain, EPIC: columns "D2,D3->D1"
  are the multi-source run's sources tested on their own test splits:
  ``--cfg-options protocol=in_domain target_domain=T``; cell
  ``acc/fused_top1`` (pooled over the two sources' test splits).
* Ablation tables (:data:`ABLATIONS`): MBCD Table 4 (each design), Table 5
  (dropout strategies) and GMP's ablation table, multi-source, one config
  per row (in ``configs/mbcd/`` and ``configs/gmp/``, see their READMEs).

A method is found, not listed: :func:`method_configs` reads the method
folders (``configs/<family>/<method>_<dataset>.py``), so a new method
appears in every tool once its class is registered and its folder of
configs exists.
"""
import os
import os.path as osp
import re
from dataclasses import asdict, dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

#: the repository's ``configs/`` (the method folders)
CONFIG_ROOT = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs')
#: display order of the methods in listings and tables; a method not named
#: here follows them (alphabetically), its GMP variant likewise
ROW_ORDER = ('erm', 'ema', 'rna', 'simmmdg', 'moosa', 'cmrf', 'mbcd')
#: rows every paper table has (MBCD Tables 1-3, 8-10), in order
PAPER_ROWS = ('erm', 'rna', 'simmmdg', 'moosa', 'cmrf', 'mbcd')
#: where a method's config lives (``family``: :func:`method_family`)
CONFIG_PATTERN = 'configs/{family}/{method}_{dataset}.py'
MODALITIES = {'va': ('rgb', 'audio'), 'vf': ('rgb', 'flow'),
              'af': ('flow', 'audio'), 'vaf': ('rgb', 'flow', 'audio')}
DOMAINS = {'epic': ('D1', 'D2', 'D3'),
           'hac': ('human', 'animal', 'cartoon')}
SHORT = {'D1': 'D1', 'D2': 'D2', 'D3': 'D3', 'human': 'H', 'animal': 'A',
         'cartoon': 'C'}
TRAIN_TOOL = 'python tools/train.py'


def method_family(method: str) -> str:
    """The config folder of ``method``: a GMP variant lives beside its
    method (``mbcd_gmp`` in ``configs/mbcd/``); GMP on ERM is the GMP
    paper's own method (``configs/gmp/``)."""
    if method != 'gmp' and method.endswith('_gmp'):
        return method[:-len('_gmp')]
    return method


def method_configs(dataset: str = 'epic',
                   config_root: str = CONFIG_ROOT) -> Dict[str, str]:
    """``{method: config path}`` of every method with a config for
    ``dataset``: each ``<config_root>/<folder>/<method>_<dataset>.py`` whose
    method belongs in that folder (:func:`method_family`), in display order
    (:func:`sort_methods`). Demo, ablation and example configs have other
    names and are not methods.

    This is the one list of methods: the grid, the sweep, the generic
    every-method test and the benchmark all read it, so a method is added
    by adding its class and its folder of configs.
    """
    found = {}
    for folder in sorted(os.listdir(config_root)):
        path = osp.join(config_root, folder)
        if folder.startswith('_') or not osp.isdir(path):
            continue
        for name in sorted(os.listdir(path)):
            match = re.fullmatch(rf'(\w+)_{dataset}\.py', name)
            if match and method_family(match.group(1)) == folder:
                found[match.group(1)] = osp.join(path, name)
    return {m: found[m] for m in sort_methods(found)}


def discover_methods(config_root: str = CONFIG_ROOT) -> Tuple[str, ...]:
    """Every method with a config for any dataset of :data:`DOMAINS`, in
    display order."""
    found = set()
    for dataset in DOMAINS:
        found.update(method_configs(dataset, config_root))
    return sort_methods(found)


def sort_methods(methods) -> Tuple[str, ...]:
    """Display order: the methods (:data:`ROW_ORDER`, then the others
    alphabetically), then their GMP variants in the same order."""
    def key(method):
        base = 'erm' if method == 'gmp' else method_family(method)
        is_variant = base != method
        rank = ROW_ORDER.index(base) if base in ROW_ORDER else len(ROW_ORDER)
        return is_variant, rank, base
    return tuple(sorted(methods, key=key))


def display_name(method: str, config_root: str = CONFIG_ROOT) -> str:
    """A method's name in the tables: the ``Name`` of the collection in its
    folder's ``metafile.yml`` (``MBCD``), ``+GMP`` appended for a GMP variant
    (``gmp`` itself is ``ERM+GMP``); the method's prefix when the folder has
    no metafile."""
    if method == 'gmp':
        return f"{display_name('erm', config_root)}+GMP"
    family = method_family(method)
    name = family
    metafile = osp.join(config_root, family, 'metafile.yml')
    if osp.isfile(metafile):
        with open(metafile) as f:
            match = re.search(r'^Collections:\s*\n\s*-\s*Name:\s*(.+?)\s*$',
                              f.read(), re.M)
        if match:
            name = match.group(1).strip('\'"')
    return name if family == method else f'{name}+GMP'


#: every method of the shipped configs, in display order
METHODS = discover_methods()
#: display name of each method in the tables
METHOD_NAMES = {m: display_name(m) for m in METHODS}


def gmp_variant(method: str) -> str:
    """Config prefix of ``method`` with GMP added (GMP on ERM is the GMP
    paper's own method, ``gmp``)."""
    return 'gmp' if method == 'erm' else f'{method}_gmp'


@dataclass(frozen=True)
class Cell:
    """One number of a paper table and the run that produces it."""
    table: int
    protocol: str         # multi_source | single_source | in_domain
    dataset: str          # epic | hac
    modalities: str       # va | vf | af | vaf
    method: str           # a prefix of METHODS
    column: str           # the table's column, e.g. 'D2,D3->D1', 'S:D1 T:D2'
    config: str
    options: Tuple[Tuple[str, str], ...]
    metric: str           # key of target_results.json's test_metrics
    label: str = ''       # row label of an ablation table

    @property
    def run_name(self) -> str:
        """Work-dir name of the run: ``<name>/<protocol>_<domain>``, where
        ``<name>`` is the config stem with the modalities appended unless the
        stem already ends with them (cells of one single-source run share
        it)."""
        stem = self.config.rsplit('/', 1)[-1][:-len('.py')]
        if not stem.endswith(f'_{self.modalities}'):
            stem = f'{stem}_{self.modalities}'
        opts = dict(self.options)
        domain = opts.get('source_domain') if \
            self.protocol == 'single_source' else opts.get('target_domain')
        return f'{stem}/{self.protocol}_{domain}'

    @property
    def run_id(self) -> str:
        """Identifies the training run (cells of one single-source run
        share it)."""
        opts = ','.join(f'{k}={v}' for k, v in self.options)
        return f'{self.config}:{opts}'

    def command(self, tool: str = TRAIN_TOOL) -> str:
        opts = ' '.join(f'{k}={v}' for k, v in self.options)
        return f'{tool} {self.config}' + (f' --cfg-options {opts}'
                                          if opts else '')

    def to_dict(self) -> Dict:
        d = asdict(self)
        d['options'] = dict(self.options)
        d['command'] = self.command()
        return d


def _config(method, dataset, pattern) -> str:
    return pattern.format(family=method_family(method), method=method,
                          dataset=dataset)


def _multi_source(table, dataset, mods, method,
                  pattern=CONFIG_PATTERN) -> Iterator[Cell]:
    domains = DOMAINS[dataset]
    for target in domains:
        sources = ','.join(SHORT[d] for d in domains if d != target)
        yield Cell(table, 'multi_source', dataset, mods, method,
                   f'{sources}->{SHORT[target]}',
                   _config(method, dataset, pattern),
                   (('target_domain', target), ('modalities', mods)),
                   'acc/fused_top1')


def _single_source(table, dataset, mods, method,
                   pattern=CONFIG_PATTERN) -> Iterator[Cell]:
    domains = DOMAINS[dataset]
    for source in domains:
        for target in domains:
            if target == source:
                continue
            yield Cell(
                table, 'single_source', dataset, mods, method,
                f'S:{SHORT[source]} T:{SHORT[target]}',
                _config(method, dataset, pattern),
                (('protocol', 'single_source'), ('source_domain', source),
                 ('modalities', mods)),
                f'acc/{target}/fused_top1')


def _in_domain(table, dataset, mods, method,
               pattern=CONFIG_PATTERN) -> Iterator[Cell]:
    domains = DOMAINS[dataset]
    for target in domains:
        sources = ','.join(SHORT[d] for d in domains if d != target)
        yield Cell(table, 'in_domain', dataset, mods, method,
                   f'{sources}->{SHORT[target]}',
                   _config(method, dataset, pattern),
                   (('protocol', 'in_domain'), ('target_domain', target),
                    ('modalities', mods)),
                   'acc/fused_top1')


#: table -> (protocol generator, datasets, modality combinations)
TABLES = {
    1: (_multi_source, ('epic', 'hac'), ('va', 'vf', 'af', 'vaf')),
    2: (_single_source, ('epic', 'hac'), ('vaf', )),
    3: (_in_domain, ('epic', ), ('vaf', )),
    8: (_single_source, ('epic', ), ('va', 'vf', 'af')),
    9: (_single_source, ('hac', ), ('va', 'vf', 'af')),
    10: (_in_domain, ('epic', ), ('va', 'vf', 'af')),
}


#: ablation table -> (caption, dataset, modalities, rows (label, config))
ABLATIONS = {
    4: ('MBCD Table 4: ablation on each design (EPIC-Kitchens, flow + '
        'audio). AMD: adaptive modality dropout, GCC: gradient consistency, '
        'EMA: teacher, DL: distillation.', 'epic', 'af', (
            ('ERM', 'configs/erm/erm_epic.py'),
            ('EMA', 'configs/mbcd/table4_ema_epic_af.py'),
            ('AMD + EMA', 'configs/mbcd/table4_ema_amd_epic_af.py'),
            ('GCC + EMA', 'configs/mbcd/table4_ema_gcc_epic_af.py'),
            ('EMA + DL', 'configs/mbcd/table4_ema_dl_epic_af.py'),
            ('AMD + GCC + EMA + DL (MBCD)', 'configs/mbcd/mbcd_epic.py'))),
    5: ('MBCD Table 5: dropout strategies (flow + audio; the paper uses '
        'HAC, these configs EPIC-Kitchens).', 'epic', 'af', (
            ('w/o dropout', 'configs/mbcd/table5_nodrop_epic_af.py'),
            ('fix dropout', 'configs/mbcd/table5_fixdrop_epic_af.py'),
            ('adaptive dropout (MBCD)', 'configs/mbcd/mbcd_epic.py'))),
    'gmp': ('GMP ablation (EPIC-Kitchens, video + audio).', 'epic', 'va', (
        ('baseline (ERM)', 'configs/erm/erm_epic.py'),
        ('modulation only',
         'configs/gmp/gmp_modulation_only_epic_va.py'),
        ('projection only',
         'configs/gmp/gmp_projection_only_epic_va.py'),
        ('one shared coefficient',
         'configs/gmp/gmp_shared_coef_epic_va.py'),
        ('w/o k', 'configs/gmp/gmp_wo_k_epic_va.py'),
        ('w/o p', 'configs/gmp/gmp_wo_p_epic_va.py'),
        ('always project classification',
         'configs/gmp/gmp_proj_cls_epic_va.py'),
        ('always project domain',
         'configs/gmp/gmp_proj_dom_epic_va.py'),
        ('PCGrad', 'configs/gmp/gmp_pcgrad_epic_va.py'),
        ('reversed projection', 'configs/gmp/gmp_reversed_epic_va.py'),
        ('full GMP', 'configs/gmp/gmp_epic.py'))),
}


def parse_table(name) -> object:
    """``'1'`` -> 1, ``'gmp'`` -> ``'gmp'``; KeyError if no such table."""
    table = int(name) if str(name).isdigit() else str(name)
    if table not in TABLES and table not in ABLATIONS:
        raise KeyError(f'table {name!r}: the tables are '
                       f'{sorted(TABLES) + sorted(ABLATIONS, key=str)}.')
    return table


def ablation_cells(table) -> List[Cell]:
    """The cells of the ablation table ``table`` (a key of
    :data:`ABLATIONS`), one row per config, multi-source."""
    _, dataset, mods, rows = ABLATIONS[table]
    cells = []
    for label, config in rows:
        method = config.rsplit('/', 1)[-1][:-len('.py')]
        if not method.endswith(f'_{mods}'):
            method = f'{method}_{mods}'
        for cell in _multi_source(table, dataset, mods, method):
            cells.append(Cell(**{**asdict(cell), 'config': config,
                                 'options': cell.options, 'label': label}))
    return cells


def table_cells(tables: Optional[Sequence] = None,
                methods: Sequence[str] = METHODS,
                datasets: Optional[Sequence[str]] = None,
                modalities: Optional[Sequence[str]] = None,
                pattern: str = CONFIG_PATTERN) -> List[Cell]:
    """The cells of ``tables`` (default: all of :data:`TABLES`), filtered;
    an ablation table (:data:`ABLATIONS`) gives its rows' cells (``methods``
    and ``pattern`` do not apply to them)."""
    cells = []
    for table in tables or sorted(TABLES):
        table = parse_table(table)
        if table in ABLATIONS:
            cells.extend(c for c in ablation_cells(table)
                         if (not datasets or c.dataset in datasets) and
                         (not modalities or c.modalities in modalities))
            continue
        gen, table_datasets, table_mods = TABLES[table]
        for dataset in table_datasets:
            if datasets and dataset not in datasets:
                continue
            for mods in table_mods:
                if modalities and mods not in modalities:
                    continue
                for method in methods:
                    cells.extend(gen(table, dataset, mods, method, pattern))
    return cells


def unique_runs(cells: Sequence[Cell]) -> List[Cell]:
    """One cell per distinct training run, in order."""
    seen, runs = set(), []
    for cell in cells:
        if cell.run_id not in seen:
            seen.add(cell.run_id)
            runs.append(cell)
    return runs


def format_cells(cells: Sequence[Cell], runs_only: bool = False) -> str:
    """Human-readable listing: one line per cell (or per run)."""
    lines = []
    for cell in (unique_runs(cells) if runs_only else cells):
        head = f'Table {cell.table:<2} {cell.dataset:4} {cell.modalities:3} ' \
               f'{cell.method:11} {cell.protocol:13}'
        if runs_only:
            lines.append(f'{head} {cell.command()}')
        else:
            lines.append(f'{head} {cell.column:14} {cell.metric:28} '
                         f'{cell.command()}')
    return '\n'.join(lines)
