"""Domain-generalisation protocols: which domains each dataloader reads.

A config names the protocol and its domains at top level and leaves
``domains=None`` in its datasets; :func:`apply_protocol` fills them
(``domains`` and ``split``). Model selection is always on the sources'
held-out split (the paper's rule).

=============  =====================  ============  ============  ==============
protocol       config keys            train         val           test
=============  =====================  ============  ============  ==============
multi_source   target_domain          others/train  others/test   target/T
single_source  source_domain          source/train  source/test   others/T
in_domain      target_domain (the     others/train  others/test   others/test
               held-out domain of a
               multi-source run) or
               domain (one domain)
=============  =====================  ============  ============  ==============

``T`` is the dataset's target split: EPIC-Kitchens ``'test'``; HAC and the
generic format ``'all'`` (train + test: a target domain is evaluated on all
of its data, as in the paper). A config may override it with a top-level
``target_split``. ``in_domain`` follows the paper's Tables 3 and 10, whose
columns are "D2,D3->D1": the multi-source training set, evaluated on the
sources' own test splits (``domain = 'D1'`` instead trains and tests on one
domain). Neither dataset has a third split, so in-domain validation and test
are the same data. A single-source run tests on both other domains at once;
:class:`mbcd_mmaction.evaluation.DomainAccMetric` reports each.

The domains of a dataset come from, in order: the ``all_domains`` argument,
a top-level ``all_domains`` in the config (the generic
``MultiModalDGDataset``), or the type of the training dataset
(:data:`DATASET_DOMAINS`).

Top-level variables (:func:`apply_top_level`): ``data_root`` is written into
every dataset and ``num_classes`` into the model (``model.num_classes`` or
``model.cls_head.num_classes``). If the config has a top-level
``modalities`` variable (one name or a list), it is also written
into ``model.modalities`` (when the model has that key), every dataset's
``modalities`` and every ``PackActionInputs``'s
``collect_keys``, so a config inheriting a base dataset config changes the
modality combination by setting ``modalities = ('rgb', 'audio')`` alone
(mmengine resolves variables used inside the base file when the base is
parsed, so the base's dicts would otherwise keep the base's value).

Model components that need the training domains (a domain discriminator)
declare ``source_domains=None``; :func:`apply_protocol` fills every such
key under ``cfg.model`` with the protocol's source domains, in order.
"""
import difflib
import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple

from mbcd_mmaction.experiments.grid import MODALITIES as MODALITY_CODES
from .base import ALL_MODALITIES
from .epic_kitchens import ALL_DOMAINS
from .hac import HAC_DOMAINS

#: dataset type -> (domains, target split)
DATASET_DOMAINS = {
    'EpicKitchensDataset': (ALL_DOMAINS, 'test'),
    'HACDataset': (HAC_DOMAINS, 'all'),
    'MultiModalDGDataset': (None, 'all'),
}


@dataclass(frozen=True)
class ProtocolDomains:
    """Domains and split of each dataloader's dataset."""
    train: Tuple[Tuple[str, ...], str]
    val: Tuple[Tuple[str, ...], str]
    test: Tuple[Tuple[str, ...], str]


def _check_domain(name: str, value, all_domains: Sequence[str]) -> str:
    if value not in all_domains:
        raise ValueError(f'apply_protocol: {name}={value!r} is not a domain; '
                         f'expected one of {tuple(all_domains)}.')
    return value


def _target(cfg, all_domains) -> str:
    target = cfg.get('target_domain', None)
    if target is None:
        raise KeyError('apply_protocol: the config has no top-level '
                       "`target_domain` (e.g. target_domain = 'D1').")
    return _check_domain('target_domain', target, all_domains)


def multi_source(cfg, all_domains: Sequence[str],
                 target_split: str = 'test') -> ProtocolDomains:
    """Train/validate on all domains but the target; test on the target."""
    target = _target(cfg, all_domains)
    sources = tuple(d for d in all_domains if d != target)
    return ProtocolDomains(train=(sources, 'train'), val=(sources, 'test'),
                           test=((target, ), target_split))


def single_source(cfg, all_domains: Sequence[str],
                  target_split: str = 'test') -> ProtocolDomains:
    """Train/validate on ``source_domain``; test on every other domain in one
    dataloader (the paper's Tables 2, 8, 9: one run fills both targets'
    cells). ``target_domain`` is not used: the multi-source configs name a
    default one, which ``--cfg-options protocol=single_source
    source_domain=D2`` must not turn into the only target."""
    source = cfg.get('source_domain', None)
    if source is None:
        raise KeyError('apply_protocol: single_source needs a top-level '
                       "`source_domain` (e.g. source_domain = 'D1').")
    _check_domain('source_domain', source, all_domains)
    targets = tuple(d for d in all_domains if d != source)
    return ProtocolDomains(train=((source, ), 'train'),
                           val=((source, ), 'test'),
                           test=(targets, target_split))


def in_domain(cfg, all_domains: Sequence[str],
              target_split: str = 'test') -> ProtocolDomains:
    """Train on the train splits and test on the test splits of the same
    domains: ``domain`` alone, else all but ``target_domain`` (the paper's
    in-domain Tables 3/10, columns named after the multi-source runs)."""
    domain = cfg.get('domain', None)
    if domain is not None:
        domains = (_check_domain('domain', domain, all_domains), )
    else:
        target = _target(cfg, all_domains)
        domains = tuple(d for d in all_domains if d != target)
    return ProtocolDomains(train=(domains, 'train'), val=(domains, 'test'),
                           test=(domains, 'test'))


PROTOCOLS: Dict[str, Callable] = {
    'multi_source': multi_source,
    'single_source': single_source,
    'in_domain': in_domain,
}


def _dataset_type(cfg) -> Optional[str]:
    loader = cfg.get('train_dataloader', None) or {}
    for dataset_cfg in _innermost_datasets(loader.get('dataset', None)):
        dtype = dataset_cfg.get('type', None)
        if isinstance(dtype, str):
            return dtype.split('.')[-1]
    return None


def dataset_domains(cfg, all_domains: Optional[Sequence[str]] = None):
    """``(domains, target split)`` of the config's dataset."""
    dtype = _dataset_type(cfg)
    spec_domains, target_split = DATASET_DOMAINS.get(dtype, (None, 'test'))
    domains = all_domains or cfg.get('all_domains', None) or spec_domains
    if not domains:
        if dtype in DATASET_DOMAINS:
            raise KeyError(f'apply_protocol: the domains of {dtype} are not '
                           'known; set a top-level `all_domains` list.')
        domains = ALL_DOMAINS  # unknown dataset type: EPIC's, as before
    return tuple(domains), cfg.get('target_split', None) or target_split


def protocol_domains(cfg, all_domains: Optional[Sequence[str]] = None
                     ) -> ProtocolDomains:
    """The :class:`ProtocolDomains` of ``cfg.protocol`` (default
    ``'multi_source'``) for the config's dataset."""
    protocol = cfg.get('protocol', 'multi_source')
    if protocol not in PROTOCOLS:
        raise ValueError(f'apply_protocol: unknown protocol {protocol!r}; '
                         f'implemented: {sorted(PROTOCOLS)}.')
    domains, target_split = dataset_domains(cfg, all_domains)
    return PROTOCOLS[protocol](cfg, domains, target_split)


def _innermost_datasets(dataset_cfg):
    """The dataset dicts under wrappers (``dataset`` / ``datasets`` keys)."""
    if dataset_cfg is None:
        return []
    if 'dataset' in dataset_cfg:
        return _innermost_datasets(dataset_cfg['dataset'])
    if 'datasets' in dataset_cfg:
        return [d for sub in dataset_cfg['datasets']
                for d in _innermost_datasets(sub)]
    return [dataset_cfg]


def resolved_experiment(cfg) -> Dict[str, object]:
    """What a resolved config trains, validates and tests on, read from its
    datasets (not recomputed from the options)::

        {"protocol": "multi_source",
         "train": {"domains": ["D2", "D3"], "split": "train"},
         "val": {...}, "test": {"domains": ["D1"], "split": "test"},
         "modalities": ["rgb", "flow", "audio"]}

    ``protocol`` is None for a config that names no protocol key."""
    record: Dict[str, object] = dict(
        protocol=cfg.get('protocol', 'multi_source') if any(
            cfg.get(k, None) is not None for k in PROTOCOL_KEYS) else None)
    modalities = None
    for loader_key in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
        loader = cfg.get(loader_key, None) or {}
        datasets = _innermost_datasets(loader.get('dataset', None))
        domains = []
        for dataset_cfg in datasets:
            domains += list(dataset_cfg.get('domains', None) or [])
            modalities = modalities or dataset_cfg.get('modalities', None)
        splits = sorted({str(d.get('split', None)) for d in datasets})
        record[loader_key.split('_')[0]] = dict(
            domains=domains, split=splits[0] if len(splits) == 1 else splits)
    mods = _modalities_of(cfg) or modalities
    record['modalities'] = list(mods) if mods is not None else None
    return record


def _sync_modalities(dataset_cfg, modalities) -> None:
    dataset_cfg['modalities'] = tuple(modalities)
    for step in dataset_cfg.get('pipeline', None) or []:
        if isinstance(step, dict) and step.get('type') in (
                'PackActionInputs', 'mmaction.PackActionInputs') and \
                step.get('collect_keys', None) is not None:
            step['collect_keys'] = tuple(modalities)


def apply_protocol(cfg, all_domains: Optional[Sequence[str]] = None):
    """Fill ``domains`` (and ``split``) of the datasets of
    ``train_dataloader``, ``val_dataloader`` and ``test_dataloader`` where
    ``domains`` is None, sync the top-level variables
    (:func:`apply_top_level`) and, for the protocols that evaluate several
    domains in one dataloader (``single_source``, ``in_domain``), report
    accuracy per domain (``AccMetric`` evaluators become
    :class:`~mbcd_mmaction.evaluation.DomainAccMetric`).

    Idempotent: a second call changes nothing.

    Args:
        cfg (mmengine.Config | dict): Modified in place.
        all_domains (Sequence[str], optional): The dataset's domains.
            Defaults to the config's ``all_domains`` or those of its dataset
            type (EPIC's ('D1', 'D2', 'D3') when unknown).

    Returns:
        The same ``cfg``.

    Raises:
        KeyError: a key the protocol needs is missing.
        ValueError: unknown protocol or domain, or a bad top-level variable.
    """
    plan = protocol_domains(cfg, all_domains)
    every_domain = dataset_domains(cfg, all_domains)[0]
    for loader_key, (domains, split) in (
            ('train_dataloader', plan.train), ('val_dataloader', plan.val),
            ('test_dataloader', plan.test)):
        loader = cfg.get(loader_key, None)
        if not loader:
            continue
        for dataset_cfg in _innermost_datasets(loader.get('dataset', None)):
            if dataset_cfg.get('domains', None) is None:
                dataset_cfg['domains'] = list(domains)
                dataset_cfg['split'] = split
            elif loader_key != 'test_dataloader':
                _check_no_target_leak(cfg, loader_key, dataset_cfg, plan)
            else:
                _check_test_domains(cfg, dataset_cfg, plan)
            if 'all_domains' in dataset_cfg and \
                    dataset_cfg.get('all_domains', None) is None:
                dataset_cfg['all_domains'] = list(every_domain)
    apply_top_level(cfg)
    model = cfg.get('model', None)
    if model is not None:
        _fill_source_domains(model, plan.train[0])
    if cfg.get('protocol', 'multi_source') in PER_DOMAIN_PROTOCOLS:
        for key in ('val_evaluator', 'test_evaluator'):
            _per_domain_evaluator(cfg, key)
    return cfg


#: Protocols whose test domains are held out of training and validation.
HELD_OUT_PROTOCOLS = ('multi_source', 'single_source')


def _check_no_target_leak(cfg, loader_key: str, dataset_cfg,
                          plan: ProtocolDomains) -> None:
    """Refuse a training/validation dataset whose explicit ``domains`` list
    names a held-out target domain: the run would train (or select the
    model) on the domain it claims to generalise to. Top-level
    ``allow_target_in_training = True`` allows it, with a warning."""
    if cfg.get('protocol', 'multi_source') not in HELD_OUT_PROTOCOLS:
        return
    domains = dataset_cfg['domains']
    domains = [domains] if isinstance(domains, str) else list(domains)
    leaked = [d for d in domains if d in plan.test[0]]
    if not leaked:
        return
    what = (f'{loader_key}.dataset.domains={domains!r} includes the target '
            f'domain(s) {leaked} of protocol '
            f"{cfg.get('protocol', 'multi_source')!r} (test domains "
            f'{list(plan.test[0])})')
    if _allowed_by(cfg, 'allow_target_in_training', what,
                   'the test metrics are not domain generalisation'):
        return
    raise ValueError(
        f'apply_protocol: {what}: the target would leak into '
        f"{loader_key.split('_')[0]}. Remove the explicit `domains` (the "
        'protocol fills them), or set top-level allow_target_in_training '
        '= True if this is intended (logged).')


def _allowed_by(cfg, flag: str, what: str, consequence: str) -> bool:
    """Whether top-level ``flag`` opts in to ``what``; logged as a
    warning with its ``consequence`` when it does."""
    if not cfg.get(flag, False):
        return False
    from mmengine.logging import print_log
    print_log(f'{what}: allowed by {flag}=True; {consequence}.',
              logger='current', level=30)
    return True


def _check_test_domains(cfg, dataset_cfg, plan: ProtocolDomains) -> None:
    """Refuse a test dataset whose explicit ``domains`` are not the
    protocol's test domains: its results would be reported as the target's
    (``test_dataloader.dataset.domains=['D2']`` on a D1 run tests a source
    domain). Top-level ``allow_test_domains_override = True`` allows it,
    with a warning."""
    domains = dataset_cfg['domains']
    domains = [domains] if isinstance(domains, str) else list(domains)
    expected = list(plan.test[0])
    if sorted(domains) == sorted(expected):
        return
    what = (f'test_dataloader.dataset.domains={domains!r}, but protocol '
            f"{cfg.get('protocol', 'multi_source')!r} tests {expected}")
    if _allowed_by(cfg, 'allow_test_domains_override', what,
                   'the results are not the target domain\'s'):
        return
    raise ValueError(
        f'apply_protocol: {what}. The test domains come from the protocol: '
        'choose them with target_domain / source_domain / protocol, or set '
        'top-level allow_test_domains_override = True if this is intended '
        '(logged).')


#: protocols whose validation or test dataloader mixes several domains
PER_DOMAIN_PROTOCOLS = ('single_source', 'in_domain')
_ACC_METRICS = ('AccMetric', 'mmaction.AccMetric')


def _per_domain_evaluator(cfg, key) -> None:
    evaluator = cfg.get(key, None)
    metrics = evaluator if isinstance(evaluator, (list, tuple)) else \
        [evaluator]
    for metric in metrics:
        if isinstance(metric, dict) and metric.get('type') in _ACC_METRICS:
            metric['type'] = 'DomainAccMetric'


def _modalities_of(cfg) -> Optional[Tuple[str, ...]]:
    """Top-level ``modalities`` as a tuple of names: ``--cfg-options
    modalities=audio`` gives the string ``'audio'``, one modality (a bare
    ``tuple('audio')`` would be five letters); the papers' short codes
    ``va``, ``vf``, ``af`` and ``vaf`` (:data:`MODALITY_CODES`) name their
    combinations."""
    modalities = cfg.get('modalities', None)
    if modalities is None:
        return None
    if isinstance(modalities, str):
        modalities = MODALITY_CODES.get(modalities, (modalities, ))
    if not isinstance(modalities, (list, tuple)) or not modalities or \
            not all(isinstance(m, str) for m in modalities):
        raise ValueError(
            f'modalities={modalities!r}: expected one modality name or a '
            f'non-empty list of names from {ALL_MODALITIES}, or a code '
            f'from {sorted(MODALITY_CODES)} (e.g. --cfg-options '
            'modalities=rgb,audio or modalities=va).')
    bad = [m for m in modalities if m not in ALL_MODALITIES]
    if bad:
        raise ValueError(f'modalities={tuple(modalities)!r}: unknown '
                         f'{bad}; expected names from {ALL_MODALITIES} or '
                         f'a code from {sorted(MODALITY_CODES)}.')
    repeated = sorted({m for m in modalities
                       if list(modalities).count(m) > 1})
    if repeated:
        raise ValueError(f'modalities={tuple(modalities)!r}: {repeated} '
                         'named more than once (the model would encode it '
                         'twice); name each modality once.')
    return tuple(modalities)


def check_optimizer_cfg(cfg) -> None:
    """Refuse a training config whose optimizer learning rate
    (``optim_wrapper.optimizer.lr``) is not a finite number > 0: with
    ``lr=0`` the weights never change and the run reports the accuracy of
    its initial weights (chance) as a result."""
    optimizer = (cfg.get('optim_wrapper', None) or {}).get('optimizer',
                                                          None)
    if not isinstance(optimizer, dict) or 'lr' not in optimizer:
        return
    lr = optimizer['lr']
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or \
            not math.isfinite(lr) or lr <= 0:
        raise ValueError(
            f'optim_wrapper.optimizer.lr={lr!r}: the learning rate must be '
            'a finite number > 0 (with 0 nothing is learnt and the run '
            'reports its initial weights\' accuracy); set e.g. '
            '--cfg-options optim_wrapper.optimizer.lr=1e-4.')


def _all_datasets(cfg):
    for loader_key in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
        loader = cfg.get(loader_key, None) or {}
        for dataset_cfg in _innermost_datasets(loader.get('dataset', None)):
            yield loader_key, dataset_cfg


#: (path, mtime_ns, size) -> the config file parsed without options
_WRITTEN_CACHE: Dict[tuple, object] = {}


def _written_config(cfg):
    """``cfg``'s config file parsed as written (before ``--cfg-options``),
    or None when ``cfg`` has no file. Parsed once per file version (parsing
    resolves every base file); the result must not be modified."""
    filename = getattr(cfg, 'filename', None)
    if not filename or not osp.isfile(filename):
        return None
    stat = os.stat(filename)
    key = (osp.abspath(filename), stat.st_mtime_ns, stat.st_size)
    if key not in _WRITTEN_CACHE:
        from mmengine.config import Config
        _WRITTEN_CACHE.clear()
        _WRITTEN_CACHE[key] = Config.fromfile(filename)
    return _WRITTEN_CACHE[key]


def _as_written(cfg, keys: Sequence[str]) -> Dict[str, object]:
    """The top-level ``keys`` of ``cfg``'s config file as written (before
    ``--cfg-options``), each None when ``cfg`` has no file or no such key."""
    written = _written_config(cfg)
    if written is None:
        return dict.fromkeys(keys)
    return {key: written.get(key, None) for key in keys}


def _sync_data_root(cfg, written) -> None:
    """Top-level ``data_root`` -> the datasets that read it.

    A config reads the variable when it is parsed, so ``--cfg-options
    data_root=X`` alone would change nothing. When the top-level value
    differs from the config file's, every dataset whose ``data_root`` is
    still the file's value takes the new one; a dataset given its own root
    (``<loader>.dataset.data_root=...``) keeps it. ``written`` is the
    file's value (:func:`_as_written`).
    """
    data_root = cfg.get('data_root', None)
    if data_root is None or written is None or data_root == written:
        return
    for _, dataset_cfg in _all_datasets(cfg):
        if dataset_cfg.get('data_root', None) == written:
            dataset_cfg['data_root'] = data_root


def _sync_num_classes(cfg, written) -> None:
    """Top-level ``num_classes`` -> ``model.num_classes`` (and
    ``model.cls_head.num_classes``, where mmaction recipes keep it) when it
    differs from the config file's value ``written``; a model key given its
    own value keeps it."""
    num_classes = cfg.get('num_classes', None)
    model = cfg.get('model', None)
    if num_classes is None or model is None:
        return
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) \
            or num_classes < 1:
        raise ValueError(f'num_classes={num_classes!r}: expected a positive '
                         'integer.')
    if written is None or num_classes == written:
        return
    targets = [node for node in (model, model.get('cls_head', None))
               if isinstance(node, dict) and 'num_classes' in node]
    if not targets:
        raise ValueError(
            f'num_classes={num_classes} (top level) has no effect: neither '
            'model.num_classes nor model.cls_head.num_classes exists. Set '
            'the key of your model that holds the number of classes.')
    for node in targets:
        if node['num_classes'] == written:
            node['num_classes'] = num_classes


def apply_top_level(cfg):
    """Copy the top-level variables an experiment overrides on the command
    line into the dicts that use them: ``modalities`` (model, datasets,
    ``PackActionInputs``), ``data_root`` (datasets) and ``num_classes``
    (model). mmengine resolves a variable where a base file uses it when the
    base is parsed, so without this ``--cfg-options data_root=X`` would be
    silently ignored. Idempotent. Returns ``cfg``."""
    modalities = _modalities_of(cfg)
    if modalities is not None:
        cfg['modalities'] = modalities
        for _, dataset_cfg in _all_datasets(cfg):
            if 'modalities' in dataset_cfg:
                _sync_modalities(dataset_cfg, modalities)
        model = cfg.get('model', None)
        if model is not None and 'modalities' in model:
            model['modalities'] = modalities
    written = _as_written(cfg, ('data_root', 'num_classes'))
    _sync_data_root(cfg, written['data_root'])
    _sync_num_classes(cfg, written['num_classes'])
    return cfg


#: top-level keys that make a config a DG experiment (protocol applied)
PROTOCOL_KEYS = ('target_domain', 'source_domain', 'protocol')


#: Top-level keys mmengine's runner reads (``Runner.from_cfg`` and the
#: stock tools) and those this package reads. A key outside this set is
#: only accepted when the config file itself defines it.
RUNNER_TOP_LEVEL_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
    'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level',
    'visualizer', 'default_scope', 'randomness', 'experiment_name',
    'runner_type', 'model_wrapper_cfg', 'compile', 'strategy',
    'custom_imports', 'vis_backends', 'dist_params', 'cfg',
    'find_unused_parameters', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'cudnn_benchmark', 'dist_cfg', 'mp_cfg',
    'resource_limit'})
EXPERIMENT_TOP_LEVEL_KEYS = frozenset({
    'protocol', 'target_domain', 'source_domain', 'domain', 'target_split',
    'all_domains', 'modalities', 'data_root', 'num_classes', 'per_split',
    'baseline', 'allow_target_in_training', 'allow_test_domains_override',
    'trunk_cache', 'sync_bn'})
KNOWN_TOP_LEVEL_KEYS = RUNNER_TOP_LEVEL_KEYS | EXPERIMENT_TOP_LEVEL_KEYS

#: protocol -> the domain keys it reads (:data:`PROTOCOLS`)
PROTOCOL_DOMAIN_KEYS = {
    'multi_source': ('target_domain', ),
    'single_source': ('source_domain', ),
    'in_domain': ('domain', 'target_domain'),
}


def did_you_mean(key: str, candidates) -> str:
    """``'; did you mean 'x'?'`` for the close matches of ``key`` among
    ``candidates`` (empty if none)."""
    close = difflib.get_close_matches(key, sorted(candidates), n=3,
                                      cutoff=0.6)
    return f'; did you mean {" or ".join(map(repr, close))}?' if close \
        else ''


def check_top_level_keys(cfg) -> None:
    """Refuse a top-level key that neither the config file defines nor
    anything reads (:data:`KNOWN_TOP_LEVEL_KEYS`): a typo in
    ``--cfg-options`` (``target_domian=D2``) would otherwise run the
    defaults. A config without a file (a dict built in code) defines all
    its keys."""
    written = _written_config(cfg)
    if written is None:
        return
    defined = set(written.keys())
    allowed = defined | KNOWN_TOP_LEVEL_KEYS
    unknown = [key for key in cfg.keys() if key not in allowed]
    if unknown:
        key = unknown[0]
        raise KeyError(
            f'{key}={cfg[key]!r} (a top-level key, e.g. from --cfg-options) '
            f'is not used: neither {cfg.filename} defines it nor does any '
            f'part of the run read it{did_you_mean(key, allowed)}'
            + (f' (unknown keys: {unknown})' if len(unknown) > 1 else ''))


def check_protocol_keys(cfg) -> None:
    """Refuse a protocol domain key (``target_domain``, ``source_domain``,
    ``domain``) given on top of the config file (absent there, or another
    value) that the chosen protocol does not read, e.g. ``source_domain=D2``
    without ``protocol=single_source``. A key the file itself sets (the
    default ``target_domain`` of a multi-source config) may stay unused."""
    protocol = cfg.get('protocol', 'multi_source')
    if protocol not in PROTOCOL_DOMAIN_KEYS:
        return  # protocol_domains names the unknown protocol
    written = _written_config(cfg)
    if written is None:
        return
    used = PROTOCOL_DOMAIN_KEYS[protocol]
    if protocol == 'in_domain':  # `domain` replaces target_domain
        used = ('domain', ) if cfg.get('domain', None) is not None else \
            ('target_domain', )
    for key in sorted({k for keys in PROTOCOL_DOMAIN_KEYS.values()
                       for k in keys}):
        value = cfg.get(key, None)
        if key in used or value is None or written.get(key, None) == value:
            continue
        users = [p for p, keys in PROTOCOL_DOMAIN_KEYS.items() if key in keys]
        raise KeyError(
            f'{key}={value!r} is not used by protocol={protocol!r} (it reads '
            f'{" / ".join(used)}); {key} is read by protocol '
            f'{" or ".join(users)}. Set e.g. --cfg-options '
            f'protocol={users[0]} {key}={value}, or drop {key}.')


def apply_experiment(cfg):
    """What building a runner does to a config: the key checks
    (:func:`check_top_level_keys`, :func:`check_protocol_keys`), then
    :func:`apply_protocol` (then a baseline's per-split settings when
    ``per_split=True``) when it names a protocol or its domains
    (:data:`PROTOCOL_KEYS`), else :func:`apply_top_level` only (plain
    mmaction configs pass through untouched). Returns ``cfg``."""
    check_top_level_keys(cfg)
    if any(cfg.get(key, None) is not None for key in PROTOCOL_KEYS):
        check_protocol_keys(cfg)
        apply_protocol(cfg)
        # A baseline's authors' per-split settings (``per_split=True``)
        # depend on the split, so they follow the protocol.
        from mbcd_mmaction.experiments.baseline_settings import \
            apply_per_split
        apply_per_split(cfg)
        return cfg
    return apply_top_level(cfg)


def _fill_source_domains(node, sources) -> None:
    """Set every ``source_domains=None`` inside the model config to the
    protocol's training domains (e.g. a domain discriminator's classes)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'source_domains' and value is None:
                node[key] = list(sources)
            else:
                _fill_source_domains(value, sources)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _fill_source_domains(item, sources)
