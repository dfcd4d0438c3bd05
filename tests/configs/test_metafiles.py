"""Every method folder is a model-zoo entry: a README and an OpenMMLab
model-index ``metafile.yml`` whose configs exist, whose expected results
are the papers' top-1 accuracies, and whose options are cells of the
experiment grid."""
import glob
import os
import os.path as osp

import pytest
import yaml

from mbcd_mmaction.experiments import grid

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FOLDERS = sorted(d for d in os.listdir(osp.join(ROOT, 'configs'))
                 if d != '_base_')


@pytest.mark.parametrize('folder', FOLDERS)
def test_folder_is_a_model_zoo_entry(folder):
    base = osp.join(ROOT, 'configs', folder)
    assert osp.isfile(osp.join(base, 'README.md'))
    with open(osp.join(base, 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    collection, = meta['Collections']
    # the table rows read the collection names ('gmp' is the method GMP on
    # ERM, shown as ERM+GMP)
    if folder == 'gmp':
        assert grid.display_name('gmp') == 'ERM+GMP'
        assert grid.display_name('mbcd_gmp') == 'MBCD+GMP'
    else:
        assert grid.display_name(folder) == collection['Name']
    assert collection['Paper']['Title']
    assert meta['Models']
    cells = {(c.config, tuple(sorted(c.options)))
             for c in grid.table_cells([1])}
    for model in meta['Models']:
        assert model['In Collection'] == collection['Name']
        config = model['Config']
        assert osp.isfile(osp.join(ROOT, config)), config
        for result in model.get('Results', []):
            assert result['Dataset'] in ('EPIC-Kitchens', 'HAC')
            assert 0 < result['Metrics']['Top 1 Accuracy'] < 100
        options = model['Metadata'].get('Options')
        if options and 'modalities=' in options:
            opts = tuple(sorted(tuple(o.split('=')) for o in options.split()))
            assert (config, opts) in cells, model['Name']


def test_every_folder_has_a_metafile():
    assert {osp.basename(osp.dirname(p)) for p in glob.glob(
        osp.join(ROOT, 'configs', '*', 'metafile.yml'))} == set(FOLDERS)
