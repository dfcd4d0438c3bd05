"""Modality-keyed recognizer for multi-modal domain generalisation."""
from typing import Dict, Mapping, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import BaseModel, ModuleDict

from ..data_preprocessors import TrunkOutputs
from ..encoders.pretrained import PretrainedWeightsError


def _default_preprocessor(modalities) -> dict:
    # The pipeline already normalises (exact flow negation under flip needs
    # float data); the preprocessor only batches and moves to the device.
    # The scope prefix is needed because BaseModel builds it from mmengine's
    # root registry.
    return dict(type='mmaction.CheckedMultiModalDataPreprocessor',
                preprocessors={m: dict(type='ActionDataPreprocessor')
                               for m in modalities})


@MODELS.register_module()
class MultiModalRecognizer(BaseModel):
    """Encoders keyed by modality, uni-modal heads and a fused head.

    Per modality ``k``: frozen trunk -> trainable top stages -> pooled
    feature -> LayerNorm -> own MLP head (logits ``f_k``). The fused head sees
    the concatenated normalised features, after the fusion neck (adaptive
    modality dropout in MBCD). Every MBCD component is optional, so ERM, EMA
    and the rows of the paper's Tables 4 and 5 are configs:

    - ``fusion``: :class:`AdaptiveDropoutFusion` (mode adaptive/fixed/off);
    - ``gradient_consistency``: :class:`GradientConsistencyLoss` (Eq. 5);
    - ``teacher``: an ``ExponentialMovingAverage`` of the trainable parts
      (top stages, norms, heads; never the frozen trunk, whose output it
      shares), updated by ``EMATeacherHook`` after every optimiser step;
    - ``distillation``: :class:`CollaborativeDistillationLoss` (Eq. 8),
      which needs a teacher;
    - ``gradient_modulation``: a gradient-level strategy composable with
      all of the above, e.g. :class:`GradientModulationProjection` (GMP).
      It is consumed at one place of :meth:`loss`: the uni-modal heads (and
      the strategy's own branches) then read a detached copy of each pooled
      feature, the strategy turns their losses' gradients into the encoder
      gradient it wants (``G``), and a zero-valued surrogate loss
      (``gmp_loss_encoder``) delivers ``G`` to the encoders in the single
      backward of the summed losses (DDP-safe). The fused loss and the
      distillation reach the encoders unmodified; with gradient consistency
      the look-ahead uses the unmodulated uni-modal gradient.

    Loss (Eq. 9): ``CE_fused(theta') + w * sum_k CE_k(theta) + L_dis``.

    Args:
        encoders (dict): ``{modality: encoder cfg}`` (e.g.
            ``SlowFastEncoder``, ``ResNetEncoder``).
        num_classes (int): Number of classes.
        modalities (Sequence[str], optional): The modalities used, in
            concatenation order; each needs an entry in ``encoders`` (which
            may hold more, so one base config serves va/vf/af/vaf).
            Defaults to all of ``encoders``.
        cls_head (dict): Head cfg shared by the uni-modal and fused heads;
            ``in_channels`` and ``num_classes`` are filled in.
        fusion (dict): Fusion neck cfg.
        feature_norm (bool): LayerNorm on each pooled feature. Defaults True.
        loss_cls (dict): Classification loss. Defaults to CrossEntropyLoss.
        uni_loss_weight (float): Weight of each uni-modal CE. Defaults to 1.
        gradient_consistency (dict, optional): Look-ahead loss cfg.
        teacher (dict, optional): Averaged-model cfg, e.g.
            ``dict(type='ExponentialMovingAverage', momentum=0.001)``
            (mmengine's momentum is ``1 - beta``).
        distillation (dict, optional): Distillation loss cfg.
        gradient_modulation (dict, optional): Gradient strategy cfg
            (``feat_dims`` is filled in).
        evaluate_with (str, optional): ``'teacher'`` or ``'student'`` for
            validation and test; defaults to the teacher when there is one.
        data_preprocessor (dict, optional): Defaults to batching per
            modality with mmaction's ``MultiModalDataPreprocessor``.
    """

    def __init__(self,
                 encoders: Mapping[str, dict],
                 num_classes: int,
                 modalities: Optional[Sequence[str]] = None,
                 cls_head: dict = dict(type='MLPClsHead'),
                 fusion: dict = dict(type='AdaptiveDropoutFusion',
                                     mode='off'),
                 feature_norm: bool = True,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 uni_loss_weight: float = 1.0,
                 gradient_consistency: Optional[dict] = None,
                 teacher: Optional[dict] = None,
                 distillation: Optional[dict] = None,
                 gradient_modulation: Optional[dict] = None,
                 evaluate_with: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        modalities = tuple(encoders if modalities is None else modalities)
        unknown = [m for m in modalities if m not in encoders]
        if not modalities or unknown:
            raise ValueError(
                f'MultiModalRecognizer: modalities {modalities} need an '
                f'encoder each; encoders are given for {tuple(encoders)}')
        super().__init__(
            data_preprocessor=data_preprocessor or
            _default_preprocessor(modalities),
            init_cfg=init_cfg)
        self.modalities = modalities
        # mmengine's ModuleDict, not torch's: only it passes init_weights
        # on, and the encoders load their pretrained weights there.
        self.encoders = ModuleDict(
            {m: MODELS.build(encoders[m]) for m in modalities})
        dims = {m: enc.feat_dim for m, enc in self.encoders.items()}
        self.norms = ModuleDict({
            m: nn.LayerNorm(d) if feature_norm else nn.Identity()
            for m, d in dims.items()})
        self.cls_heads = ModuleDict({
            m: MODELS.build({**cls_head, 'in_channels': d,
                             'num_classes': num_classes})
            for m, d in dims.items()})
        self.fused_head = MODELS.build({
            **cls_head, 'in_channels': sum(dims.values()),
            'num_classes': num_classes})
        self.fusion = MODELS.build(fusion)
        self.loss_cls = MODELS.build(loss_cls)
        self.uni_loss_weight = uni_loss_weight
        self.gradient_consistency = (MODELS.build(gradient_consistency)
                                     if gradient_consistency else None)
        if distillation and not teacher:
            raise ValueError('distillation needs a teacher: set '
                             "model.teacher=dict(type='ExponentialMovingAverage'"
                             ', momentum=0.001)')
        self.teacher = (MODELS.build(
            teacher, default_args=dict(model=self.trainable_parts()))
            if teacher else None)
        self.distillation = MODELS.build(distillation) if distillation \
            else None
        self.gradient_modulation = MODELS.build(
            gradient_modulation, default_args=dict(feat_dims=dims)) \
            if gradient_modulation else None
        if evaluate_with is None:
            evaluate_with = 'teacher' if self.teacher is not None else \
                'student'
        if evaluate_with not in ('teacher', 'student'):
            raise ValueError("evaluate_with must be 'teacher' or 'student', "
                             f'got {evaluate_with!r}')
        if evaluate_with == 'teacher' and self.teacher is None:
            raise ValueError("evaluate_with='teacher' needs model.teacher")
        self.evaluate_with = evaluate_with

    # -- parts ---------------------------------------------------------------
    def trainable_parts(self) -> nn.ModuleDict:
        """The student's trainable modules, by reference, in the layout the
        EMA teacher copies: top stages, norms, uni-modal and fused heads."""
        return nn.ModuleDict(dict(
            tops=nn.ModuleDict({m: nn.ModuleDict(enc.top_layers())
                                for m, enc in self.encoders.items()}),
            norms=self.norms, cls_heads=self.cls_heads,
            fused_head=self.fused_head))

    def init_weights(self) -> None:
        """Initialises every part (the encoders load their pretrained
        weights), then copies the loaded student into the teacher."""
        for m, enc in self.encoders.items():
            try:
                enc.init_weights()
            except PretrainedWeightsError as e:
                raise PretrainedWeightsError(
                    f'model.encoders.{m}.pretrained: {e}') from e
        super().init_weights()
        if self.teacher is not None:  # the teacher starts as the student
            self.teacher.module.load_state_dict(
                self.trainable_parts().state_dict())

    @torch.no_grad()
    def update_teacher(self) -> None:
        """One EMA step (Eq. 7) of the teacher towards the student."""
        if self.teacher is None:
            raise RuntimeError('update_teacher called on a model without a '
                               'teacher (model.teacher is None)')
        self.teacher.update_parameters(self.trainable_parts())

    def train(self, mode: bool = True) -> 'MultiModalRecognizer':
        super().train(mode)
        if self.teacher is not None:  # the teacher only ever predicts
            self.teacher.train(False)
        return self

    # -- computation -----------------------------------------------------------
    def extract_trunk(self, inputs: Mapping[str, torch.Tensor]) -> Dict:
        """Frozen trunk outputs per modality (computed once per batch)."""
        missing = [m for m in self.modalities if m not in inputs]
        if missing:
            raise KeyError(
                f'inputs lack modalities {missing} that the model has '
                f'encoders for; got {sorted(inputs)}. The dataset '
                '`modalities` and the model `encoders` must agree.')
        if isinstance(inputs, TrunkOutputs):  # read from a trunk cache
            return inputs
        return {m: enc.forward_trunk(inputs[m])
                for m, enc in self.encoders.items()}

    def forward_parts(self, trunk_outs: Mapping, parts: nn.ModuleDict,
                      top_layers: Optional[Mapping] = None):
        """Normalised features and uni-modal logits per modality.

        Args:
            trunk_outs: From :meth:`extract_trunk`.
            parts: :meth:`trainable_parts` of the student or the teacher.
            top_layers: Replaces ``parts['tops']`` (look-ahead callables).

        Returns:
            tuple[dict, dict]: features (N, C_k) and logits (N, classes).
        """
        feats, logits = {}, {}
        for m, enc in self.encoders.items():
            layers = parts['tops'][m] if top_layers is None else \
                top_layers[m]
            feats[m] = parts['norms'][m](enc.forward_top(trunk_outs[m],
                                                         layers))
            logits[m] = parts['cls_heads'][m](feats[m])
        return feats, logits

    def predict_logits(self, trunk_outs: Mapping, parts: nn.ModuleDict
                       ) -> Dict[str, torch.Tensor]:
        """Logits without dropout: ``{'fused': ..., modality: ...}``."""
        feats, logits = self.forward_parts(trunk_outs, parts)
        return dict(fused=parts['fused_head'](self.fusion(feats)), **logits)

    def encoder_params(self) -> Dict[str, list]:
        """Trainable encoder parameters per modality (top stages), in the
        order :class:`GradientConsistencyLoss` visits them."""
        return {m: [p for layer in enc.top_layers().values()
                    for p in layer.parameters() if p.requires_grad]
                for m, enc in self.encoders.items()}

    @staticmethod
    def _labels(data_samples: SampleList) -> torch.Tensor:
        return torch.cat([s.gt_label.reshape(-1) for s in data_samples])

    def loss(self, inputs: Mapping[str, torch.Tensor],
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        labels = self._labels(data_samples)
        trunk_outs = self.extract_trunk(inputs)
        student = self.trainable_parts()
        gmp = self.gradient_modulation
        if gmp is None:
            feats, uni_logits = self.forward_parts(trunk_outs, student)
        else:
            # Heads and the strategy's branches read detached leaves, so
            # their losses reach the encoders only through G (below).
            pooled = {m: enc.forward_top(trunk_outs[m])
                      for m, enc in self.encoders.items()}
            leaves = {m: f.detach().requires_grad_()
                      for m, f in pooled.items()}
            leaf_feats = {m: self.norms[m](f) for m, f in leaves.items()}
            uni_logits = {m: self.cls_heads[m](f)
                          for m, f in leaf_feats.items()}
            feats = {m: self.norms[m](f) for m, f in pooled.items()}
        uni_losses = {m: self.loss_cls(uni_logits[m], labels)
                      for m in self.modalities}
        losses = {f'{m}_loss_cls': self.uni_loss_weight * uni_losses[m]
                  for m in self.modalities}
        raw_uni_grads = {}
        if gmp is not None:
            enc_params = self.encoder_params()
            gmp_losses, gmp_grads, raw_uni_grads = gmp.encoder_gradients(
                leaves, pooled, leaf_feats, uni_logits, uni_losses,
                self.uni_loss_weight, labels, data_samples, enc_params)
            losses.update(gmp_losses)

        drop_probs = self.fusion.drop_probabilities(uni_logits)
        if self.gradient_consistency is not None:
            lookahead = {m: self.gradient_consistency.lookahead_layers(
                uni_losses[m], student['tops'][m],
                grads=raw_uni_grads.get(m)) for m in self.modalities}
            fused_feats, _ = self.forward_parts(trunk_outs, student,
                                                top_layers=lookahead)
            fused_logits = self.fused_head(self.fusion(fused_feats,
                                                       drop_probs))
            losses['fused_loss_cls'] = self.gradient_consistency(
                fused_logits, labels)
        else:
            fused_logits = self.fused_head(self.fusion(feats, drop_probs))
            losses['fused_loss_cls'] = self.loss_cls(fused_logits, labels)

        if self.distillation is not None:
            with torch.no_grad():
                teacher_fused = self.predict_logits(
                    trunk_outs, self.teacher.module)['fused']
            losses['loss_distill'] = self.distillation(
                teacher_fused, fused_logits, uni_logits)
        if gmp is not None:
            # Losses other than the modulated ones that read the leaves
            # (the uni-modal distillation terms) reach the encoders
            # unmodulated, as without the strategy.
            passthrough = [v for k, v in losses.items()
                           if 'loss' in k and v.requires_grad and
                           k not in {f'{m}_loss_cls' for m in self.modalities}
                           and not k.endswith('_loss_domain')]
            feature_grads = {}
            if passthrough:
                grads = torch.autograd.grad(
                    sum(passthrough), list(leaves.values()),
                    retain_graph=True, allow_unused=True)
                feature_grads = dict(zip(leaves, grads))
            # Value 0, gradient G (+ the pass-through) on the encoders.
            losses['gmp_loss_encoder'] = gmp.surrogate_loss(
                enc_params, gmp_grads, pooled, feature_grads)
        # Logged, not summed: mmengine sums only keys containing 'loss'.
        for m, p in drop_probs.items():
            losses[f'{m}_drop_prob'] = p.detach()
        return losses

    def predict(self, inputs: Mapping[str, torch.Tensor],
                data_samples: SampleList) -> SampleList:
        """Sets ``pred_score`` to ``{'fused': probs, modality: probs}`` so
        mmaction's ``AccMetric`` reports fused and per-modality accuracy."""
        parts = self.teacher.module if self.evaluate_with == 'teacher' \
            else self.trainable_parts()
        logits = self.predict_logits(self.extract_trunk(inputs), parts)
        scores = {k: v.float().softmax(dim=1) for k, v in logits.items()}
        for i, sample in enumerate(data_samples):
            sample.set_field({k: v[i] for k, v in scores.items()},
                             'pred_score')
        return data_samples

    def forward(self, inputs: Mapping[str, torch.Tensor],
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            parts = self.teacher.module if self.evaluate_with == 'teacher' \
                else self.trainable_parts()
            return self.predict_logits(self.extract_trunk(inputs), parts)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', "
                         f'got {mode!r}')
