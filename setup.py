from setuptools import find_packages, setup

setup(
    name='mbcd_mmaction',
    version='0.1.0',
    description=('Multi-modal domain generalisation (MBCD, GMP and baselines) '
                 'as an MMAction2 1.x plugin'),
    packages=find_packages(include=['mbcd_mmaction', 'mbcd_mmaction.*']),
    python_requires='>=3.9',
    install_requires=[
        # torch first: the CPU build is enough; any >=2.0 works.
        'torch>=2.0',
        'mmengine==0.10.7',
        # mmcv-lite: the pure-Python mmcv. mmaction 1.2.0 asserts mmcv<2.2.0.
        'mmcv-lite>=2.0.0,<2.2.0',
        # 1.2.0 is the release whose `mmaction::` config inheritance works;
        # its import needs the fix in mbcd_mmaction/compat.py.
        'mmaction2==1.2.0',
        # mmaction 1.2.0 imports it without declaring it.
        'importlib_metadata',
        # mmengine 0.10.7 imports pkg_resources, removed in setuptools 82.
        'setuptools<82',
        'numpy',
        'scipy',
        'pandas',
        'decord>=0.6.0',
        'librosa>=0.10',
        'soundfile',
        # The one OpenCV this project names: mmaction2 1.2.0 requires it
        # (cv2 with the contrib modules; tools/data uses its TV-L1 flow).
        # mmengine and mmcv-lite require opencv-python, which pip installs
        # beside it into the same cv2 package (README, Install).
        'opencv-contrib-python',
        # tools/data: audio tracks of raw videos (wheel with bundled ffmpeg).
        'av',
        # tools/sweep.py: runs as local or Slurm jobs.
        'submitit',
        # tools/analyze.py: plots and t-SNE.
        'matplotlib',
        'scikit-learn',
    ],
    # pytest-xdist: the suite runs in parallel (README, "Test").
    extras_require={'tests': ['pytest', 'pytest-xdist'],
                    'tb': ['tensorboard'], 'wandb': ['wandb']},
)
