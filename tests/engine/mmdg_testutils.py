"""Helpers of the engine, DDP and fault tests: real tools/train.py and
tools/dist_train.sh runs of the demo config on tiny generated data."""
import os
import os.path as osp
import socket
import subprocess
import sys

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
DEMO_CONFIG = osp.join(REPO, 'configs', 'mbcd', 'mbcd_epic_demo.py')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def subprocess_env() -> dict:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [HERE, REPO, env.get('PYTHONPATH', '')])
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    env['PORT'] = str(free_port())
    env['OMP_NUM_THREADS'] = '1'
    for key in ('LOCAL_RANK', 'RANK', 'WORLD_SIZE', 'MASTER_ADDR',
                'MASTER_PORT'):
        env.pop(key, None)
    return env


def write_config(directory, body: str, name='cfg') -> str:
    """A config inheriting the demo config, plus ``body``."""
    path = osp.join(str(directory), name + '.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = [{DEMO_CONFIG!r}]\n"
                "custom_imports = dict(imports=['mbcd_mmaction.registration', "
                "'mmdg_test_hooks'], allow_failed_imports=False)\n" + body)
    return path


def data_options(data_root, batch_size=None):
    opts = ['log_level=WARNING']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [f'{loader}.dataset.data_root={data_root}',
                 f'{loader}.num_workers=0',
                 f'{loader}.persistent_workers=False']
    if batch_size is not None:
        opts.append(f'train_dataloader.batch_size={batch_size}')
    return opts


def run(cmd, cwd, timeout=600, check=True):
    proc = subprocess.run(cmd, cwd=str(cwd), env=subprocess_env(),
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f'{cmd} exited with {proc.returncode}\n'
            f'{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}')
    return proc


def train_cmd(config, work_dir, *options, extra_args=()):
    return [sys.executable, osp.join(REPO, 'tools', 'train.py'), config,
            '--work-dir', str(work_dir), *extra_args, '--cfg-options',
            *options]


def dist_train_cmd(config, nproc, work_dir, *options, extra_args=()):
    return ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), config,
            str(nproc), '--work-dir', str(work_dir), *extra_args,
            '--cfg-options', *options]
