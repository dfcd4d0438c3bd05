"""Modality-keyed recognizer for multi-modal domain generalisation: the base
class of every method (``mbcd_mmaction/models/methods``)."""
from typing import Dict, Mapping, Optional, Sequence

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmaction.utils import SampleList
from mmengine.model import BaseModel, ModuleDict

from ..data_preprocessors import TrunkOutputs
from ..encoders.pretrained import PretrainedWeightsError
from mbcd_mmaction.structures import ForwardContext


def _default_preprocessor(modalities) -> dict:
    # The pipeline already normalises (exact flow negation under flip needs
    # float data); the preprocessor only batches and moves to the device.
    # The scope prefix is needed because BaseModel builds it from mmengine's
    # root registry.
    return dict(type='mmaction.CheckedMultiModalDataPreprocessor',
                preprocessors={m: dict(type='ActionDataPreprocessor')
                               for m in modalities})


def summed_losses(losses: Mapping[str, torch.Tensor]) -> list:
    """The values mmengine adds to the total loss (keys containing 'loss')
    that carry a gradient."""
    return [v for k, v in losses.items() if 'loss' in k and v.requires_grad]


class MultiModalRecognizer(BaseModel):
    """Encoders keyed by modality, uni-modal heads and a fused head; the
    steps every method shares. Not registered: configs name a method
    (``ERM``, ``EMA``, ``MBCD``, ...), a subclass that overrides steps.

    Per modality ``k``: frozen trunk -> trainable top stages -> pooled
    feature -> feature dropout -> feature norm -> own head (logits
    ``f_k``). The fused head reads the fusion of the normalised features.
    One training iteration (:meth:`loss`) runs these named steps, each a
    method that a subclass may override; they fill one
    :class:`ForwardContext`:

    1. :meth:`extract_trunk` - frozen trunks, once per batch;
    2. :meth:`extract_feats` - pooled, dropped-out, normalised features
       (``pooled``, ``feats``; ``leaves``/``uni_feats`` with a strategy);
    3. :meth:`uni_predict` - uni-modal logits;
    4. :meth:`uni_cls_losses` - the uni-modal classification terms (those
       a gradient strategy modulates);
    5. :meth:`fuse` - fused feature and logits;
    6. :meth:`method_losses` - every other loss of the method (passes a
       gradient strategy unmodulated).

    Composable parts, all set by config:

    - ``teacher``: an averaged copy (mmengine ``BaseAveragedModel`` cfg) of
      :meth:`trainable_parts` (never the frozen trunk, whose output it
      shares), moved by ``TeacherUpdateHook`` after every optimiser step and
      read with :meth:`teacher_logits` or :meth:`forward_parts`
      (``self.teacher.module`` has the keys of :meth:`trainable_parts`;
      see :meth:`build_teacher` for a teacher of a method's own modules);
    - ``gradient_modulation``: a gradient strategy (e.g. GMP,
      :class:`BaseGradientStrategy`). The uni-modal heads then read
      detached leaves; the strategy turns the step-4 terms into encoder
      gradients, the step-6 terms reach the encoders unmodulated, all in
      the single backward of the summed losses (DDP-safe).

    A method adds trainable modules by registering them in ``__init__``
    (the optimiser takes every parameter with ``requires_grad``); each must
    get a gradient every iteration, as DDP requires.

    Args:
        encoders (dict): ``{modality: encoder cfg}`` (e.g.
            ``SlowFastEncoder``, ``ResNetEncoder``).
        num_classes (int): Number of classes.
        modalities (Sequence[str], optional): The modalities used, in
            concatenation order; each needs an entry in ``encoders`` (which
            may hold more, so one base config serves va/vf/af/vaf).
            Defaults to all of ``encoders``.
        uni_head (dict): Uni-modal head cfg (``in_channels`` and
            ``num_classes`` are filled in).
        fused_head (dict): Fused head cfg.
        fusion (dict): Fusion cfg (ERM: ``ConcatFusion``).
        feature_norm (bool): LayerNorm on each pooled feature.
        feature_dropout (dict, optional): ``{modality: p}``: dropout on the
            pooled feature before norm, heads and fusion, in training (the
            SimMMDG family's "features after head dropout"). Defaults to
            None (none).
        loss_cls (dict): Classification loss. Defaults to CrossEntropyLoss.
        uni_loss_weight (float, optional): Weight of each uni-modal CE;
            None: no uni-modal CE.
        teacher (dict, optional): Averaged-model cfg, e.g.
            ``dict(type='ExponentialMovingAverage', momentum=0.001)``
            (mmengine's momentum is ``1 - beta``).
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
                 uni_head: dict,
                 fused_head: dict,
                 fusion: dict,
                 feature_norm: bool,
                 uni_loss_weight: Optional[float],
                 modalities: Optional[Sequence[str]] = None,
                 feature_dropout: Optional[Mapping[str, float]] = None,
                 loss_cls: dict = dict(type='CrossEntropyLoss'),
                 teacher: Optional[dict] = None,
                 gradient_modulation: Optional[dict] = None,
                 evaluate_with: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        name = type(self).__name__
        modalities = tuple(encoders if modalities is None else modalities)
        unknown = [m for m in modalities if m not in encoders]
        if not modalities or unknown:
            raise ValueError(
                f'{name}: modalities {modalities} need an '
                f'encoder each; encoders are given for {tuple(encoders)}')
        repeated = sorted({m for m in modalities if modalities.count(m) > 1})
        if repeated:
            raise ValueError(f'{name}: modalities {modalities} repeat '
                             f'{repeated}; name each modality once.')
        unknown = [m for m in (feature_dropout or {}) if m not in encoders]
        if unknown:
            raise ValueError(f'{name}: feature_dropout names modalities '
                             f'{unknown} without an encoder; encoders are '
                             f'given for {tuple(encoders)}')
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
        self.feat_dims = dims
        self.feature_dropout = nn.ModuleDict({
            m: nn.Dropout(p) for m, p in (feature_dropout or {}).items()
            if m in dims and p > 0})
        self.norms = ModuleDict({
            m: nn.LayerNorm(d) if feature_norm else nn.Identity()
            for m, d in dims.items()})
        self.cls_heads = ModuleDict({
            m: MODELS.build({**uni_head, 'in_channels': d,
                             'num_classes': num_classes})
            for m, d in dims.items()})
        self.fused_head = MODELS.build({
            **fused_head, 'in_channels': sum(dims.values()),
            'num_classes': num_classes})
        self.fusion = MODELS.build(fusion)
        self.loss_cls = MODELS.build(loss_cls)
        self.uni_loss_weight = uni_loss_weight
        self.build_teacher(teacher, evaluate_with)
        self.gradient_modulation = MODELS.build(
            gradient_modulation, default_args=dict(feat_dims=dims)) \
            if gradient_modulation else None

    #: The method computes the uni-modal terms' encoder gradients in the
    #: forward (e.g. MBCD's look-ahead): the uni-modal heads then read
    #: detached leaves and those gradients are injected into the backward,
    #: so the final backward does not run the top stages for them again.
    computes_uni_cls_grads = False

    def build_teacher(self, teacher: Optional[dict],
                      evaluate_with: Optional[str] = None) -> None:
        """Builds the averaged copy of :meth:`trainable_parts` and decides
        what is evaluated. A method whose teacher also averages its own
        modules passes ``teacher=None`` to ``super().__init__``, registers
        those modules, then calls this with its teacher cfg.

        Args:
            teacher: Averaged-model cfg (mmengine ``BaseAveragedModel``
                subclass; ``model`` is filled in), or None.
            evaluate_with: ``'teacher'``, ``'student'`` or None (the teacher
                when there is one).
        """
        self.teacher = (MODELS.build(
            teacher, default_args=dict(model=self.trainable_parts()))
            if teacher else None)
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
        """The student's modules the teacher averages, by reference: top
        stages, norms, uni-modal and fused heads. A method whose teacher
        also averages its own modules (e.g. projection heads) adds them
        here; :meth:`forward_parts` reads the keys below."""
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
        """One step of the averaged teacher towards the student (after each
        optimiser step, by ``TeacherUpdateHook``)."""
        if self.teacher is None:
            raise RuntimeError(f'update_teacher called on a {type(self)}'
                               ' without a teacher (model.teacher is None)')
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
        """Normalised features and uni-modal logits per modality, without
        the feature dropout (prediction, the teacher).

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

    def teacher_logits(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        """The teacher's logits on the batch (no gradient), from the shared
        trunk output; computed once per context."""
        if self.teacher is None:
            raise RuntimeError(f'{type(self).__name__} has no teacher; set '
                               'model.teacher')
        if 'teacher_logits' not in ctx.extras:
            with torch.no_grad():
                ctx.extras['teacher_logits'] = self.predict_logits(
                    ctx.trunk, self.teacher.module)
        return ctx.extras['teacher_logits']

    def encoder_params(self) -> Dict[str, list]:
        """Trainable encoder parameters per modality (top stages), in the
        order :class:`GradientConsistencyLoss` visits them."""
        return {m: [p for layer in enc.top_layers().values()
                    for p in layer.parameters() if p.requires_grad]
                for m, enc in self.encoders.items()}

    def pooled_features(self, trunk_outs: Mapping,
                        top_layers: Optional[Mapping] = None
                        ) -> Dict[str, torch.Tensor]:
        """The student's pooled features in training: top stages (or
        ``top_layers`` standing in for them), then the feature dropout."""
        out = {}
        for m, enc in self.encoders.items():
            f = enc.forward_top(trunk_outs[m],
                                None if top_layers is None else top_layers[m])
            out[m] = self.feature_dropout[m](f) \
                if m in self.feature_dropout else f
        return out

    @staticmethod
    def _labels(data_samples: SampleList) -> torch.Tensor:
        return torch.cat([s.gt_label.reshape(-1) for s in data_samples])

    # -- the named training steps ---------------------------------------------
    def extract_feats(self, inputs: Mapping[str, torch.Tensor],
                      data_samples: SampleList) -> ForwardContext:
        """Steps 1-2: trunk, pooled and normalised features."""
        trunk = self.extract_trunk(inputs)
        pooled = self.pooled_features(trunk)
        leaves, batch_vjps = None, True
        if self.gradient_modulation is not None or \
                self.computes_uni_cls_grads:
            # The heads read detached leaves, so the uni-modal terms reach
            # the encoders only through the strategy or the injected
            # gradient (never a second time through the top stages).
            leaves = {m: f.detach().requires_grad_()
                      for m, f in pooled.items()}
            uni_feats = {m: self.norms[m](f) for m, f in leaves.items()}
            # Looked up each time: the runner may convert the norms after
            # the model is built (sync_bn).
            batch_vjps = not any(
                isinstance(module, nn.SyncBatchNorm)
                for enc in self.encoders.values()
                for layer in enc.top_layers().values()
                for module in layer.modules())
        feats = {m: self.norms[m](f) for m, f in pooled.items()}
        return ForwardContext(
            data_samples=data_samples, labels=self._labels(data_samples),
            trunk=trunk, pooled=pooled, feats=feats, leaves=leaves,
            uni_feats=feats if leaves is None else uni_feats,
            uni_logits={}, encoder_params=self.encoder_params(),
            batch_vjps=batch_vjps)

    def uni_predict(self, ctx: ForwardContext) -> None:
        """Step 3: uni-modal logits from ``ctx.uni_feats``."""
        ctx.uni_logits = {m: self.cls_heads[m](f)
                          for m, f in ctx.uni_feats.items()}

    def uni_cls_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        """Step 4: the uni-modal classification terms, unweighted, per
        modality (weighted by ``uni_loss_weight`` into ``{m}_loss_cls``).
        These, and only these, are what a gradient strategy modulates."""
        if self.uni_loss_weight is None:
            return {}
        return {m: self.loss_cls(ctx.uni_logits[m], ctx.labels)
                for m in self.modalities}

    def leaf_passthrough(self, ctx: ForwardContext
                         ) -> Optional[torch.Tensor]:
        """Step 4b (only with detached leaves): the part of the step-6
        losses that reads the uni-modal predictions, if the method can give
        it before the fusion (e.g. MBCD's uni-modal distillation), as one
        scalar; its encoder gradient is then computed in the same backward
        through the top stages as the uni-modal terms' gradient. A method
        that returns it declares that its step-6 losses reach the leaves
        only through it. Default None: the leaves' gradient of the step-6
        losses goes through the top stages in the final backward."""
        return None

    def fuse(self, ctx: ForwardContext) -> None:
        """Step 5: ``ctx.fused_feat`` and ``ctx.fused_logits``."""
        ctx.fused_feat = self.fusion(ctx.feats)
        ctx.fused_logits = self.fused_head(ctx.fused_feat)

    def method_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        """Step 6: the method's losses other than the uni-modal terms (and
        logged values: mmengine sums only keys containing 'loss')."""
        raise NotImplementedError(
            f'{type(self).__name__} must define method_losses')

    def loss(self, inputs: Mapping[str, torch.Tensor],
             data_samples: SampleList) -> Dict[str, torch.Tensor]:
        """The named steps in order. With detached leaves, the encoder
        gradients computed in the forward go into the one backward through
        zero-valued terms: a strategy's in ``strategy_loss_encoder``; without
        one, each ``{m}_loss_cls`` carries its modality's (the uni-modal
        term's gradient, already computed for the method, e.g. MBCD's
        look-ahead, plus what the method's losses send through the leaf)."""
        ctx = self.extract_feats(inputs, data_samples)
        self.uni_predict(ctx)
        ctx.uni_cls = self.uni_cls_losses(ctx)
        weight = 1.0 if self.uni_loss_weight is None else \
            self.uni_loss_weight
        losses = {f'{m}_loss_cls': weight * v
                  for m, v in ctx.uni_cls.items()}
        strategy = self.gradient_modulation
        plain = None
        if ctx.leaves is not None:
            ctx.set_leaf_passthrough(self.leaf_passthrough(ctx))
            if strategy is None:
                missing = [m for m in ctx.leaves if m not in ctx.uni_cls]
                if missing:
                    raise ValueError(
                        f'{type(self).__name__} computes the uni-modal '
                        f'gradients, but gives no uni-modal term for '
                        f'{missing}; set model.uni_loss_weight')
                # Held here: the method may release its own references.
                plain = {m: ctx.uni_cls_grads(m) for m in ctx.leaves}
        if strategy is not None:
            strategy_losses, modulated = strategy.encoder_gradients(
                ctx, weight)
            losses.update(strategy_losses)
        self.fuse(ctx)
        own = self.method_losses(ctx)
        losses.update({k: v for k, v in own.items() if 'loss' in k})
        if ctx.leaves is not None:
            late = summed_losses(own) if ctx.leaf_passthrough is None \
                else []
            if strategy is not None:
                losses['strategy_loss_encoder'] = strategy.encoder_loss(
                    ctx, modulated, late)
            else:
                feature_grads = ctx.leaf_feature_grads(late)
                for m, grads in plain.items():
                    extra = ctx.passthrough_grads(m)
                    if extra is None:
                        G = torch._foreach_mul(grads, weight)
                    else:  # in place in the batched buffer
                        G = list(extra)
                        torch._foreach_add_(G, grads, alpha=weight)
                    feature = {m: feature_grads[m]} \
                        if m in feature_grads else {}
                    losses[f'{m}_loss_cls'] = losses[f'{m}_loss_cls'] + \
                        ctx.injection({m: G}, feature)
                plain = None
        # Logged, not summed: kept last, as mmengine's log shows them.
        losses.update({k: v for k, v in own.items() if 'loss' not in k})
        return losses

    def predict(self, inputs: Mapping[str, torch.Tensor],
                data_samples: SampleList) -> SampleList:
        """Sets ``pred_score`` to ``{'fused': probs, modality: probs}`` so
        mmaction's ``AccMetric`` reports fused and per-modality accuracy."""
        logits = self.forward(inputs, mode='tensor')
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
