"""GMP (Gradient Modulation and Projection): coefficients, projection, the
one-backward encoder gradient, ordinary gradients of the other parts, the
gradient reversal, and composition with MBCD."""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS

from mbcd_mmaction.models.grad_strategies import (
    GradientModulationProjection, GradientReversal)

from . import tiny

W_CLS, W_DOM, GRL, ALPHA = 3.0, 0.5, 0.3, 0.5
SEEDS = (1, 2)


# -- python references --------------------------------------------------------
def _softmax(row):
    e = [math.exp(v - max(row)) for v in row]
    return [x / sum(e) for x in e]


def _mean_true_prob(logits, targets):
    rows = logits.tolist()
    return sum(_softmax(r)[t] for r, t in zip(rows, targets)) / len(rows)


def _coef(ratio, alpha=ALPHA):
    return 1 - math.tanh(alpha * ratio) if ratio > 1 else 1.0


def _others_mean(values, m):
    others = [v for k, v in values.items() if k != m]
    return sum(others) / len(others)


def _gmp(feat_dims=None, **kwargs):
    cfg = tiny.shipped_gmp(source_domains=['D2', 'D3'])
    cfg.pop('type')
    cfg.update(kwargs)
    return GradientModulationProjection(
        feat_dims=feat_dims or dict(a=4, b=4, c=4), **cfg)


# -- coefficients -------------------------------------------------------------
def test_k_and_p_equal_hand_computed_values_three_modalities():
    labels = [0, 2, 1, 2]
    domains = [0, 1, 1, 0]
    logits = dict(a=torch.tensor([[3., 0, 0], [0, 0, 4], [0, 2, 1],
                                  [1, 0, 3]]),
                  b=torch.tensor([[0., 1, 0], [1, 0, 0], [0, 1, 0],
                                  [0, 0, 1]]),
                  c=torch.tensor([[1., 1, 1], [0, 1, 0.5], [2, 0, 0],
                                  [0, 3, 0]]))
    dom_logits = dict(a=torch.tensor([[0., 0], [0, 1], [1, 0], [0, 0]]),
                      b=torch.tensor([[2., 0], [0, 2], [0, 3], [1, 0]]),
                      c=torch.tensor([[0., 1], [1, 0], [0, 0], [0, 1]]))
    gmp = _gmp()
    q = gmp.confidences(logits, torch.tensor(labels))
    c = gmp.confidences(dom_logits, torch.tensor(domains))
    coeffs = gmp.coefficients(q, c)

    q_ref = {m: _mean_true_prob(v, labels) for m, v in logits.items()}
    c_ref = {m: _mean_true_prob(v, domains) for m, v in dom_logits.items()}
    ks, ps = [], []
    for m in logits:
        rho = q_ref[m] / _others_mean(q_ref, m)
        sigma = _others_mean(c_ref, m) / c_ref[m]
        assert q[m] == pytest.approx(q_ref[m], rel=1e-6)
        assert coeffs[m]['rho'] == pytest.approx(rho, rel=1e-6)
        assert coeffs[m]['sigma'] == pytest.approx(sigma, rel=1e-6)
        assert coeffs[m]['k'] == pytest.approx(_coef(rho), rel=1e-6)
        assert coeffs[m]['p'] == pytest.approx(_coef(sigma), rel=1e-6)
        ks.append(coeffs[m]['k'])
        ps.append(coeffs[m]['p'])
    # the example exercises both branches of both coefficients
    assert 1.0 in ks and min(ks) < 1 and 1.0 in ps and min(ps) < 1
    # 'a' is the confident modality: its classification gradient is damped
    assert coeffs['a']['k'] == pytest.approx(
        1 - math.tanh(0.5 * q_ref['a'] / ((q_ref['b'] + q_ref['c']) / 2)))


def test_ablation_switches_of_the_coefficients():
    q = dict(a=0.9, b=0.3)
    c = dict(a=0.2, b=0.6)  # sigma_a = 3
    k_a, p_a = _coef(3.0), _coef(3.0)
    assert _gmp(use_k=False).coefficients(q, c)['a']['k'] == 1.0
    assert _gmp(use_k=False).coefficients(q, c)['a']['p'] == \
        pytest.approx(p_a)
    assert _gmp(use_p=False).coefficients(q, c)['a']['p'] == 1.0
    shared = _gmp(shared_coefficient='product').coefficients(q, c)['a']
    assert shared['k'] == shared['p'] == pytest.approx(k_a * p_a)
    sem = _gmp(shared_coefficient='semantic').coefficients(q, c)['a']
    assert sem['k'] == sem['p'] == pytest.approx(k_a)
    # one source domain: no domain branch, p = 1
    single = _gmp(source_domains=['D2'])
    assert not hasattr(single, 'discriminator')
    assert single.coefficients(q, None)['a'] == dict(
        rho=3.0, sigma=1.0, k=pytest.approx(k_a), p=1.0)


# -- projection ---------------------------------------------------------------
def _flat(gs):
    return torch.cat([g.reshape(-1) for g in gs])


def _project_out(g, other):
    """By hand: ``g`` (flattened) minus its component along ``other``."""
    g, o = _flat(g), _flat(other)
    return g - (g @ o) / (o @ o) * o


def _combine(gmp, g_c, g_d, rho, sigma):
    """``gmp.combination``'s coefficients applied to the two lists."""
    dots = tuple(float(_flat(x) @ _flat(y))
                 for x, y in ((g_c, g_c), (g_d, g_d), (g_c, g_d)))
    a, b, logs = gmp.combination(dots, rho, sigma)
    return [a * x + b * y for x, y in zip(g_c, g_d)], logs


def _conflicting():
    g_c = [torch.tensor([1.0, 2.0]), torch.tensor([[0.5, -1.0]])]
    g_d = [torch.tensor([-2.0, 0.5]), torch.tensor([[1.0, 1.0]])]
    assert float(_flat(g_c) @ _flat(g_d)) < 0
    return g_c, g_d


def test_projected_gradient_is_orthogonal_to_the_other():
    g_c, g_d = _conflicting()
    gmp = _gmp()
    # classification stronger (rho >= sigma): g_c is projected
    total, logs = _combine(gmp, g_c, g_d, rho=2.0, sigma=1.5)
    new_c = _flat(total) - _flat(g_d)
    assert float(new_c @ _flat(g_d)) == pytest.approx(0, abs=1e-6)
    assert logs['projected'] == 1 and logs['cos'] < 0
    # domain stronger: g_d is projected, g_c kept
    total, logs = _combine(gmp, g_c, g_d, rho=1.0, sigma=1.5)
    new_d = _flat(total) - _flat(g_c)
    assert float(new_d @ _flat(g_c)) == pytest.approx(0, abs=1e-6)
    assert logs['projected'] == 2


def test_no_projection_when_gradients_agree():
    g_c = [torch.tensor([1.0, 2.0])]
    g_d = [torch.tensor([0.5, 0.1])]
    for projection in GradientModulationProjection.PROJECTION_MODES:
        total, logs = _combine(_gmp(projection_mode=projection), g_c, g_d, 2.0,
                               1.0)
        assert torch.equal(total[0], g_c[0] + g_d[0])
        assert logs['projected'] == 0
    orthogonal = [torch.tensor([-2.0, 1.0])]  # dot == 0: no projection
    total, logs = _combine(_gmp(), g_c, orthogonal, 2.0, 1.0)
    assert torch.equal(total[0], g_c[0] + orthogonal[0])


@pytest.mark.parametrize('projection,rho,which', [
    ('reversed', 2.0, 2), ('reversed', 1.0, 1), ('classification', 1.0, 1),
    ('domain', 2.0, 2), ('pcgrad', 2.0, 3), ('none', 2.0, 0)])
def test_projection_ablations(projection, rho, which):
    g_c, g_d = _conflicting()
    total, logs = _combine(_gmp(projection_mode=projection), g_c, g_d, rho, 1.5)
    assert logs['projected'] == which
    c = _project_out(g_c, g_d) if which in (1, 3) else _flat(g_c)
    d = _project_out(g_d, g_c) if which in (2, 3) else _flat(g_d)
    torch.testing.assert_close(_flat(total), c + d)


# -- gradient reversal --------------------------------------------------------
def test_gradient_reversal_sends_minus_0_3_times_the_gradient():
    x = torch.randn(5, 3, requires_grad=True)
    w = torch.randn(5, 3)
    (GradientReversal(0.3)(x) * w).sum().backward()
    torch.testing.assert_close(x.grad, -0.3 * w)
    # in the domain branch: the projection's input gradient is reversed
    torch.manual_seed(0)
    gmp = _gmp(feat_dims=dict(a=3), proj_dropout=0.0).eval()
    feat = torch.randn(5, 3, requires_grad=True)
    target = torch.tensor([0, 1, 1, 0, 1])
    F.cross_entropy(gmp.domain_logits(dict(a=feat))['a'], target).backward()
    plain = feat.detach().clone().requires_grad_()
    F.cross_entropy(gmp.discriminator(gmp.projections['a'](plain)),
                    target).backward()
    torch.testing.assert_close(feat.grad, -0.3 * plain.grad)


# -- the full model: one backward ---------------------------------------------
def _build(cfg):
    model = MODELS.build(cfg)
    model.init_weights()
    return model.train()


def _hand_reference(ref, data, source_domains=('D2', 'D3')):
    """Expected gradients computed with separate autograd calls on a copy:
    no GRL in the graph (its factor applied by hand), k/p/projection from
    python floats."""
    labels = torch.cat([s.gt_label for s in data['data_samples']])
    dlabels = torch.tensor([list(source_domains).index(s.metainfo['domain'])
                            for s in data['data_samples']])
    gm = ref.gradient_modulation
    trunk = ref.extract_trunk(data['inputs'])
    mods = ref.modalities
    pooled = {m: ref.encoders[m].forward_top(trunk[m]) for m in mods}
    feats = {m: ref.norms[m](pooled[m]) for m in mods}
    logits = {m: ref.cls_heads[m](feats[m]) for m in mods}
    dlogits = {m: gm.discriminator(gm.projections[m](feats[m]))
               for m in mods}
    fused = ref.fused_head(torch.cat([feats[m] for m in mods], 1))
    ce = {m: F.cross_entropy(logits[m], labels) for m in mods}
    dce = {m: F.cross_entropy(dlogits[m], dlabels) for m in mods}
    fce = F.cross_entropy(fused, labels)
    q = {m: _mean_true_prob(logits[m].detach(), labels.tolist())
         for m in mods}
    c = {m: _mean_true_prob(dlogits[m].detach(), dlabels.tolist())
         for m in mods}
    expected, projected = {}, {}
    for m in mods:
        params = [p for layer in ref.encoders[m].top_layers().values()
                  for p in layer.parameters()]
        rho = q[m] / _others_mean(q, m)
        sigma = _others_mean(c, m) / c[m]
        g_c = _coef(rho) * W_CLS * _flat(torch.autograd.grad(
            ce[m], params, retain_graph=True))
        g_d = _coef(sigma) * W_DOM * -GRL * _flat(torch.autograd.grad(
            dce[m], params, retain_graph=True))
        dot = float(g_c @ g_d)
        projected[m] = dot < 0
        if dot < 0:
            if rho >= sigma:
                g_c = g_c - dot / float(g_d @ g_d) * g_d
            else:
                g_d = g_d - dot / float(g_c @ g_c) * g_c
        expected[m] = _flat(torch.autograd.grad(
            fce, params, retain_graph=True)) + g_c + g_d

    def grads(loss, module):
        ps = list(module.parameters())
        return [g if g is not None else torch.zeros_like(p)
                for g, p in zip(torch.autograd.grad(
                    loss, ps, retain_graph=True, allow_unused=True), ps)]

    others = dict(
        discriminator=grads(W_DOM * sum(dce.values()), gm.discriminator),
        fused_head=grads(fce, ref.fused_head))
    for m in mods:
        others[f'projections.{m}'] = grads(W_DOM * dce[m], gm.projections[m])
        others[f'cls_heads.{m}'] = grads(W_CLS * ce[m], ref.cls_heads[m])
        # the norms sit before the reversal: fused + cls + reversed domain
        others[f'norms.{m}'] = [
            a + b for a, b in zip(
                grads(fce + W_CLS * ce[m], ref.norms[m]),
                grads(-GRL * W_DOM * dce[m], ref.norms[m]))]
    return expected, others, projected


def _module(model, name):
    root = model.gradient_modulation if name.startswith(
        ('discriminator', 'projections')) else model
    for part in name.split('.'):
        root = root[part] if isinstance(root, torch.nn.ModuleDict) else \
            getattr(root, part)
    return root


def _check_one_backward(seed):
    torch.manual_seed(seed)
    cfg = tiny.gmp_cfg(('flow', 'audio'), proj_dropout=0.0)
    cfg['uni_head'] = cfg['fused_head'] = dict(type='MLPClsHead',
                                                hidden_channels=512,
                                                dropout_ratio=0.0)
    model = _build(cfg)
    ref = copy.deepcopy(model)
    data = model.data_preprocessor(
        tiny.with_domains(tiny.batch(6, ('flow', 'audio'), seed=seed)), True)
    losses = model(**data, mode='loss')
    assert losses['strategy_loss_encoder'].item() == 0.0  # value is meaningless
    total = sum(v for k, v in losses.items() if 'loss' in k)
    model.zero_grad()
    total.backward()

    expected, others, projected = _hand_reference(ref, data)
    for m, exp in expected.items():
        got = _flat([p.grad for layer in model.encoders[m].top_layers()
                     .values() for p in layer.parameters()])
        torch.testing.assert_close(got, exp, rtol=1e-4, atol=1e-6)
        assert bool(losses[f'{m}_gmp_projected'].item()) == projected[m]
    for name, exp in others.items():
        got = [p.grad for p in _module(model, name).parameters()]
        for g, e in zip(got, exp):
            torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-7)
    # the logged total is the real losses' sum (the surrogate adds 0)
    assert total.item() == pytest.approx(
        sum(v.item() for k, v in losses.items()
            if 'loss' in k and k != 'strategy_loss_encoder'))
    return projected


def test_one_backward_gives_fused_plus_modulated_projected_gradients():
    """Encoders: grad CE_fused + g_c + g_d (modulated, projected); heads,
    norms, projections, discriminator: their ordinary gradients. The seeds
    include a modality whose task gradients conflict and one whose do not,
    so both paths of the full model are compared."""
    seen = []
    for seed in SEEDS:
        seen += list(_check_one_backward(seed).values())
    assert any(seen) and not all(seen)


def test_encoder_gradient_follows_a_loss_scale():
    """The modulated gradient joins the backward through a zero-valued
    term; a scaled total (AMP's loss scale, gradient accumulation) scales
    it like every other gradient."""
    torch.manual_seed(SEEDS[0])
    model = _build(tiny.gmp_cfg(('flow', 'audio'), proj_dropout=0.0))
    model.eval()  # no dropout: the two forwards are the same
    data = model.data_preprocessor(
        tiny.with_domains(tiny.batch(6, ('flow', 'audio'))), True)
    grads = []
    for scale in (1.0, 8.0):
        losses = model.loss(**data)
        model.zero_grad()
        (scale * sum(v for k, v in losses.items() if 'loss' in k)).backward()
        grads.append(_flat([p.grad for p in model.encoder_params()['flow']]))
    torch.testing.assert_close(grads[1], 8.0 * grads[0])


def test_injected_gradient_survives_an_fp16_loss_scale():
    """Under fp16 autocast the pooled features are fp16; the zero-valued
    term stays float32, so AMP's loss scale (65536, inf in fp16) reaches
    the injected gradient finite."""
    from mbcd_mmaction.models.grad_strategies.base import _InjectGradients
    x = torch.zeros(3, dtype=torch.float16, requires_grad=True)
    g = torch.full((3, ), 1e-3, dtype=torch.float16)
    term = _InjectGradients.apply([g], x)
    assert term.dtype == torch.float32 and term.item() == 0.0
    (65536.0 * term).backward()
    torch.testing.assert_close(x.grad.float(), torch.full((3, ), 65.536),
                               rtol=1e-3, atol=0)


def test_batched_encoder_gradients_equal_one_backward_each():
    """GMP's two task gradients come from one batched backward, or one
    backward each where a layer's backward communicates (SyncBatchNorm):
    the same gradients either way."""
    from mbcd_mmaction.structures import vector_jacobians
    torch.manual_seed(0)
    layer = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3),
                                torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    out = layer(torch.randn(5, 3, 6, 6)).mean((2, 3))
    params = list(layer.parameters())
    cotangents = [torch.randn_like(out), torch.randn_like(out)]
    batched = vector_jacobians(out, params, cotangents)
    separate = vector_jacobians(out, params, cotangents, batched=False)
    for got, want in zip(batched, separate):
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w)
    autograd = torch.autograd.grad(out, params, cotangents[1])
    for g, w in zip(batched[1], autograd):
        torch.testing.assert_close(g, w)


def test_unknown_or_missing_domain_is_a_clear_error():
    model = _build(tiny.gmp_cfg())
    data = model.data_preprocessor(
        tiny.with_domains(tiny.batch(4, ('flow', 'audio')), ('D2', 'D1')),
        True)
    with pytest.raises(ValueError, match="domain 'D1'.*not a source"):
        model(**data, mode='loss')
    with pytest.raises(ValueError, match='source_domains is None'):
        MODELS.build(tiny.gmp_cfg(source_domains=None))


def test_single_source_domain_is_semantic_modulation_only():
    model = _build(tiny.gmp_cfg(source_domains=['D2']))
    data = model.data_preprocessor(
        tiny.with_domains(tiny.batch(4, ('flow', 'audio')), ('D2', )), True)
    losses = model(**data, mode='loss')
    assert not any('domain' in k for k in losses)
    assert 'flow_gmp_k' in losses and 'flow_gmp_p' not in losses
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is not None for p in model.parameters()
               if p.requires_grad)


def test_gmp_composes_with_mbcd_through_config():
    mods = ('flow', 'audio')
    model = _build(tiny.gmp_cfg(base=tiny.mbcd_cfg(mods)))
    from .test_recognizer import _optim_wrapper
    wrapper = _optim_wrapper(model)
    in_optim = {id(p) for g in wrapper.optimizer.param_groups
                for p in g['params']}
    assert {id(p) for p in model.gradient_modulation.parameters()} <= \
        in_optim
    before = {k: v.clone() for k, v in model.state_dict().items()}
    losses = model.train_step(tiny.with_domains(tiny.batch(4, mods)),
                              wrapper)
    for key in ('flow_loss_cls', 'flow_loss_domain', 'fused_loss_cls',
                'loss_distill', 'strategy_loss_encoder', 'flow_drop_prob',
                'audio_gmp_k'):
        assert key in losses
    after = model.state_dict()
    for key in ('gradient_modulation.discriminator.0.weight',
                'gradient_modulation.projections.flow.0.weight',
                'cls_heads.audio.layers.0.weight',
                'encoders.flow.backbone.layer4.0.conv1.conv.weight'):
        assert not torch.equal(before[key], after[key]), key


def test_mbcd_gmp_lookahead_uses_the_unmodulated_unimodal_gradient():
    """With GCC the fused loss is computed at theta - alpha * grad CE_k,
    exactly as without GMP (same fused loss value)."""
    mods = ('flow', 'audio')
    torch.manual_seed(0)
    head = dict(type='MLPClsHead', hidden_channels=512, dropout_ratio=0.0)
    kwargs = dict(uni_head=head, fused_head=head, distillation=None,
                  fusion=dict(type='AdaptiveDropoutFusion', mode='off'),
                  gradient_consistency=dict(type='GradientConsistencyLoss',
                                            alpha=0.5))
    plain = _build(tiny.mbcd_cfg(mods, **kwargs))
    with_gmp = _build(tiny.gmp_cfg(base=tiny.mbcd_cfg(mods, **kwargs),
                                   proj_dropout=0.0))
    with_gmp.load_state_dict(plain.state_dict(), strict=False)
    data = plain.data_preprocessor(tiny.with_domains(tiny.batch(6, mods)),
                                   True)
    a = plain(**copy.deepcopy(data), mode='loss')['fused_loss_cls']
    b = with_gmp(**data, mode='loss')['fused_loss_cls']
    assert a.item() == pytest.approx(b.item(), rel=1e-5)


def test_gmp_switched_off_reproduces_the_plain_mbcd_gradient():
    """GMP with k = p = 1, no projection and one source domain must leave
    every gradient of MBCD (look-ahead, distillation of the uni-modal
    predictions, heads, norms) as it is without GMP: the detached-leaf
    plumbing and the surrogate lose nothing."""
    mods = ('flow', 'audio')
    torch.manual_seed(0)
    head = dict(type='MLPClsHead', hidden_channels=512, dropout_ratio=0.0)
    kwargs = dict(uni_head=head, fused_head=head,
                  fusion=dict(type='AdaptiveDropoutFusion', mode='off'),
                  gradient_consistency=dict(type='GradientConsistencyLoss',
                                            alpha=0.5))
    plain = _build(tiny.mbcd_cfg(mods, **kwargs))
    cfg = tiny.gmp_cfg(base=tiny.mbcd_cfg(mods, **kwargs),
                       source_domains=['D2'], use_k=False, use_p=False,
                       projection_mode='none')
    cfg['uni_loss_weight'] = 1.0
    with_gmp = _build(cfg)
    with_gmp.load_state_dict(plain.state_dict())
    # the teacher must differ from the student for the KL to have a gradient
    with torch.no_grad():
        for p in plain.teacher.parameters():
            p.add_(0.05 * torch.randn_like(p))
    with_gmp.teacher.load_state_dict(plain.teacher.state_dict())
    data = plain.data_preprocessor(
        tiny.with_domains(tiny.batch(6, mods), ('D2', )), True)
    grads = []
    for model in (plain, with_gmp):
        losses = model(**copy.deepcopy(data), mode='loss')
        assert losses['loss_distill'].item() > 0
        model.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        grads.append({n: p.grad for n, p in model.named_parameters()
                      if p.requires_grad and
                      not n.startswith('gradient_modulation')})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[1][name], grads[0][name],
                                   rtol=1e-4, atol=1e-7, msg=name)
