// For the launcher: prints its environment, then rank `FAIL_RANK` exits with code 3 while the
// others wait (they must be stopped by the launcher).
const rank = Number(process.env.RANK);
console.log(`hello ${process.env.RANK}/${process.env.WORLD_SIZE} local ${process.env.LOCAL_RANK}/${process.env.LOCAL_WORLD_SIZE} at ${process.env.MASTER_ADDR}:${process.env.MASTER_PORT}`);
process.stderr.write(`err line\n`);
if (process.env.FAIL_RANK === undefined) process.exit(0);
if (rank === Number(process.env.FAIL_RANK)) setTimeout(() => process.exit(3), 300);
else setTimeout(() => {}, 60_000);
