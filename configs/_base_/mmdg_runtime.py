# Runtime for multi-modal DG on top of MMAction2's default runtime.
_base_ = ['mmaction::_base_/default_runtime.py']

custom_imports = dict(imports=['mbcd_mmaction.registration'], allow_failed_imports=False)

# Crash-safe checkpoints (atomic write, prune after save), auto-resume that
# checks the file, mid-epoch resume (mbcd_mmaction/engine/runner).
runner_type = 'MMDGRunner'

# Model selection (the paper's rule): keep the checkpoint with the best fused
# accuracy on the sources' validation data; tools/train.py tests that one on
# the target domain when training ends.
default_hooks = dict(
    # iter_interval: also a resumable checkpoint every 100 iterations inside
    # an epoch (only the newest is kept), for --resume after a kill.
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=1,
                    save_best='acc/fused_top1', rule='greater',
                    iter_interval=100),
    logger=dict(type='LoggerHook', interval=10),
    # --resume continues the random streams (dropout masks, augmentation).
    random_state=dict(type='RandomStateHook'),
    # NaN/inf loss: stop at once, naming the iteration and the losses.
    non_finite_loss=dict(type='NonFiniteLossHook'),
    # With a training dataset's skip_unreadable=True: how many samples each
    # epoch skipped (summed over ranks).
    skipped_samples=dict(type='SkippedSamplesHook'),
    # One JSON line per validation in <work_dir>/eval_log.jsonl: source-val
    # and target accuracy, teacher and student (offline model selection,
    # training curves). Costs one pass over the target split per model and
    # validation: evaluate_target=False or target_interval=N to reduce it.
    eval_log=dict(type='EvalLogHook'),
    # SIGTERM / SIGUSR1 (a scheduler's preemption or time limit): finish the
    # iteration, write a resumable iter_<n>.pth, exit with 128 + signal.
    preemption=dict(type='PreemptionCheckpointHook'),
    # Distributed runs: a rank whose step lasts stall_seconds (default
    # max(300 s, 20x the median step)) logs what it waits for and which
    # peer is behind (<work_dir>/.heartbeat/rank<r>.json); a no-op otherwise.
    peer_watchdog=dict(type='PeerWatchdogHook'))

# Fused and per-modality accuracy (pred_score is a dict of scores).
val_evaluator = dict(type='AccMetric',
                     metric_options=dict(top_k_accuracy=dict(topk=(1, ))))
test_evaluator = val_evaluator

randomness = dict(seed=0, deterministic=False)
