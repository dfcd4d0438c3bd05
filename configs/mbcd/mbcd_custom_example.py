# MBCD on your own domains, no code: one annotation file in the generic
# format of mbcd_mmaction/datasets/multimodal_dg.py (README, "Data"):
#
#   domain,split,label,rgb,flow_x,flow_y,audio[,start,stop]
#
# Set `ann_file`, `data_root`, `all_domains`, `classes` below, then e.g.
#   python tools/data/check_dataset.py configs/mbcd/mbcd_custom_example.py
#   python tools/train.py configs/mbcd/mbcd_custom_example.py \
#       --cfg-options target_domain=street
# Protocols as for HAC: protocol='single_source' + source_domain=...,
# protocol='in_domain'. A target domain is tested on all its rows
# (target_split 'all'; set target_split = 'test' to use its test rows only).
_base_ = ['./mbcd_hac.py']

ann_file = 'data/custom/annotations.csv'
data_root = 'data/custom'
all_domains = ['kitchen', 'garage', 'street']
classes = ['open', 'close', 'pour']
target_domain = 'street'
modalities = ('rgb', 'flow', 'audio')
num_classes = len(classes)
model = dict(num_classes=num_classes)

# all_domains=None: apply_protocol copies the top-level `all_domains` in, so
# --cfg-options all_domains=[...] reaches the datasets (like `modalities`).
_dataset = dict(type='MultiModalDGDataset', ann_file=ann_file,
                data_root=data_root, all_domains=None, classes=classes)
train_dataloader = dict(dataset=dict(_dataset, _delete_=True,
                                     domains=None, split='train',
                                     modalities=modalities,
                                     pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(_dataset, _delete_=True,
                                   domains=None, split='test',
                                   modalities=modalities,
                                   pipeline={{_base_.test_pipeline}},
                                   test_mode=True))
test_dataloader = val_dataloader
