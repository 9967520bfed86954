// The crash test on PostgreSQL, the scale-out store: the same load, kills and checks as
// crash.test.mjs (read its header), on a fresh schema of the test cluster, ACP_CRASH_PG_KILLS
// times (20 in `make test`, CRASH_KILLS in `make crash-test`). After each restart the new
// gateway makes the notifications its killed predecessor had claimed due at once (their
// claimer's advisory lock ended with its connections), so subscriptions resume as on SQLite.
process.env.ACP_CRASH_STORE = 'postgres';
await import('./crash.test.mjs');
