#!/usr/bin/env python
"""Convert the VGGSound audio ResNet-18 (``H.pth.tar`` from
github hche11/VGGSound, a.k.a. ``vggsound_avgpool.pth.tar``) into an
mmengine checkpoint for mmaction's ``ResNet(depth=18, in_channels=1)``.

    python tools/convert_vggsound_resnet18.py H.pth.tar \
        checkpoints/vggsound_resnet18_mmaction.pth

Use it in a config as the audio encoder's
``pretrained='checkpoints/vggsound_resnet18_mmaction.pth'`` (loaded
strictly; see configs/_base_/models/mm_encoders.py).
The input is read with ``torch.load(weights_only=True)``: it holds tensors
and containers only.
"""
import argparse
import os
import pickle
import os.path as osp


def convert(src: str, dst: str) -> dict:
    import torch

    import mbcd_mmaction.registration  # noqa: F401  (registers components)
    from mbcd_mmaction.compat import explain_refused_checkpoint
    from mbcd_mmaction.models.encoders.vggsound import \
        convert_vggsound_state_dict
    try:
        ckpt = torch.load(src, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        # torch's own message advises weights_only=False: never for a
        # downloaded file
        raise pickle.UnpicklingError(
            explain_refused_checkpoint(src, err)) from None
    state_dict = convert_vggsound_state_dict(ckpt)
    out = dict(state_dict=state_dict,
               meta=dict(source=osp.basename(src),
                         converted_by='tools/convert_vggsound_resnet18.py'))
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    tmp = dst + '.tmp'
    torch.save(out, tmp)
    os.replace(tmp, dst)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='VGGSound checkpoint (H.pth.tar)')
    parser.add_argument('dst', help='output mmengine checkpoint (.pth)')
    args = parser.parse_args(argv)
    out = convert(args.src, args.dst)
    print(f'Saved {len(out["state_dict"])} tensors to {args.dst}')


if __name__ == '__main__':
    main()
