"""Every cell of the MBCD paper's result tables as a config + options.

Stdlib only (no torch, no mmengine): ``tools/list_experiments.py`` loads
this file directly.

Scheme (``configs/`` relative to the repository root):

* Table 1, multi-source, EPIC / HAC, va / vf / af / vaf:
  ``configs/{method}_{dataset}_{mods}.py --cfg-options target_domain=T``;
  the cell is ``test_metrics["acc/fused_top1"]`` of ``target_results.json``.
* Tables 2 (vaf), 8 (EPIC va/vf/af), 9 (HAC va/vf/af), single-source:
  ``configs/protocols/{method}_{dataset}_{mods}_single_source.py
  --cfg-options source_domain=S``; one run tests both targets, cell
  ``S -> T`` is ``acc/T/fused_top1``.
* Tables 3 (vaf) and 10 (va/vf/af), in-domain, EPIC: columns "D2,D3->D1"
  are the multi-source run's sources tested on their own test splits:
  ``configs/protocols/{method}_epic_{mods}_in_domain.py --cfg-options
  target_domain=T``; cell ``acc/fused_top1`` (pooled over the two
  sources' test splits; ``acc/domain_mean/fused_top1`` is their mean).
"""
from dataclasses import asdict, dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

METHODS = (
    'mbcd',
    'erm',
    'rna',
    'simmmdg',
    'moosa',
    'cmrf',
    'rna_gmp',
    'simmmdg_gmp',
    'moosa_gmp',
    'cmrf_gmp',
)
#: methods with the single-source / in-domain configs of Tables 2, 3, 8-10
#: (configs/protocols/); the others have Table 1's multi-source configs
PROTOCOL_METHODS = ('mbcd', 'erm')
MODALITIES = {'va': ('rgb', 'audio'), 'vf': ('rgb', 'flow'),
              'af': ('flow', 'audio'), 'vaf': ('rgb', 'flow', 'audio')}
DOMAINS = {'epic': ('D1', 'D2', 'D3'),
           'hac': ('human', 'animal', 'cartoon')}
SHORT = {'D1': 'D1', 'D2': 'D2', 'D3': 'D3', 'human': 'H', 'animal': 'A',
         'cartoon': 'C'}
TRAIN_TOOL = 'python tools/train.py'


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


def _multi_source(table, dataset, mods, method) -> Iterator[Cell]:
    domains = DOMAINS[dataset]
    for target in domains:
        sources = ','.join(SHORT[d] for d in domains if d != target)
        yield Cell(table, 'multi_source', dataset, mods, method,
                   f'{sources}->{SHORT[target]}',
                   f'configs/{method}_{dataset}_{mods}.py',
                   (('target_domain', target), ), 'acc/fused_top1')


def _single_source(table, dataset, mods, method) -> Iterator[Cell]:
    domains = DOMAINS[dataset]
    for source in domains:
        for target in domains:
            if target == source:
                continue
            yield Cell(
                table, 'single_source', dataset, mods, method,
                f'S:{SHORT[source]} T:{SHORT[target]}',
                f'configs/protocols/{method}_{dataset}_{mods}'
                '_single_source.py', (('source_domain', source), ),
                f'acc/{target}/fused_top1')


def _in_domain(table, dataset, mods, method) -> Iterator[Cell]:
    domains = DOMAINS[dataset]
    for target in domains:
        sources = ','.join(SHORT[d] for d in domains if d != target)
        yield Cell(table, 'in_domain', dataset, mods, method,
                   f'{sources}->{SHORT[target]}',
                   f'configs/protocols/{method}_{dataset}_{mods}'
                   '_in_domain.py', (('target_domain', target), ),
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


def table_cells(tables: Optional[Sequence[int]] = None,
                methods: Sequence[str] = METHODS,
                datasets: Optional[Sequence[str]] = None,
                modalities: Optional[Sequence[str]] = None) -> List[Cell]:
    """The cells of ``tables`` (default: all of :data:`TABLES`), filtered."""
    cells = []
    for table in tables or sorted(TABLES):
        if table not in TABLES:
            raise KeyError(f'table {table}: the paper tables with results '
                           f'are {sorted(TABLES)}.')
        gen, table_datasets, table_mods = TABLES[table]
        for dataset in table_datasets:
            if datasets and dataset not in datasets:
                continue
            for mods in table_mods:
                if modalities and mods not in modalities:
                    continue
                for method in methods:
                    if gen is _multi_source or method in PROTOCOL_METHODS:
                        cells.extend(gen(table, dataset, mods, method))
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
