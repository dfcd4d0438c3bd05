"""tools/demo.py --help describes the demo's own arguments, not a config
positional it does not take."""
import os.path as osp
import subprocess
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_demo_help_shows_no_config_argument():
    out = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'demo.py'),
                          '--help'], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    usage = out.stdout.split('\n\n')[0]
    assert 'config' not in usage
    assert '--scenario' in out.stdout
    assert 'tools/train.py flag' in out.stdout
