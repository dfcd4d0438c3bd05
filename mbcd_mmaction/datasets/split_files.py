"""Reading the EPIC-Kitchens split files without running code from them.

The MM-SADA splits ``D{1,2,3}_{train,test}.pkl`` are pandas DataFrame
pickles. ``pandas.read_pickle`` runs whatever a pickle asks for (a crafted
``D2_train.pkl`` whose ``__reduce__`` names ``os.system`` runs a shell
command), so the splits are read by :func:`read_split_pickle`, an
unpickler that resolves only the globals a DataFrame of the split columns
needs (:data:`SPLIT_PICKLE_GLOBALS`, exact module and name) and refuses any
other, naming the file and the global, before it is called.

:func:`convert_split_pickles` (``tools/data/convert_splits.py``) writes
each pickle as ``D*_*.csv`` next to it (or into another folder); when both
exist the loader reads the CSV (:func:`split_file`).

Every table read is normalised by :func:`normalise_split` (the columns of
:data:`SPLIT_COLUMNS` only; integer columns ``int64``, checked to hold
integers; the others strings), so a pickle and its CSV give the same rows
and dtypes.
"""
import os
import os.path as osp
import pickle
from typing import Dict, List, Optional

import numpy as np
import pandas as pd

SPLIT_COLUMNS = ('uid', 'participant_id', 'video_id', 'narration',
                 'start_timestamp', 'stop_timestamp', 'start_frame',
                 'stop_frame', 'verb', 'verb_class')
#: Columns that hold integers (``uid`` too, unless its values are names).
INT_COLUMNS = ('start_frame', 'stop_frame', 'verb_class')

#: ``(module, name)`` of every global a split pickle may name: what pandas
#: 0.2x-3.x with numpy 1.x/2.x pickle for a DataFrame of integer and string
#: columns with a RangeIndex or an Index (found by disassembling the
#: MM-SADA pickles and the pickles of
#: :func:`mbcd_mmaction.datasets.synthetic.generate_epic_kitchens`;
#: ``tests/datasets/test_hostile_splits.py`` repeats this). All of them
#: build arrays, blocks, indexes or the frame; none runs other code.
SPLIT_PICKLE_GLOBALS = frozenset({
    ('pandas', 'DataFrame'),
    ('pandas.core.frame', 'DataFrame'),
    ('pandas', 'Index'),
    ('pandas.core.indexes.base', 'Index'),
    ('pandas.core.indexes.base', '_new_Index'),
    ('pandas', 'RangeIndex'),
    ('pandas.core.indexes.range', 'RangeIndex'),
    ('pandas.core.internals.managers', 'BlockManager'),
    ('pandas._libs.internals', '_unpickle_block'),
    ('pandas._libs.arrays', '__pyx_unpickle_NDArrayBacked'),
    ('pandas.arrays', 'StringArray'),
    ('pandas.core.arrays.string_', 'StringArray'),
    ('pandas', 'StringDtype'),
    ('pandas.core.arrays.string_', 'StringDtype'),
    ('numpy', 'dtype'),
    ('numpy', 'ndarray'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('numpy.core.numeric', '_frombuffer'),
    ('numpy._core.numeric', '_frombuffer'),
    ('builtins', 'slice'),
    ('__builtin__', 'slice'),  # pickle protocol 2 names builtins so
    ('_codecs', 'encode'),  # and stores bytes as _codecs.encode(text)
})


class UnsafeSplitError(pickle.UnpicklingError, ValueError):
    """A split pickle names a global that :data:`SPLIT_PICKLE_GLOBALS` does
    not allow (the file is not loaded)."""


class _SplitUnpickler(pickle.Unpickler):

    def __init__(self, file, path: str):
        super().__init__(file)
        self._path = path

    def find_class(self, module: str, name: str):
        if (module, name) not in SPLIT_PICKLE_GLOBALS:
            raise UnsafeSplitError(
                f'{self._path}: refused to load this split pickle: it names '
                f'the global `{module}.{name}`, which a pandas DataFrame of '
                'the split columns does not need (a pickle can run any code '
                'it names when loaded; nothing it names outside the allow-'
                'list SPLIT_PICKLE_GLOBALS of mbcd_mmaction/datasets/'
                'split_files.py is called). Use the MM-SADA split files as '
                'published, or a CSV with the columns '
                f'{list(SPLIT_COLUMNS)} as {osp.splitext(self._path)[0]}'
                '.csv.')
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise UnsafeSplitError(f'{self._path}: refused to load this split '
                               'pickle: it uses a persistent id.')


def read_split_pickle(path: str) -> pd.DataFrame:
    """The DataFrame of a split pickle, unpickled with only
    :data:`SPLIT_PICKLE_GLOBALS` resolvable.

    Raises:
        UnsafeSplitError: the pickle names another global (named in the
            message with the file).
        ValueError: the file is not a pickle, is torn, or holds something
            other than a DataFrame.
    """
    with open(path, 'rb') as f:
        try:
            frame = _SplitUnpickler(f, path).load()
        except UnsafeSplitError:
            raise
        except Exception as e:  # noqa: BLE001 - torn / not a pickle
            raise ValueError(f'{path}: not a readable split pickle '
                             f'({type(e).__name__}: {e}).') from None
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f'{path}: expected a pandas DataFrame pickle, got '
                         f'{type(frame).__name__}.')
    return frame


def split_file(split_dir: str, domain: str, split: str) -> str:
    """``{split_dir}/{domain}_{split}.csv`` if it exists, else the
    ``.pkl`` path (which may not exist)."""
    stem = osp.join(split_dir, f'{domain}_{split}')
    return stem + '.csv' if osp.isfile(stem + '.csv') else stem + '.pkl'


def _integers(values: pd.Series, path: str, column: str,
              uids: pd.Series) -> pd.Series:
    """``values`` as int64, or an error naming the first non-integer."""
    if values.dtype.kind in 'iu':
        return values.astype('int64')
    if values.dtype.kind == 'b':
        bad = np.ones(len(values), bool)
    else:
        numbers = pd.to_numeric(values.astype(str).str.strip()
                                if values.dtype.kind in 'OUS' or
                                isinstance(values.dtype, pd.StringDtype)
                                else values, errors='coerce')
        numbers = numbers.astype('float64')
        bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))
        bad = np.asarray(bad)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = f'row {i + 1}' if column == 'uid' else \
            f'row {i + 1} (uid {uids.iloc[i]})'
        value = values.iloc[i]
        value = value.item() if isinstance(value, np.generic) else value
        raise ValueError(f'{path}: {where} has {column}={value!r}, expected '
                         'an integer.')
    return numbers.astype('int64')


def normalise_split(frame: pd.DataFrame, path: str) -> pd.DataFrame:
    """The :data:`SPLIT_COLUMNS` of a split table (``uid`` may be the
    index), integer columns as int64, ``uid`` as int64 when every uid is an
    integer (else strings), the other columns as strings.

    Raises:
        KeyError: a column is missing.
        ValueError: the split is empty, an integer column holds a
            non-integer (``verb_class=4.7``), or a uid repeats.
    """
    missing = [c for c in SPLIT_COLUMNS if c not in frame.columns]
    # uid is sometimes the index rather than a column.
    if missing == ['uid'] and frame.index.name == 'uid':
        frame = frame.reset_index()
        missing = []
    if missing:
        raise KeyError(f'{path}: missing column(s) {missing}; expected '
                       f'{list(SPLIT_COLUMNS)}.')
    if len(frame) == 0:
        raise ValueError(f'{path}: the split is empty (0 rows).')
    frame = frame.loc[:, list(SPLIT_COLUMNS)].reset_index(drop=True)
    out = {}
    uids = frame['uid']
    try:
        out['uid'] = _integers(uids, path, 'uid', uids)
    except ValueError:
        out['uid'] = uids.astype(str)
    for column in SPLIT_COLUMNS[1:]:
        if column in INT_COLUMNS:
            out[column] = _integers(frame[column], path, column, uids)
        else:
            out[column] = frame[column].astype(str)
    table = pd.DataFrame(out, columns=list(SPLIT_COLUMNS))
    repeated = table['uid'].duplicated(keep=False)
    if repeated.any():
        rows = np.flatnonzero(repeated.to_numpy())
        uid = table['uid'].iloc[rows[0]]
        same = [int(r) + 1 for r in rows if table['uid'].iloc[r] == uid]
        raise ValueError(f'{path}: uid {uid} appears in rows {same}; every '
                         'uid of a split must be unique (a repeated sample '
                         'would count twice).')
    return table


def read_split_table(path: str) -> pd.DataFrame:
    """A split file (``.csv`` or ``.pkl``, by extension), normalised
    (:func:`normalise_split`)."""
    if path.endswith('.csv'):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        frame = read_split_pickle(path)
    return normalise_split(frame, path)


def convert_split_pickles(split_dir: str, out_dir: Optional[str] = None,
                          overwrite: bool = False) -> List[str]:
    """Write every ``D*_{train,test}.pkl`` of ``split_dir`` as a CSV (in
    ``out_dir``, default ``split_dir``), read with :func:`read_split_table`
    (nothing in them is run). Existing CSVs are refused unless
    ``overwrite``. Returns the CSV paths written."""
    import glob
    out_dir = out_dir or split_dir
    pickles = sorted(glob.glob(osp.join(split_dir, 'D*_train.pkl')) +
                     glob.glob(osp.join(split_dir, 'D*_test.pkl')))
    if not pickles:
        raise FileNotFoundError(f'{split_dir}: no split pickles '
                                'D*_train.pkl / D*_test.pkl.')
    tables: Dict[str, pd.DataFrame] = {}
    for pkl in pickles:
        csv = osp.join(out_dir, osp.splitext(osp.basename(pkl))[0] + '.csv')
        if osp.exists(csv) and not overwrite:
            raise FileExistsError(f'{csv} exists (overwrite=True / '
                                  '--overwrite replaces it).')
        tables[csv] = read_split_table(pkl)
    os.makedirs(out_dir, exist_ok=True)
    for csv, table in tables.items():
        tmp = csv + '.part'
        table.to_csv(tmp, index=False)
        os.replace(tmp, csv)
    return list(tables)


__all__ = ['SPLIT_COLUMNS', 'SPLIT_PICKLE_GLOBALS', 'UnsafeSplitError',
           'read_split_pickle', 'read_split_table', 'normalise_split',
           'split_file', 'convert_split_pickles']
