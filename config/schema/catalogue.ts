/**
 * The case catalogue (案卷分类): component (部件) and event (事件) classes with their national codes
 * (CJ/T 214-2007 lineage, see shared/domain §6.2), each with a default urgency and, per urgency,
 * the time limits to dispatch, to handle and to verify. Cities publish their own tables, so this is
 * data (config/examples/catalogue.yaml), never an enum in code. The city config names the file.
 */
import { z } from 'zod';

/** Urgency levels, least urgent first (一般, 较急, 紧急, 特急). Order matters: a worse signal moves right. */
export const URGENCIES = ['normal', 'elevated', 'urgent', 'critical'] as const;
export type Urgency = (typeof URGENCIES)[number];
export const URGENCY_NAMES: Record<Urgency, string> = {
  normal: '一般',
  elevated: '较急',
  urgent: '紧急',
  critical: '特急',
};

export const CLASS_KINDS = ['component', 'event'] as const;
export type ClassKind = (typeof CLASS_KINDS)[number];

/** A time limit: `basis` work hours on the city's working calendar, or natural (wall-clock) time. */
export interface TimeLimit {
  ms: number;
  basis: 'work' | 'natural';
}

const LIMIT = /^(\d+(?:\.\d+)?)(m|h|d|wm|wh|wd)$/;
const NATURAL_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses "10m", "4h", "1d" (natural) and "30wm", "1wh", "2wd" (work minutes/hours/days). A work day
 * is `workDayMs` of working time (7.5 h on the default 8:30–12:00, 13:30–17:30 calendar).
 */
export function parseTimeLimit(text: string, workDayMs = 7.5 * 3_600_000): TimeLimit | undefined {
  const m = LIMIT.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = m[2] as string;
  if (unit === 'wm') return { ms: Math.round(n * 60_000), basis: 'work' };
  if (unit === 'wh') return { ms: Math.round(n * 3_600_000), basis: 'work' };
  if (unit === 'wd') return { ms: Math.round(n * workDayMs), basis: 'work' };
  return { ms: Math.round(n * NATURAL_MS[unit as keyof typeof NATURAL_MS]), basis: 'natural' };
}

const limit = (what: string) =>
  z
    .string()
    .regex(LIMIT, 'a time limit such as "0m" (immediate), "15m", "4h", "1d" (natural) or "1wh", "2wd" (work time)')
    .describe(what);

const stageLimits = z
  .object({
    dispatch: limit('From filing (立案) to dispatch. "0m" means immediately.'),
    handle: limit('From dispatch to the unit reporting it handled (处理反馈).'),
    verify: limit('From the handled report to verification (核查). Omitted: no verification deadline.').optional(),
  })
  .strict();

const caseClass = z
  .object({
    kind: z.enum(CLASS_KINDS).describe('component (部件) or event (事件).'),
    code: z
      .string()
      .regex(/^\d{4}$/, 'a 4-digit class code, major (2) + minor (2), e.g. "0208"')
      .describe('Class code: major (2 digits) + minor (2 digits), e.g. 0208 跨河桥, 0406 道路积水.'),
    name: z.string().min(1).describe('Class name as the city table writes it (e.g. 跨河桥).'),
    nameEn: z
      .string()
      .min(1)
      .optional()
      .describe('English name for the console in English (e.g. River bridge); the Chinese name when omitted.'),
    defaultUrgency: z
      .enum(URGENCIES)
      .default('normal')
      .describe('Urgency of a new case of this class. Default normal.'),
    limits: z
      .partialRecord(z.enum(URGENCIES), stageLimits)
      .describe('Time limits per urgency; must include the default urgency, which also serves urgencies not listed.'),
  })
  .strict();

export const catalogueSchema = z
  .object({
    $schema: z.string().optional().describe('Editor hint, ignored.'),
    standardRef: z
      .string()
      .default('CJ/T 214-2007')
      .describe('Which classification and time-limit table this catalogue follows. Default CJ/T 214-2007.'),
    classes: z.array(caseClass).min(1).describe('Component and event classes cases can be raised in.'),
  })
  .strict()
  .superRefine((cat, ctx) => {
    const seen = new Set<string>();
    cat.classes.forEach((c, i) => {
      const key = categoryKey(c.kind, c.code);
      if (seen.has(key))
        ctx.addIssue({ code: 'custom', path: ['classes', i, 'code'], message: `duplicate class ${key}` });
      seen.add(key);
      if (c.limits[c.defaultUrgency] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['classes', i, 'limits'],
          message: `no limits for the default urgency "${c.defaultUrgency}" (have: ${Object.keys(c.limits).join(', ') || 'none'})`,
        });
      }
    });
  });

export type CatalogueConfig = z.output<typeof catalogueSchema>;
export type CaseClass = CatalogueConfig['classes'][number];

/** A category names a class unambiguously (component 0101 上水井盖 and event 0101 私搭乱建 share a code). */
export type CategoryKey = `${ClassKind}:${string}`;
export const categoryKey = (kind: ClassKind, code: string): CategoryKey => `${kind}:${code}`;

export function parseCategoryKey(key: string): { kind: ClassKind; code: string } | undefined {
  const m = /^(component|event):(\d{4})$/.exec(key);
  return m ? { kind: m[1] as ClassKind, code: m[2] as string } : undefined;
}
