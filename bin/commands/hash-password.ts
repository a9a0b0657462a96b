import { hashPassword } from '../../hub/src/broker/passwords.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `citygrid hash-password`: reads a password on stdin (so it stays out of the shell history and
 * `ps`) and prints its scrypt hash for `passwordHash:` in the hub config.
 */
export async function run(args: string[]): Promise<number> {
  if (args.length > 0) {
    console.error('usage: printf %s "$PASSWORD" | citygrid hash-password');
    return 2;
  }
  const password = await readStdin();
  if (!password) {
    console.error('citygrid hash-password: no password on stdin');
    return 1;
  }
  console.log(await hashPassword(password));
  return 0;
}
