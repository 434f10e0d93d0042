/**
 * Runs the pooler in its own process, so it does not share an event loop (and a core) with the load
 * generator. Prints its port on stdout; takes `delay <ms>` lines on stdin (answering `ok` to each);
 * exits when its parent closes stdin.
 */
import { startPooler } from './pooler.ts';

const [host, port, user, database, size] = process.argv.slice(2);
const pooler = await startPooler({ host: host!, port: Number(port), user: user!, database: database! }, Number(size));
process.stdout.write(`${pooler.port}\n`);
let input = '';
process.stdin.on('data', (chunk: Buffer) => {
  input += chunk.toString();
  for (let end = input.indexOf('\n'); end >= 0; end = input.indexOf('\n')) {
    const [command, value] = input.slice(0, end).trim().split(' ');
    input = input.slice(end + 1);
    if (command === 'delay') void pooler.setRoundTripDelay(Number(value)).then(() => process.stdout.write('ok\n'));
  }
});
process.stdin.on('end', () => void pooler.close().then(() => process.exit(0)));
