import copy

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS

from . import tiny

OPTIM = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))


def _build(cfg):
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _optim_wrapper(model):
    return OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='TrainableParamsOptimWrapperConstructor',
        optim_wrapper_cfg=dict(type='OptimWrapper', **OPTIM)))(model)


def test_loss_keys_and_prediction_fields():
    model = _build(tiny.mbcd_cfg())
    losses = model.train_step(tiny.batch(4), _optim_wrapper(model))
    for key in ('rgb_loss_cls', 'flow_loss_cls', 'audio_loss_cls',
                'fused_loss_cls', 'loss_distill', 'rgb_drop_prob'):
        assert key in losses
    model.eval()
    preds = model.test_step(tiny.batch(3))
    assert set(preds[0].pred_score) == {'fused', 'rgb', 'flow', 'audio'}
    for score in preds[0].pred_score.values():
        assert score.shape == (tiny.NUM_CLASSES,)
        assert score.sum().item() == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize('modalities', [('rgb', 'audio'), ('rgb', 'flow'),
                                        ('flow', 'audio')])
def test_any_subset_of_modalities(modalities):
    model = _build(tiny.mbcd_cfg(modalities))
    losses = model.train_step(tiny.batch(4, modalities),
                              _optim_wrapper(model))
    assert {f'{m}_loss_cls' for m in modalities} <= set(losses)
    width = sum(model.encoders[m].feat_dim for m in modalities)
    assert model.fused_head.layers[0].in_features == width


def test_missing_modality_in_inputs_is_a_clear_error():
    model = _build(tiny.recognizer_cfg(('rgb', 'audio')))
    with pytest.raises(KeyError, match=r"holds modalities \['rgb'\] but the "
                       r"model is built for \['audio', 'rgb'\]"):
        model.data_preprocessor(tiny.batch(2, ('rgb',)), training=True)
    # the model's own check, for inputs that bypass the preprocessor
    inputs = {'rgb': torch.randn(2, *tiny.SHAPES['rgb'])}
    with pytest.raises(KeyError, match="lack modalities \\['audio'\\]"):
        model(inputs, mode='tensor')


def test_frozen_trunk_and_its_bn_statistics_do_not_change():
    model = _build(tiny.mbcd_cfg())
    top_ids = {id(t) for enc in model.encoders.values()
               for layer in enc.top_layers().values()
               for t in list(layer.parameters()) + list(layer.buffers())}
    before = {k: v.clone() for k, v in model.encoders.state_dict().items()}
    named = dict(model.encoders.named_parameters())
    named.update(model.encoders.named_buffers())
    wrapper = _optim_wrapper(model)
    for i in range(3):
        model.train_step(tiny.batch(4, seed=i), wrapper)
    after = model.encoders.state_dict()
    changed_top = 0
    for k, v in before.items():
        if id(named[k]) in top_ids:
            changed_top += not torch.equal(v, after[k])
        else:
            assert torch.equal(v, after[k]), f'frozen {k} changed'
    assert changed_top > 0  # the trainable stages (and their BN) did move
    assert any('running_mean' in k and id(named[k]) in top_ids and
               not torch.equal(before[k], after[k]) for k in before)


def test_optimizer_holds_only_trainable_student_parameters():
    model = _build(tiny.mbcd_cfg())
    wrapper = _optim_wrapper(model)
    in_optim = {id(p) for g in wrapper.optimizer.param_groups
                for p in g['params']}
    teacher = {id(p) for p in model.teacher.parameters()}
    frozen = {id(p) for p in model.parameters() if not p.requires_grad}
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert teacher and not in_optim & teacher
    assert not in_optim & frozen
    assert in_optim == trainable


def test_teacher_holds_no_frozen_weights():
    model = _build(tiny.mbcd_cfg())
    keys = list(model.teacher.module.state_dict())
    assert not any('layer1' in k or 'conv1' in k and 'layer' not in k
                   for k in keys)
    n_teacher = sum(p.numel() for p in model.teacher.module.parameters())
    n_trainable = sum(p.numel() for p in model.parameters()
                      if p.requires_grad)
    assert n_teacher == n_trainable
    assert not any(p.requires_grad for p in model.teacher.parameters())


def test_teacher_starts_as_student_and_ema_update_is_exact():
    model = _build(tiny.mbcd_cfg())
    m = model.teacher.momentum
    student = model.trainable_parts()
    for t, s in zip(model.teacher.module.parameters(), student.parameters()):
        assert torch.equal(t, s)
    model.update_teacher()  # mmengine's first update copies the source
    with torch.no_grad():
        for p in student.parameters():
            p.add_(torch.randn_like(p))
    prev = [t.clone() for t in model.teacher.module.parameters()]
    model.update_teacher()
    for t, t0, s in zip(model.teacher.module.parameters(), prev,
                        student.parameters()):
        torch.testing.assert_close(t, (1 - m) * t0 + m * s)
    assert m == pytest.approx(0.001)
    assert int(model.teacher.steps) == 2


def test_teacher_is_in_state_dict_and_stays_in_eval_mode():
    model = _build(tiny.mbcd_cfg())
    assert any(k.startswith('teacher.module.tops.rgb')
               for k in model.state_dict())
    model.train()
    assert not any(mod.training for mod in model.teacher.modules())


def test_gradient_consistency_gradient_on_the_recognizer():
    """Full model: grad = grad CE_k(theta) + grad CE_fused(theta')."""
    torch.manual_seed(0)
    alpha = 0.5
    head = dict(type='MLPClsHead', hidden_channels=512, dropout_ratio=0)
    cfg = tiny.mbcd_cfg(
        ('flow', 'audio'), uni_head=head, fused_head=head, distillation=None,
        fusion=dict(type='AdaptiveDropoutFusion', mode='off'),
        gradient_consistency=dict(type='GradientConsistencyLoss',
                                  alpha=alpha))
    model = _build(cfg).train()
    reference = copy.deepcopy(model)
    data = model.data_preprocessor(tiny.batch(6, ('flow', 'audio')), True)
    losses = model(**data, mode='loss')
    total = sum(v for k, v in losses.items() if 'loss' in k)
    model.zero_grad()
    total.backward()

    # By hand on a copy: look-ahead weights, then fused loss there.
    ref = reference
    labels = torch.cat([s.gt_label for s in data['data_samples']])
    trunk = ref.extract_trunk(data['inputs'])
    parts = ref.trainable_parts()
    feats, logits = ref.forward_parts(trunk, parts)
    uni = {m: F.cross_entropy(logits[m], labels) for m in logits}
    expected = {}
    looked = copy.deepcopy(ref)
    for m, enc in ref.encoders.items():
        params = [p for layer in enc.top_layers().values()
                  for p in layer.parameters()]
        g_uni = torch.autograd.grad(uni[m], params, retain_graph=True)
        looked_params = [p for layer in looked.encoders[m].top_layers()
                         .values() for p in layer.parameters()]
        with torch.no_grad():
            for lp, p, g in zip(looked_params, params, g_uni):
                lp.copy_(p - alpha * g)
        expected[m] = (params, g_uni, looked_params)
    lparts = looked.trainable_parts()
    lfeats, _ = looked.forward_parts(looked.extract_trunk(data['inputs']),
                                     lparts)
    fused = looked.fused_head(torch.cat([lfeats[m] for m in lfeats], 1))
    fused_loss = F.cross_entropy(fused, labels)
    assert losses['fused_loss_cls'].item() == pytest.approx(
        fused_loss.item(), rel=1e-5)
    for m, (params, g_uni, looked_params) in expected.items():
        g_fused = torch.autograd.grad(fused_loss, looked_params,
                                      retain_graph=True)
        got = [p.grad for layer in model.encoders[m].top_layers().values()
               for p in layer.parameters()]
        for a, u, f in zip(got, g_uni, g_fused):
            torch.testing.assert_close(a, u + f, rtol=1e-4, atol=1e-6)


def test_evaluate_with_student_and_teacher_differ_after_training():
    cfg = tiny.mbcd_cfg(('rgb', 'audio'))
    model = _build(cfg)
    wrapper = _optim_wrapper(model)
    for i in range(3):
        model.train_step(tiny.batch(4, ('rgb', 'audio'), seed=i), wrapper)
        model.update_teacher()
    model.eval()
    data = tiny.batch(2, ('rgb', 'audio'), seed=9)
    by_teacher = model.test_step(copy.deepcopy(data))[0].pred_score['fused']
    model.evaluate_with = 'student'
    by_student = model.test_step(data)[0].pred_score['fused']
    assert not torch.allclose(by_teacher, by_student)


def test_config_errors():
    with pytest.raises(ValueError, match='MBCD needs a teacher cfg'):
        MODELS.build(tiny.mbcd_cfg(teacher=None))
    with pytest.raises(TypeError, match='MBCD needs fusion='):
        MODELS.build(tiny.mbcd_cfg(fusion=dict(type='ConcatFusion')))
    with pytest.raises(ValueError, match='feature_dropout names modalities'):
        MODELS.build(tiny.recognizer_cfg(('rgb', ), feature_dropout=dict(
            depth=0.5)))
    with pytest.raises(ValueError, match='evaluate_with'):
        MODELS.build(tiny.recognizer_cfg(evaluate_with='teacher'))


def test_modalities_select_from_a_larger_encoder_pool():
    cfg = tiny.recognizer_cfg(modalities=('audio', 'rgb'))
    model = MODELS.build(cfg)
    assert model.modalities == ('audio', 'rgb')
    assert list(model.encoders) == ['audio', 'rgb']
    assert set(model.data_preprocessor.preprocessors) == {'audio', 'rgb'}
    cfg['modalities'] = ('rgb', 'depth')
    with pytest.raises(ValueError, match="need an encoder each"):
        MODELS.build(cfg)
    # a modality named twice would be encoded twice
    cfg['modalities'] = ('rgb', 'rgb')
    with pytest.raises(ValueError, match=r"repeat \['rgb'\]; name each "
                       'modality once'):
        MODELS.build(cfg)


def test_batch_with_an_extra_modality_is_a_clear_error():
    model = _build(tiny.recognizer_cfg(('rgb', 'audio')))
    with pytest.raises(KeyError, match=r"holds modalities \['audio', "
                       r"'flow', 'rgb'\] but the model is built for "
                       r"\['audio', 'rgb'\]"):
        model.data_preprocessor(tiny.batch(2, ('rgb', 'flow', 'audio')),
                                training=True)


def test_simmmdg_family_switches_feature_dropout_linear_heads_no_norm():
    """feature_dropout acts on the pooled feature in training only, on the
    modalities it names, before heads and fusion; linear uni heads and no
    LayerNorm are config switches."""
    mods = ('rgb', 'flow')
    model = _build(tiny.recognizer_cfg(
        mods, feature_norm=False, uni_head=dict(type='LinearClsHead'),
        feature_dropout=dict(rgb=0.5))).train()
    assert isinstance(model.norms['rgb'], torch.nn.Identity)
    assert isinstance(model.cls_heads['rgb'].fc, torch.nn.Linear)
    assert model.fused_head.layers[0].in_features == sum(
        model.encoders[m].feat_dim for m in mods)
    data = model.data_preprocessor(tiny.batch(4, mods), True)
    torch.manual_seed(0)
    ctx = model.extract_feats(data['inputs'], data['data_samples'])
    plain = {m: model.encoders[m].forward_top(ctx.trunk[m]) for m in mods}
    dropped = ctx.pooled['rgb'] == 0
    assert 0 < dropped.float().mean() < 1
    torch.testing.assert_close(ctx.pooled['rgb'][~dropped],
                               2 * plain['rgb'][~dropped])
    torch.testing.assert_close(ctx.pooled['flow'], plain['flow'])
    assert ctx.feats['rgb'] is ctx.pooled['rgb']  # no norm
    model.uni_predict(ctx)
    torch.testing.assert_close(ctx.uni_logits['rgb'],
                               model.cls_heads['rgb'](ctx.pooled['rgb']))
    model.fuse(ctx)
    torch.testing.assert_close(ctx.fused_feat, torch.cat(
        [ctx.pooled['rgb'], ctx.pooled['flow']], 1))
    model.eval()  # no dropout in prediction
    logits = model(data['inputs'], mode='tensor')
    torch.testing.assert_close(logits['rgb'], model.cls_heads['rgb'](
        model.encoders['rgb'].forward_top(ctx.trunk['rgb'])))


def test_a_method_can_average_its_own_modules_in_the_teacher():
    """The build_teacher contract: a method registers its modules, adds
    them to trainable_parts and builds the teacher; the teacher starts as
    the student, covers the modules and stays out of the optimiser."""
    from mmaction.registry import MODELS as REG

    from mbcd_mmaction.models.methods import ERM

    @REG.register_module(force=True)
    class _ProjectedTeacherERM(ERM):

        def __init__(self, teacher, **kwargs):
            super().__init__(**kwargs)
            self.projectors = torch.nn.ModuleDict({
                m: torch.nn.Linear(d, 3) for m, d in self.feat_dims.items()})
            self.build_teacher(teacher, evaluate_with='student')

        def trainable_parts(self):
            parts = super().trainable_parts()
            if hasattr(self, 'projectors'):
                parts['projectors'] = self.projectors
            return parts

        def method_losses(self, ctx):
            losses = super().method_losses(ctx)
            t_feats, _ = self.forward_parts(ctx.trunk, self.teacher.module)
            losses['loss_proj'] = sum(
                (self.projectors[m](ctx.feats[m]) -
                 self.teacher.module['projectors'][m](t_feats[m])
                 ).pow(2).mean() for m in self.modalities)
            return losses

    mods = ('rgb', 'audio')
    model = _build(tiny.recognizer_cfg(
        mods, type='_ProjectedTeacherERM',
        teacher=dict(type='ExponentialMovingAverage', momentum=0.5)))
    assert model.evaluate_with == 'student'
    for m in mods:
        torch.testing.assert_close(
            model.teacher.module['projectors'][m].weight,
            model.projectors[m].weight)
    wrapper = _optim_wrapper(model)
    in_optim = {id(p) for g in wrapper.optimizer.param_groups
                for p in g['params']}
    assert {id(p) for p in model.projectors.parameters()} <= in_optim
    assert not {id(p) for p in model.teacher.parameters()} & in_optim
    losses = model.train_step(tiny.batch(4, mods), wrapper)
    assert 'loss_proj' in losses
