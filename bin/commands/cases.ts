/**
 * `citygrid cases list|show|transition`: the hub's case API from a shell. Talks HTTP only, so it
 * works against any running hub (`--hub`, else $CITYGRID_HUB, else http://127.0.0.1:8080). Logs
 * in as a console user (`--user`, else $CITYGRID_USER; the password only from $CITYGRID_PASSWORD,
 * so it stays out of `ps` and the shell history), acts as that user, and logs out.
 */

const USAGE = `usage: citygrid cases list [--state S] [--district D] [--unit U] [--category C] [--urgency U]
                          [--open] [--overdue] [--limit N] [--offset N] [--json] [--hub URL] [--user ID]
       citygrid cases show <id> [--json] [--hub URL] [--user ID]
       citygrid cases transition <id> <action> [--note TEXT] [--unit U]
                          [--extension-hours H] [--urgency U] [--json] [--hub URL] [--user ID]
  The console user (--user or $CITYGRID_USER, password in $CITYGRID_PASSWORD) is the actor:
  the hub takes the role from its session.`;

const LIST_FILTERS = ['state', 'district', 'unit', 'category', 'urgency', 'limit', 'offset'] as const;

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

function parse(args: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (args[i + 1] !== undefined && !(args[i + 1] as string).startsWith('--'))
      flags.set(a.slice(2), args[++i] as string);
    else flags.set(a.slice(2), true);
  }
  return { positional, flags };
}

class HubError extends Error {}

/** The session cookie (`cg_session=…`) of a login as `user`. */
async function login(hub: string, user: string, password: string): Promise<string> {
  const session = { cookie: '' };
  await call(hub, '', 'POST', '/api/login', { username: user, password }, session);
  return session.cookie;
}

async function call(
  hub: string,
  cookie: string,
  method: string,
  path: string,
  body?: unknown,
  session?: { cookie: string },
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(new URL(path, hub), {
      method,
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    throw new HubError(`cannot reach the hub at ${hub}: ${(err as Error).cause ?? (err as Error).message}`);
  }
  if (session) session.cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const text = await res.text();
  if (res.status === 204) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HubError(`${method} ${path}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) {
    const e = json as { error?: string; message?: string };
    throw new HubError(`${method} ${path}: ${res.status} ${e.error ?? ''}: ${e.message ?? text}`);
  }
  return json;
}

const time = (ms: unknown) => (typeof ms === 'number' ? new Date(ms).toISOString().replace('.000Z', 'Z') : '-');

type CaseJson = Record<string, unknown> & { id: string; state: string };

function line(c: CaseJson): string {
  return [
    c.id,
    c.state,
    c.urgency,
    c.category,
    c.asset ?? '-',
    c.district ?? '-',
    c.unit ?? '-',
    time(c.reportedAt),
    c.overdue ? 'OVERDUE' : '',
  ].join('\t');
}

function detail(c: CaseJson): string {
  const out = [line(c), c.title ? `  ${c.title}` : ''];
  const deadlines = (c.deadlines ?? {}) as Record<string, { dueAt?: number; doneAt?: number; overdueAt?: number }>;
  for (const [stage, d] of Object.entries(deadlines))
    out.push(
      `  ${stage}: due ${time(d.dueAt)}${d.doneAt ? `, done ${time(d.doneAt)}` : ''}${d.overdueAt ? ' OVERDUE' : ''}`,
    );
  out.push(
    `  repeats ${c.repeatCount ?? 0}, signals ${c.signalCount ?? 0}, evidence ${(c.evidence as []).length ?? 0}`,
  );
  out.push('  history:');
  for (const h of (c.history ?? []) as Record<string, unknown>[]) {
    const actor = h.actor as { id: string; role: string };
    out.push(
      `    ${h.seq} ${time(h.at)} ${h.action} ${h.from} -> ${h.to} by ${actor.id} (${actor.role})${h.note ? `: ${h.note}` : ''}`,
    );
  }
  return out.filter((l) => l !== '').join('\n');
}

export async function run(args: string[]): Promise<number> {
  const { positional, flags } = parse(args);
  const [sub, id, action] = positional;
  const hub = String(flags.get('hub') ?? process.env.CITYGRID_HUB ?? 'http://127.0.0.1:8080');
  const json = flags.has('json');
  const str = (name: string) => {
    const v = flags.get(name);
    return typeof v === 'string' ? v : undefined;
  };
  const user = str('user') ?? process.env.CITYGRID_USER;
  const password = process.env.CITYGRID_PASSWORD;
  if (!sub || !['list', 'show', 'transition'].includes(sub)) {
    console.error(USAGE);
    return 2;
  }
  if (!user || password === undefined) {
    console.error('citygrid cases: give the console user (--user or $CITYGRID_USER) and $CITYGRID_PASSWORD');
    return 2;
  }
  let cookie = '';
  try {
    cookie = await login(hub, user, password);
    return await command(sub, id, action);
  } catch (err) {
    if (!(err instanceof HubError)) throw err;
    console.error(`citygrid cases: ${err.message}`);
    return 1;
  } finally {
    if (cookie) await call(hub, cookie, 'POST', '/api/logout').catch(() => undefined);
  }

  async function command(sub: string, id: string | undefined, action: string | undefined): Promise<number> {
    if (sub === 'list') {
      const q = new URLSearchParams();
      for (const f of LIST_FILTERS) if (str(f)) q.set(f, str(f) as string);
      if (flags.has('overdue')) q.set('overdue', 'true');
      if (flags.has('open')) q.set('open', 'true');
      const body = (await call(hub, cookie, 'GET', `/api/cases?${q}`)) as { items: CaseJson[] };
      if (json) console.log(JSON.stringify(body.items, null, 2));
      else for (const c of body.items) console.log(line(c));
      return 0;
    }
    if (sub === 'show' && id) {
      const c = (await call(hub, cookie, 'GET', `/api/cases/${encodeURIComponent(id)}`)) as CaseJson;
      console.log(json ? JSON.stringify(c, null, 2) : detail(c));
      return 0;
    }
    if (sub === 'transition' && id && action) {
      const hours = str('extension-hours');
      const c = (await call(hub, cookie, 'POST', `/api/cases/${encodeURIComponent(id)}/transitions`, {
        action,
        ...(str('note') ? { note: str('note') } : {}),
        ...(str('unit') ? { unit: str('unit') } : {}),
        ...(str('urgency') ? { urgency: str('urgency') } : {}),
        ...(hours ? { extensionHours: Number(hours) } : {}),
      })) as CaseJson;
      console.log(json ? JSON.stringify(c, null, 2) : `${c.id}: ${action} -> ${c.state}`);
      return 0;
    }
    console.error(USAGE);
    return 2;
  }
}
