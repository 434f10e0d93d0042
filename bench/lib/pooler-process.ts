/**
 * Runs the pooler in its own process, so it does not share an event loop (and a core) with the load
 * generator. Prints its port on stdout; exits when its parent closes stdin.
 */
import { startPooler } from './pooler.ts';

const [host, port, user, database, size] = process.argv.slice(2);
const pooler = await startPooler({ host: host!, port: Number(port), user: user!, database: database! }, Number(size));
process.stdout.write(`${pooler.port}\n`);
process.stdin.resume();
process.stdin.on('end', () => void pooler.close().then(() => process.exit(0)));
