# MBCD Table 4, row "EMA + DL": distillation from the EMA teacher.
_base_ = ['./table4_ema_epic_af.py']
model = dict(distillation=dict(type='CollaborativeDistillationLoss',
                               temperature=1.0, loss_weight=1.0))
