"""On CPU the runner keeps freed host memory mapped (glibc malloc), so a
training iteration does not fault its memory in again; the setting is
checked by its effect on the resident set of a fresh process."""
import glob
import subprocess
import sys
import textwrap

import pytest
import torch

from apis_testutils import write_tiny_config

# Frees 256 MiB of 8 MiB tensors twice and prints how much of it is still
# resident. glibc's default depends on the process's history (its mmap
# threshold adapts), so both modes start from settings that return freed
# memory at once; 'retain' then applies ours, which must override them.
_CYCLE = textwrap.dedent('''
    import ctypes, sys, torch
    from mbcd_mmaction.engine.runner.host_memory import \\
        retain_freed_host_memory

    def rss():
        with open('/proc/self/status') as f:
            return next(int(l.split()[1]) * 1024 for l in f
                        if l.startswith('VmRSS:'))

    libc = ctypes.CDLL('libc.so.6')
    assert libc.mallopt(-1, 0) and libc.mallopt(-3, 1 << 20)  # trim, mmap
    if sys.argv[1] == 'retain':
        assert retain_freed_host_memory()
    base = rss()
    for _ in range(2):
        xs = [torch.ones(2 * 1024 * 1024) for _ in range(32)]
        del xs
    print(rss() - base)
''')


@pytest.mark.skipif(not sys.platform.startswith('linux'),
                    reason='glibc and /proc')
def test_freed_memory_stays_mapped_only_when_retained():
    kept = {}
    for mode in ('release', 'retain'):
        proc = subprocess.run([sys.executable, '-c', _CYCLE, mode],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        kept[mode] = int(proc.stdout.split()[-1])
    mib = 1024 * 1024
    assert kept['release'] < 64 * mib, kept  # returned to the kernel
    assert kept['retain'] > 200 * mib, kept  # kept for the next iteration


def test_runner_applies_it_on_cpu_and_refuses_a_bad_value(tmp_path):
    from mbcd_mmaction.apis import build_train_parser, setup_cfg, train
    config = write_tiny_config(tmp_path, name='mem_cfg', max_epochs=1)
    with open(config, 'a') as f:
        f.write("default_scope = 'mmaction'\nrunner_type = 'MMDGRunner'\n"
                "log_level = 'INFO'\n")

    def cfg(work, *extra):
        return setup_cfg(build_train_parser().parse_args(
            [config, '--work-dir', str(tmp_path / work), *extra]))

    # 'auto' applies it without a GPU; a GPU host forces it for the test
    train(cfg('auto') if not torch.cuda.is_available() else
          cfg('auto', '--cfg-options', 'env_cfg.retain_host_memory=True'))
    log, = glob.glob(str(tmp_path / 'auto' / '*' / '*.log'))
    with open(log) as f:
        assert 'freed blocks kept for reuse: applied' in f.read()
    with pytest.raises(ValueError, match='retain_host_memory'):
        train(cfg('bad', '--cfg-options', 'env_cfg.retain_host_memory=yes'))
