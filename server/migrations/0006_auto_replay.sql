-- Dead-letter auto-replay: how many items each queue replayed in each policy window (windows are counted across
-- tenants, per queue, as ops/dlq/auto_replay.yaml's maxBatchPerWindow says). Platform bookkeeping only.
create table dlq_auto_replay_windows (
  queue text not null,
  window_key text not null,
  replayed integer not null,
  primary key (queue, window_key)
);
