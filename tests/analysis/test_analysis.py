"""The analyses on a tiny trained recognizer whose labels are carried by
the audio input alone (flow is noise): their numbers respond to the input
as they must."""
import json

import pytest
import torch
from mmaction.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import DefaultScope

from mbcd_mmaction.analysis import (TargetData, drop_probabilities, flatness,
                                    mechanism_curves, missing_modality,
                                    modality_noise, training_curves,
                                    tsne_embeddings)
from tests.models import tiny

MODS = ('flow', 'audio')


def _batch(n, seed, patterns):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, tiny.NUM_CLASSES, (n, ), generator=g)
    audio = patterns[labels] + 0.3 * torch.randn(
        (n, *tiny.SHAPES['audio']), generator=g)
    flow = torch.randn((n, *tiny.SHAPES['flow']), generator=g)
    return dict(flow=flow, audio=audio), labels


@pytest.fixture(scope='module')
def trained():
    """ERM on flow + audio, 40 steps; audio carries the class. A module
    fixture is set up before conftest's scope fixture: it sets its own."""
    with DefaultScope.overwrite_default_scope('mmaction'):
        return _train()


def _train():
    torch.manual_seed(0)
    # no init_weights: nothing is pretrained, and mmengine's init log would
    # write to a previous test runner's closed log file
    model = MODELS.build(tiny.recognizer_cfg(MODS))
    patterns = torch.randn((tiny.NUM_CLASSES, *tiny.SHAPES['audio']),
                           generator=torch.Generator().manual_seed(1))
    wrapper = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='TrainableParamsOptimWrapperConstructor',
        optim_wrapper_cfg=dict(type='OptimWrapper', optimizer=dict(
            type='Adam', lr=1e-3))))(model)
    from mmaction.structures import ActionDataSample
    model.train()
    for step in range(40):
        inputs, labels = _batch(16, 100 + step, patterns)
        samples = [ActionDataSample().set_gt_label(int(y)) for y in labels]
        wrapper.update_params(sum(
            v for k, v in model.loss(inputs, samples).items()
            if 'loss' in k))
    model.eval()
    held_out = [_batch(16, 1000 + i, patterns) for i in range(4)]
    return model, TargetData(lambda: iter(held_out), MODS)


def _fused(result):
    return [row['accuracy']['fused'] for row in result['rows']]


def test_noise_on_the_ignored_modality_changes_nothing(trained):
    model, data = trained
    flow = modality_noise(model, data, 'flow', stds=(0, 0.5, 1))
    audio_head = [r['accuracy']['audio'] for r in flow['rows']]
    assert len(set(audio_head)) == 1  # the audio head never sees flow
    assert _fused(flow)[0] > 80  # learned
    assert len(set(_fused(flow))) == 1, _fused(flow)


def test_noise_on_the_relied_on_modality_lowers_accuracy(trained):
    model, data = trained
    audio = modality_noise(model, data, 'audio', stds=(0, 1, 3))
    fused = _fused(audio)
    assert fused[0] > fused[1] > fused[2], fused
    assert fused[2] < 60
    with pytest.raises(KeyError, match='rgb'):
        modality_noise(model, data, 'rgb')


def test_removing_the_relied_on_modality_lowers_accuracy(trained):
    model, data = trained
    rows = {tuple(r['removed']): r['accuracy']['fused']
            for r in missing_modality(model, data)['rows']}
    assert set(rows) == {(), ('flow', ), ('audio', )}
    assert rows[('audio', )] < rows[()] - 30
    assert rows[('flow', )] > rows[('audio', )]


def test_flatness_loss_increase_grows_with_the_radius(trained):
    model, data = trained
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = flatness(model, data, radii=(0, 20, 60), num_directions=2)
    increase = [r['loss_increase'] for r in result['rows']]
    assert increase[0] == pytest.approx(0, abs=1e-6)
    assert 0 < increase[1] < increase[2], increase
    after = model.state_dict()  # the analysed model is left unchanged
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_tsne_separates_the_classes(trained):
    model, data = trained
    result = tsne_embeddings(model, data, perplexity=10)
    points = torch.tensor(result['points'])
    labels = torch.tensor(result['labels'])
    assert points.shape == (64, 2)
    dist = torch.cdist(points, points)
    same = labels[:, None] == labels[None, :]
    assert dist[same].mean() < 0.5 * dist[~same].mean()


def test_training_curves_from_the_eval_log(tmp_path):
    with open(tmp_path / 'eval_log.jsonl', 'w') as f:
        for epoch, (val, target) in enumerate([(0.5, 0.25), (0.75, 0.5)], 1):
            f.write(json.dumps(dict(
                epoch=epoch, selected='teacher',
                val=dict(teacher={'acc/fused_top1': val}),
                target=dict(teacher={'acc/fused_top1': target}))) + '\n')
    run = training_curves([str(tmp_path)], ['ema'])['runs'][0]
    assert run['epochs'] == [1, 2]
    assert run['curves'] == {'val/teacher': [50.0, 75.0],
                             'target/teacher': [25.0, 50.0]}


def test_curves_plot_reads_on_its_own(tmp_path):
    """Chance line, markers on short curves, and the run's method, target
    and model in the legend; the description comes from the dumped
    config."""
    import os.path as osp

    from mmengine.config import Config

    from mbcd_mmaction.analysis import describe_run
    from mbcd_mmaction.analysis.plots import curves_figure
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(repo, 'configs', 'mbcd',
                                   'mbcd_epic_demo.py'))
    cfg.merge_from_dict(dict(target_domain='D2'))
    cfg.dump(str(tmp_path / 'mbcd_epic_demo.py'))
    run = describe_run(str(tmp_path))
    assert (run['method'], run['target'], run['model']) == \
        ('MBCD', ['D2'], 'teacher')
    assert run['chance'] == pytest.approx(100 / cfg.model.num_classes)
    fig = curves_figure(dict(runs=[dict(
        label='mbcd', selected='teacher', epochs=[1, 2, 3], run=run,
        curves={'val/teacher': [50.0, 60.0, 70.0],
                'target/teacher': [None, 40.0, 45.0]})]))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert 'mbcd val: MBCD -> D2 (teacher)' in labels
    assert any(label.startswith('chance') for label in labels)
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert lines['mbcd val: MBCD -> D2 (teacher)'].get_marker() == 'o'
    # epochs without a target evaluation are left out, not drawn as 0
    assert list(lines['mbcd target: MBCD -> D2 (teacher)'].get_xdata()) == \
        [2, 3]
    chance, = [l for l in ax.get_lines() if l.get_label().startswith(
        'chance')]
    assert chance.get_ydata()[0] == pytest.approx(run['chance'])


def _write_scalars(work_dir, timestamp, records):
    vis = work_dir / timestamp / 'vis_data'
    vis.mkdir(parents=True)
    with open(vis / 'scalars.json', 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def test_drop_probabilities_per_epoch_from_the_training_log(tmp_path):
    """Mean of the epoch's logged values; validation records are not
    training records; a resumed launch (later timestamp) replaces the
    epoch it repeats."""
    _write_scalars(tmp_path, '20260101_000000', [
        dict(lr=0.1, epoch=1, iter=4, audio_drop_prob=0.2,
             rgb_drop_prob=0.0),
        dict(lr=0.1, epoch=1, iter=8, audio_drop_prob=0.4,
             rgb_drop_prob=0.1),
        {'acc/fused_top1': 0.5, 'step': 1},
        dict(lr=0.1, epoch=2, iter=12, audio_drop_prob=0.9,
             rgb_drop_prob=0.0)])
    _write_scalars(tmp_path, '20260101_010000', [
        dict(lr=0.1, epoch=2, iter=12, audio_drop_prob=0.6,
             rgb_drop_prob=0.0)])
    drop = drop_probabilities(str(tmp_path))
    assert drop['epochs'] == [1, 2]
    assert drop['audio'] == [pytest.approx(0.3), pytest.approx(0.6)]
    assert drop['rgb'] == [pytest.approx(0.05), 0.0]
    assert drop['flow'] == [None, None]


def test_mechanism_curves_per_modality_and_teacher_vs_student(tmp_path):
    with open(tmp_path / 'eval_log.jsonl', 'w') as f:
        for epoch, (audio, rgb) in enumerate([(0.5, 0.125), (0.75, 0.25)],
                                             1):
            f.write(json.dumps(dict(
                epoch=epoch, selected='teacher',
                val=dict(teacher={'acc/fused_top1': 0.5,
                                  'acc/audio_top1': audio,
                                  'acc/rgb_top1': rgb},
                         student={'acc/fused_top1': 0.25,
                                  'acc/audio_top1': 0.0}))) + '\n')
    run = mechanism_curves([str(tmp_path)], ['mbcd'])['runs'][0]
    # the validated model's heads (the teacher's, not the student's)
    assert run['modalities'] == {'audio': [50.0, 75.0],
                                 'rgb': [12.5, 25.0]}
    assert run['fused'] == {'val/teacher': [50.0, 50.0],
                            'val/student': [25.0, 25.0]}
    assert run['drop']['epochs'] == []


def test_curves_line_up_with_epochs_when_a_model_is_scored_sometimes(
        tmp_path):
    """target_interval=2: the target is scored on epochs 2 and 3 only; its
    curve has None on epoch 1, not its epoch-2 value at epoch 1."""
    with open(tmp_path / 'eval_log.jsonl', 'w') as f:
        for epoch in (1, 2, 3):
            record = dict(epoch=epoch, selected='student',
                          val=dict(student={'acc/fused_top1': 0.25 * epoch}))
            if epoch > 1:
                record['target'] = dict(
                    student={'acc/fused_top1': 0.125 * epoch})
            f.write(json.dumps(record) + '\n')
    for run, key in ((training_curves([str(tmp_path)])['runs'][0], 'curves'),
                     (mechanism_curves([str(tmp_path)])['runs'][0], 'fused')):
        assert run[key]['target/student'] == [None, 25.0, 37.5]
        assert run[key]['val/student'] == [25.0, 50.0, 75.0]
