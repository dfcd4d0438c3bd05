"""RNA-Net, SimMMDG, MOOSA and CMRF on tiny real encoders: losses, where
their gradients go, CMRF's teacher, MOOSA's routing to GMP."""
import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

from mbcd_mmaction.models.losses import (RelativeNormLoss,
                                         SharedSpecificDistanceLoss)

from . import tiny

SMALL = dict(projection=dict(type='ProjectionHead', hidden_channels=16,
                             out_channels=8))
EXTRA = dict(
    RNA={},
    SimMMDG=dict(SMALL, translation=dict(type='CrossModalTranslation',
                                         hidden_channels=16, mask_ratio=0.0,
                                         loss_weight=0.1, dropout_ratio=0.5)),
    MOOSA=dict(SMALL, translation=dict(type='CrossModalTranslation',
                                       hidden_channels=16, mask_ratio=0.3,
                                       loss_weight=0.1, dropout_ratio=0.5)),
    CMRF=dict(SMALL, teacher=dict(type='SimpleMovingAverage', start_step=2)))
VA = ('rgb', 'audio')


def _cfg(method, modalities=VA, **overrides):
    return tiny.recognizer_cfg(modalities, type=method,
                               **{**EXTRA[method], **overrides})


def _build(cfg):
    model = MODELS.build(cfg)
    model.init_weights()
    return model.train()


def _losses(model, modalities=VA, seed=0):
    data = model.data_preprocessor(tiny.batch(4, modalities, seed=seed),
                                   True)
    return model(**data, mode='loss')


def _grads(loss, model):
    """{parameter name: whether ``loss`` sends it a nonzero gradient}."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, [p for _, p in named],
                                retain_graph=True, allow_unused=True)
    return {n: g is not None and bool(g.abs().sum() > 0)
            for (n, _), g in zip(named, grads)}


def _reached(grads, prefix):
    # any, not all: mmaction zero-initialises the last BN of each residual
    # branch, so the convolutions before it get exactly 0 at first
    hits = [v for n, v in grads.items() if n.startswith(prefix)]
    assert hits, f'no trainable parameter under {prefix}'
    return any(hits)


def _untouched(grads, prefix):
    return not any(v for n, v in grads.items() if n.startswith(prefix))


@pytest.mark.parametrize('method', ['RNA', 'SimMMDG', 'MOOSA', 'CMRF'])
@pytest.mark.parametrize('modalities', [VA, ('rgb', 'flow', 'audio')])
def test_every_trainable_parameter_gets_a_gradient(method, modalities):
    model = _build(_cfg(method, modalities,
                        **({'teacher': dict(type='SimpleMovingAverage',
                                            start_step=1)}
                           if method == 'CMRF' else {})))
    if method == 'CMRF':
        model.update_teacher()  # t0 = 1 reached: the distillation is on
    losses = _losses(model, modalities)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    total.backward()
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    # DDP's rule: every trainable parameter gets a gradient
    assert {n for n, p in model.named_parameters()
            if p.requires_grad and p.grad is None} == set()
    # the frozen trunks and the teacher are not trainable at all
    assert not any('teacher' in n for n in trainable)
    for m in modalities:
        trunk = {f'encoders.{m}.{n}'
                 for n, _ in model.encoders[m].named_parameters()} - {
            f'encoders.{m}.{n}' for name, layer in
            model.encoders[m].top_layers().items()
            for n in _prefixed(model.encoders[m], layer)}
        assert trunk and not trunk & trainable
    # RNA-Net and SimMMDG give the uni-modal heads no loss: frozen
    heads_train = method in ('MOOSA', 'CMRF')
    assert any(n.startswith('cls_heads.') for n in trainable) == heads_train


def _prefixed(encoder, layer):
    """Names, relative to ``encoder``, of ``layer``'s parameters."""
    ids = {id(p) for p in layer.parameters()}
    return [n for n, p in encoder.named_parameters() if id(p) in ids]


def test_rna_loss_on_dropped_out_features_and_its_gradient():
    model = _build(_cfg('RNA', feature_dropout=None))
    losses = _losses(model)
    assert set(losses) == {'fused_loss_cls', 'loss_rna'}
    data = model.data_preprocessor(tiny.batch(4, VA), True)
    with torch.no_grad():
        pooled = model.pooled_features(model.extract_trunk(data['inputs']))
    assert losses['loss_rna'].item() == pytest.approx(
        RelativeNormLoss(loss_weight=1.0)(pooled).item(), rel=1e-5)
    g = _grads(losses['loss_rna'], model)
    assert _reached(g, 'encoders.rgb') and _reached(g, 'encoders.audio')
    assert _untouched(g, 'fused_head') and _untouched(g, 'cls_heads')


def test_rna_defaults_are_the_family_architecture():
    model = _build(_cfg('RNA'))
    assert isinstance(model.norms['rgb'], torch.nn.Identity)
    assert isinstance(model.cls_heads['rgb'].fc, torch.nn.Linear)
    assert model.feature_dropout['rgb'].p == 0.5
    assert 'audio' not in model.feature_dropout
    assert model.uni_loss_weight is None


def test_simmmdg_losses_and_where_they_go():
    model = _build(_cfg('SimMMDG', feature_dropout=None))
    losses = _losses(model)
    assert set(losses) == {'fused_loss_cls', 'loss_trans', 'loss_supcon',
                           'loss_dist'}
    data = model.data_preprocessor(tiny.batch(4, VA), True)
    with torch.no_grad():
        pooled = model.pooled_features(model.extract_trunk(data['inputs']))
    assert losses['loss_dist'].item() == pytest.approx(
        SharedSpecificDistanceLoss(0.7)(pooled).item(), rel=1e-5)
    # the projection heads read the shared halves only
    assert model.projections['rgb'].layers[0].in_features == \
        model.feat_dims['rgb'] // 2
    g = _grads(losses['loss_supcon'], model)
    assert _reached(g, 'projections') and _untouched(g, 'translation')
    assert _reached(g, 'encoders.rgb')
    g = _grads(losses['loss_trans'], model)
    assert _reached(g, 'translation') and _untouched(g, 'projections')
    assert _reached(g, 'encoders.audio')


def test_moosa_losses_weights_and_jigsaw_splits():
    model = _build(_cfg('MOOSA'))
    assert model.jigsaw.permutations.shape == (128, 8)  # 2 mods x 4
    assert _build(_cfg('MOOSA', ('rgb', 'flow', 'audio'))
                  ).jigsaw.permutations.shape == (128, 6)  # 3 x 2
    losses = _losses(model)
    assert set(losses) == {
        'fused_loss_cls', 'rgb_loss_cls_own', 'audio_loss_cls_own',
        'loss_trans', 'loss_supcon', 'loss_dist', 'loss_jigsaw',
        'loss_entmin'}
    # the uni-modal terms' entropy weights reach the fused head
    g = _grads(losses['rgb_loss_cls_own'], model)
    assert _reached(g, 'cls_heads.rgb') and _reached(g, 'fused_head')
    assert _reached(g, 'cls_heads.audio')  # through the weights too
    g = _grads(losses['loss_jigsaw'], model)
    assert _reached(g, 'jigsaw') and _reached(g, 'encoders.rgb')
    assert _untouched(g, 'fused_head')


def test_moosa_routing_changes_no_value_without_a_strategy():
    torch.manual_seed(0)
    plain = _build(_cfg('MOOSA'))
    routed = _build(_cfg('MOOSA', uni_cls_to_strategy=True))
    routed.load_state_dict(plain.state_dict())
    torch.manual_seed(1)
    a = _losses(plain)
    torch.manual_seed(1)
    b = _losses(routed)
    assert b['rgb_loss_cls'].item() == pytest.approx(
        a['rgb_loss_cls_own'].item(), rel=1e-6)
    total = [sum(v for k, v in x.items() if 'loss' in k).item()
             for x in (a, b)]
    assert total[0] == pytest.approx(total[1], rel=1e-6)
    with pytest.raises(ValueError, match='uni_loss_weight=None'):
        MODELS.build(_cfg('MOOSA', uni_cls_to_strategy=True,
                          uni_loss_weight=3.0))
    with pytest.raises(ValueError, match='no uni-modal classification'):
        MODELS.build(_cfg('SimMMDG', uni_cls_to_strategy=True))


@pytest.mark.parametrize('method', ['MOOSA', 'CMRF'])
def test_gmp_modulates_the_routed_terms(method):
    torch.manual_seed(0)
    cfg = tiny.gmp_cfg(VA, base=_cfg(method))
    cfg.update(uni_loss_weight=None, uni_cls_to_strategy=True)
    model = _build(cfg)
    data = model.data_preprocessor(tiny.with_domains(tiny.batch(4, VA)),
                                   True)
    losses = model(**data, mode='loss')
    assert 'rgb_loss_cls' in losses and 'rgb_loss_cls_own' not in losses
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is not None for p in model.parameters()
               if p.requires_grad)


def test_cmrf_teacher_start_gate_and_gradients():
    model = _build(_cfg('CMRF'))  # t0 = 2
    student = model.trainable_parts().state_dict()
    teacher = model.teacher.module.state_dict()
    assert set(student) == set(teacher)  # incl. the projection heads
    assert all(torch.equal(student[k], teacher[k]) for k in student)
    assert not model.teacher.module.training
    assert model.evaluate_with == 'student'
    for step in range(2):  # t = 1, 2 <= t0: no distillation
        losses = _losses(model, seed=step)
        assert losses['loss_distill'].item() == 0.0
        assert not losses['loss_distill'].requires_grad
        model.update_teacher()
    losses = _losses(model)  # t = 3
    assert losses['loss_distill'].item() > 0
    g = _grads(losses['loss_distill'], model)
    assert _reached(g, 'projections') and _reached(g, 'encoders.rgb')
    assert _untouched(g, 'cls_heads') and _untouched(g, 'fused_head')
    g = _grads(losses['audio_loss_cls_own'], model)
    assert _reached(g, 'cls_heads.audio') and _untouched(g, 'projections')
    # uni CE weights: 2.0, audio x 0.5, on the linear heads' logits
    data = model.data_preprocessor(tiny.batch(4, VA), True)
    ctx = model.extract_feats(data['inputs'], data['data_samples'])
    model.uni_predict(ctx)
    ce = model.own_uni_cls(ctx)
    for m, c in (('rgb', 2.0), ('audio', 1.0)):
        assert ce[m].item() == pytest.approx(c * F.cross_entropy(
            ctx.uni_logits[m], ctx.labels).item(), rel=1e-5)


def test_cmrf_shares_the_trunk_and_evaluates_the_student():
    model = _build(_cfg('CMRF'))
    model.eval()
    trunk_calls = []
    original = model.extract_trunk

    def counted(inputs):
        trunk_calls.append(1)
        return original(inputs)

    model.extract_trunk = counted
    data = model.data_preprocessor(tiny.batch(2, VA), False)
    logits = model(**data, mode='tensor')
    assert len(trunk_calls) == 1  # student and teacher share one trunk pass
    assert set(logits) == {'fused', 'rgb', 'audio', 'teacher_fused'}
    # the teacher starts as the student
    torch.testing.assert_close(logits['fused'], logits['teacher_fused'])
    model.train()
    for step in range(3):
        _losses(model, seed=step)
        model.update_teacher()
    assert len(trunk_calls) == 4


def _optim_wrapper(model):
    return OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='TrainableParamsOptimWrapperConstructor',
        optim_wrapper_cfg=dict(type='OptimWrapper', optimizer=dict(
            type='Adam', lr=1e-3, weight_decay=1e-4))))(model)


def test_rna_uni_heads_never_change():
    model = _build(_cfg('RNA'))
    before = {k: v.clone() for k, v in model.cls_heads.state_dict().items()}
    model.train_step(tiny.batch(4, VA), _optim_wrapper(model))
    after = model.cls_heads.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
