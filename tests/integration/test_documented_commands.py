"""The documented demo-data commands run as written, in the order a user
meets them, in a fresh copy of the repository.

The blocks are the fenced ``bash`` blocks that follow a
``<!-- demo-commands -->`` line in README.md and then in the docs pages in
the order the README lists them. Each line runs in one shell from the
copy's root, after the ones before it (so a command that needs what an
earlier one wrote, or that refuses a directory an earlier one left, fails
here). The only change is the budget: a ``sitecustomize`` on the
subprocesses' path merges ``train_cfg.max_epochs=1`` into every config
mmengine loads, so each training command runs one epoch.
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MARKER = '<!-- demo-commands -->'
BUDGET_HOOK = '''\
import json
import os

_budget = os.environ.get('MBCD_DOCS_TEST_BUDGET')
if _budget:
    from mmengine.config import Config

    _fromfile = Config.fromfile  # a staticmethod of mmengine's Config

    def _fromfile_with_budget(*args, **kwargs):
        cfg = _fromfile(*args, **kwargs)
        if 'train_cfg' in cfg:
            cfg.merge_from_dict(json.loads(_budget))
        return cfg

    Config.fromfile = staticmethod(_fromfile_with_budget)
'''


def documented_pages():
    """README.md, then the docs pages in the order its links give."""
    readme = open(osp.join(REPO, 'README.md')).read()
    pages = ['README.md']
    for link in re.findall(r'\]\((docs/[\w-]+\.md)\)', readme):
        if link not in pages:
            pages.append(link)
    return pages


def demo_command_blocks():
    """``[(page, [command line, ...]), ...]`` of the marked blocks; a
    backslash continues a line."""
    blocks = []
    for page in documented_pages():
        lines = open(osp.join(REPO, page)).read().splitlines()
        for i, line in enumerate(lines):
            if line.strip() != MARKER:
                continue
            assert lines[i + 1].strip() == '```bash', (
                f'{page}:{i + 2}: {MARKER} must be followed by a ```bash '
                'block')
            commands, current = [], ''
            for body in lines[i + 2:]:
                if body.strip() == '```':
                    break
                current += body.rstrip()
                if current.endswith('\\'):
                    current = current[:-1] + ' '
                    continue
                if current.strip() and not current.lstrip().startswith('#'):
                    commands.append(current.strip())
                current = ''
            blocks.append((page, commands))
    return blocks


def test_the_marked_blocks_are_found():
    """The pages this test reads still mark their demo commands (a block
    that loses its marker is no longer run)."""
    pages = {page for page, _ in demo_command_blocks()}
    assert {'README.md', 'docs/performance.md',
            'docs/experiments.md'} <= pages, pages
    assert all(commands for _, commands in demo_command_blocks())


def _fresh_copy(dest):
    """The repository's tracked and unignored files (no data/, work_dirs/
    or caches of this checkout)."""
    files = subprocess.run(
        ['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=REPO,
        check=True, capture_output=True).stdout.decode().split('\0')
    for name in filter(None, files):
        src = osp.join(REPO, name)
        if osp.isfile(src):
            os.makedirs(osp.dirname(osp.join(dest, name)), exist_ok=True)
            shutil.copy2(src, osp.join(dest, name))


def _check_console(console: str, cwd) -> None:
    """The first training shows its summary and first iteration within one
    screen; the full config stays in the log file it names."""
    lines = console.splitlines()
    first = next(i for i, line in enumerate(lines) if 'Epoch(train)' in line)
    assert first < 25, '\n'.join(lines[:first + 1])
    summary = [line for line in lines[:first]
               if 'The full config and environment are in' in line]
    assert len(summary) == 1 and 'train D2+D3 -> test D1' in summary[0]
    for split in ('training', 'validation'):
        assert any(f'{split} data: ' in line for line in lines[:first]), \
            split
    assert 'Config:' not in console and 'UserWarning' not in console
    log_file = summary[0].rsplit(' are in ', 1)[1].rstrip('.')
    log = open(osp.join(str(cwd), log_file)).read()
    assert 'Config:' in log and 'System environment:' in log and \
        'Hooks will be executed' in log


@pytest.mark.slow
def test_documented_demo_commands_run_in_order(tmp_path):
    if not osp.isdir(osp.join(REPO, '.git')):
        pytest.skip('needs the git checkout to copy its files')
    root = tmp_path / 'clone'
    _fresh_copy(str(root))
    hook = tmp_path / 'hook'
    hook.mkdir()
    (hook / 'sitecustomize.py').write_text(BUDGET_HOOK)
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join([str(hook), str(root)]),
               MBCD_DOCS_TEST_BUDGET='{"train_cfg.max_epochs": 1}')
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env['PATH']
    for page, commands in demo_command_blocks():
        for command in commands:
            done = subprocess.run(['bash', '-c', command], cwd=root, env=env,
                                  capture_output=True, text=True,
                                  timeout=600)
            assert done.returncode == 0, (
                f'{page}: `{command}` exited {done.returncode}:\n'
                f'{done.stdout[-3000:]}\n{done.stderr[-3000:]}')
            # Python only reports a failing sitecustomize, and goes on
            assert 'Error in sitecustomize' not in done.stderr, done.stderr
            if command == 'python tools/demo.py':
                _check_console(done.stdout + done.stderr, root)
    # the budget held: the demo trained one epoch, not its configured 20
    demo = root / 'work_dirs' / 'mbcd_epic_demo'
    assert (demo / 'epoch_1.pth').is_file()
    assert not list(demo.glob('epoch_[2-9]*.pth'))
