-- pgbench: the hot-row ceiling, one counter update of one row per transaction.
update posts set helpful_count = helpful_count + 1 where id = :hot;
