"""Domain-generalisation protocols: which domains each dataloader reads.

A config names the protocol and the held-out domain at top level::

    target_domain = 'D1'
    protocol = 'multi_source'      # default

and leaves ``domains=None`` in its datasets. :func:`apply_protocol` fills
them: training on the sources' train splits, validation on the sources'
test splits (model selection on source validation, the paper's rule), test
on the target's test split.

Only ``multi_source`` exists now. Another protocol is one more entry in
:data:`PROTOCOLS`: a function returning a :class:`ProtocolDomains`.
(``single_source`` will read ``cfg.source_domain`` and test on two targets,
which needs one test dataloader per target; ``in_domain`` trains and tests on
one domain.)

If the config has a top-level ``modalities`` variable, it is also written
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
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, Tuple

from .epic_kitchens import ALL_DOMAINS


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


def multi_source(cfg, all_domains: Sequence[str]) -> ProtocolDomains:
    """Train/validate on all domains but the target; test on the target."""
    target = cfg.get('target_domain', None)
    if target is None:
        raise KeyError('apply_protocol: the config has no top-level '
                       "`target_domain` (e.g. target_domain = 'D1').")
    _check_domain('target_domain', target, all_domains)
    sources = tuple(d for d in all_domains if d != target)
    return ProtocolDomains(train=(sources, 'train'), val=(sources, 'test'),
                           test=((target, ), 'test'))


PROTOCOLS: Dict[str, Callable] = {'multi_source': multi_source}


def protocol_domains(cfg, all_domains: Sequence[str] = ALL_DOMAINS
                     ) -> ProtocolDomains:
    """The :class:`ProtocolDomains` of ``cfg.protocol`` (default
    ``'multi_source'``) and ``cfg.target_domain``."""
    protocol = cfg.get('protocol', 'multi_source')
    if protocol not in PROTOCOLS:
        raise ValueError(f'apply_protocol: unknown protocol {protocol!r}; '
                         f'implemented: {sorted(PROTOCOLS)}.')
    return PROTOCOLS[protocol](cfg, tuple(all_domains))


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


def _sync_modalities(dataset_cfg, modalities) -> None:
    dataset_cfg['modalities'] = tuple(modalities)
    for step in dataset_cfg.get('pipeline', None) or []:
        if isinstance(step, dict) and step.get('type') in (
                'PackActionInputs', 'mmaction.PackActionInputs') and \
                step.get('collect_keys', None) is not None:
            step['collect_keys'] = tuple(modalities)


def apply_protocol(cfg, all_domains: Sequence[str] = ALL_DOMAINS):
    """Fill ``domains`` (and ``split``) of the datasets of
    ``train_dataloader``, ``val_dataloader`` and ``test_dataloader`` where
    ``domains`` is None, and sync top-level ``modalities``.

    Args:
        cfg (mmengine.Config | dict): Modified in place.
        all_domains (Sequence[str]): The dataset's domains. Defaults to
            EPIC's ('D1', 'D2', 'D3').

    Returns:
        The same ``cfg``.

    Raises:
        KeyError: no ``target_domain``.
        ValueError: unknown protocol or target domain.
    """
    plan = protocol_domains(cfg, all_domains)
    modalities: Optional[Sequence[str]] = cfg.get('modalities', None)
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
            if modalities is not None and 'modalities' in dataset_cfg:
                _sync_modalities(dataset_cfg, modalities)
    model = cfg.get('model', None)
    if modalities is not None and model is not None and \
            'modalities' in model:
        model['modalities'] = tuple(modalities)
    if model is not None:
        _fill_source_domains(model, plan.train[0])
    return cfg


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
