"""CMRF: cross-modal representation flattening (Fan et al., NeurIPS 2024)."""
from typing import Dict

import torch
import torch.nn as nn
from mmaction.registry import MODELS
from mmengine.model import ModuleDict

from mbcd_mmaction.structures import ForwardContext
from .simmmdg_family import SimMMDGFamily


@MODELS.register_module()
class CMRF(SimMMDGFamily):
    """Distillation toward a moving-average teacher's cross-modal mixup.

    ``L = CE(fused) + 2.0 sum_k c_k CE_k + 3.0 L_sup([s_k])
    + 1[t > t0] 3.0 sum_pairs sum_{k in pair} c_k d(t_k, s_k)``
    with ``c_audio = 0.5`` (docs/methods.md; the authors' README
    flags). ``s_k`` is the student's projection (:class:`ProjectionHead` on
    the full feature ``e_k``), ``t_k`` the mixup of the teacher's
    projections (:class:`MixupDistillationLoss`, Beta(0.1, 0.1)), ``L_sup``
    :class:`SupConLoss` on the student projections, ``CE_k`` the linear
    uni-modal heads' CE (:class:`ModalityWeightedCELoss`).

    The teacher is a :class:`SimpleMovingAverage` (uniform mean of the
    students after ``t0`` = ``teacher.start_step`` updates: 400 for EPIC,
    100 for HAC) of the top stages, heads and projection heads, updated
    after every optimiser step by ``TeacherUpdateHook`` and kept in eval mode.
    It reuses the student's frozen trunk output, which is exact here
    because the frozen trunk runs BatchNorm in eval mode (the authors'
    teacher re-ran its own trunk in train-mode BN). The distillation starts
    once the teacher has averaged ``t0`` updates, i.e. at step ``t0 + 1``.

    Validation and test use the student, as the authors' selection does;
    the teacher's fused accuracy is reported beside it
    (``acc/teacher_fused_top1``).

    Args:
        projection (dict): Projection head cfg (``in_channels`` filled in).
        contrastive (dict): Contrastive loss cfg.
        uni_cls_loss (dict): Uni-modal CE cfg (weight 2.0, audio x 0.5).
        distillation (dict): Mixup distillation cfg (weight 3.0, audio
            x 0.5).
        teacher (dict): Averaged-model cfg.
        evaluate_with (str): ``'student'`` (the authors' selection).
        **kwargs: :class:`SimMMDGFamily`'s arguments.
    """

    trains_uni_heads = True

    def __init__(self, projection: dict, contrastive: dict,
                 uni_cls_loss: dict, distillation: dict, teacher: dict,
                 evaluate_with: str, **kwargs) -> None:
        if not teacher or 'start_step' not in teacher:
            raise ValueError('CMRF needs a teacher cfg with a start_step '
                             "(e.g. dict(type='SimpleMovingAverage', "
                             f'start_step=400)), got {teacher!r}')
        # The teacher averages the projection heads too, so it is built
        # after them (the base class would build it from its own parts).
        super().__init__(evaluate_with='student', **kwargs)
        self.projections = ModuleDict({
            m: MODELS.build({**projection, 'in_channels': d})
            for m, d in self.feat_dims.items()})
        self.contrastive = MODELS.build(contrastive)
        self.uni_cls_loss = MODELS.build(uni_cls_loss)
        self.distillation = MODELS.build(distillation)
        self.teacher = MODELS.build(
            teacher, default_args=dict(model=self.trainable_parts()))
        if evaluate_with not in ('teacher', 'student'):
            raise ValueError("evaluate_with must be 'teacher' or 'student', "
                             f'got {evaluate_with!r}')
        self.evaluate_with = evaluate_with

    def trainable_parts(self) -> nn.ModuleDict:
        parts = super().trainable_parts()
        parts['projections'] = self.projections
        return parts

    @property
    def distilling(self) -> bool:
        """Whether this step distils: the teacher has averaged ``t0``
        updates (the step counted from 1 is ``t > t0``)."""
        return int(self.teacher.steps) >= self.teacher.start_step

    def own_uni_cls(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        return self.uni_cls_loss(ctx.uni_logits, ctx.labels)

    def student_projections(self, ctx: ForwardContext
                            ) -> Dict[str, torch.Tensor]:
        return {m: self.projections[m](f) for m, f in ctx.pooled.items()}

    @torch.no_grad()
    def teacher_projections(self, ctx: ForwardContext
                            ) -> Dict[str, torch.Tensor]:
        """The teacher's projections from the shared frozen-trunk output."""
        parts = self.teacher.module
        feats, _ = self.forward_parts(ctx.trunk, parts)
        return {m: parts['projections'][m](f) for m, f in feats.items()}

    def method_losses(self, ctx: ForwardContext) -> Dict[str, torch.Tensor]:
        losses = super().method_losses(ctx)
        student = self.student_projections(ctx)
        losses['loss_supcon'] = self.contrastive(
            torch.stack(list(student.values()), dim=1), ctx.labels)
        if self.distilling:
            losses['loss_distill'] = self.distillation(
                student, self.teacher_projections(ctx))
        else:  # logged as 0 so every iteration has the same keys
            losses['loss_distill'] = ctx.fused_logits.new_zeros(())
        return losses

    def predict_logits(self, trunk_outs, parts: nn.ModuleDict
                       ) -> Dict[str, torch.Tensor]:
        logits = super().predict_logits(trunk_outs, parts)
        if parts is not self.teacher.module:
            # The authors log the teacher's accuracy beside the student's.
            logits['teacher_fused'] = super().predict_logits(
                trunk_outs, self.teacher.module)['fused']
        return logits
