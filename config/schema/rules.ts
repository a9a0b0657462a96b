/**
 * Case rules (config/examples/rules.yaml, named by the city config's `rules:`): which readings and
 * camera events raise signals in which category. Each numeric limit is given per profile (normal,
 * flood, snow): the hub switches profile when the city is in flood or snow operation, and a
 * profile a rule does not list uses its `normal` values.
 */
import { z } from 'zod';
import { URGENCIES } from './catalogue.js';
import { duration } from './common.js';

export const PROFILES = ['normal', 'flood', 'snow'] as const;
export type Profile = (typeof PROFILES)[number];

const byProfile = <T extends z.ZodType>(value: T, what: string) =>
  z
    .object({
      normal: value.describe(`${what} in normal operation.`),
      flood: value.optional().describe(`${what} in flood operation; normal when omitted.`),
      snow: value.optional().describe(`${what} in snow operation; normal when omitted.`),
    })
    .strict()
    .describe(`${what}, per profile.`);

const level = z
  .object({
    at: z.number().describe('Value at which the level is reached (crossed in the rule’s direction).'),
    urgency: z.enum(URGENCIES).describe('Urgency of the case at this level.'),
  })
  .strict();

const common = {
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/, 'a kebab-case rule id')
    .describe('Rule id, kebab-case, never renamed (rule state is keyed by it).'),
  description: z.string().optional().describe('What the rule watches, for operators.'),
  category: z
    .string()
    .regex(/^(component|event):\d{4}$/, 'a category such as "event:0406"')
    .describe('Catalogue category of the case the rule raises, e.g. event:0406.'),
  urgency: z
    .enum(URGENCIES)
    .optional()
    .describe('Urgency of a raised case; the class’s default urgency when omitted (threshold levels set their own).'),
  match: z
    .object({
      deviceKinds: z.array(z.string()).default([]).describe('Reading kinds (device kinds), e.g. flood. Empty: any.'),
      assetKinds: z.array(z.string()).default([]).describe('Kinds of the asset the device is on. Empty: any.'),
      assets: z.array(z.string()).default([]).describe('Asset ids. Empty: any.'),
    })
    .strict()
    .prefault({})
    .describe('Which devices the rule applies to; all conditions must hold.'),
  hold: duration('Readings back to normal for this long mark the case for verification. Default 10m.').prefault('10m'),
  autoClose: z
    .boolean()
    .default(false)
    .describe(
      'Close the case (as the system) once back to normal for `hold`, instead of asking a person. Default false.',
    ),
  autoFile: z
    .boolean()
    .default(false)
    .describe('High-confidence rule: the system accepts and files the case at once. Default false.'),
};

const field = z
  .string()
  .regex(/^[a-z][a-z0-9_]*$/, 'a snake_case field name')
  .describe('Reading field, e.g. depth_cm.');

const threshold = z
  .object({
    ...common,
    type: z.literal('threshold').describe('Value crosses levels, held for minDuration; clears past hysteresis.'),
    field,
    direction: z
      .enum(['above', 'below'])
      .default('above')
      .describe('above: high values are bad; below: low ones. Default above.'),
    levels: byProfile(z.array(level).min(1), 'Levels, least severe first'),
    hysteresis: z
      .number()
      .min(0)
      .default(0)
      .describe('How far back past a level the value must go to leave it. Default 0.'),
    minDuration: duration('How long a level must hold before it is signalled. Default 0s.').prefault('0s'),
  })
  .strict();

const rate = z
  .object({
    ...common,
    type: z.literal('rate').describe('Change of a value over a window faster than a limit.'),
    field,
    window: duration('Window the change is measured over. Default 1h.').prefault('1h'),
    direction: z.enum(['rise', 'fall', 'both']).default('rise').describe('Which changes count. Default rise.'),
    perHour: byProfile(z.number().positive(), 'Largest allowed change per hour'),
  })
  .strict();

const deviation = z
  .object({
    ...common,
    type: z.literal('deviation').describe('Value far from the device’s own recent baseline (EWMA mean and spread).'),
    field,
    samples: z.number().int().min(2).default(60).describe('Baseline length in samples (EWMA span). Default 60.'),
    sigmas: byProfile(z.number().positive(), 'Allowed distance from the baseline mean, in standard deviations'),
    minDeviation: z
      .number()
      .min(0)
      .default(0)
      .describe('Smallest absolute distance that counts (a flat baseline has no spread). Default 0.'),
  })
  .strict();

const staleness = z
  .object({
    ...common,
    type: z.literal('staleness').describe('A device silent for longer than expected.'),
    maxSilence: byProfile(duration('Longest silence, e.g. "15m"'), 'Longest silence'),
  })
  .strict();

const kOfN = z
  .object({
    ...common,
    type: z.literal('k-of-n').describe('k devices of a kind in one grid cell or asset over a limit within a window.'),
    field,
    scope: z
      .enum(['asset', 'grid'])
      .default('asset')
      .describe('Where the devices are counted together. Default asset.'),
    k: z.number().int().min(1).describe('How many devices must agree.'),
    above: byProfile(z.number(), 'Value a device must reach to count'),
    window: duration('A device counts when its reading over the limit is at most this old. Default 10m.').prefault(
      '10m',
    ),
  })
  .strict();

const camera = z
  .object({
    ...common,
    type: z.literal('camera').describe('Camera events (analytics, tamper) on an asset.'),
    events: z.array(z.string().min(1)).min(1).describe('Event types that raise, e.g. camera.analytics.'),
    clearAfter: duration('No such event for this long counts as back to normal. Default 30m.').prefault('30m'),
  })
  .strict();

export const ruleSchema = z.discriminatedUnion('type', [threshold, rate, deviation, staleness, kOfN, camera]);

export const rulesConfigSchema = z
  .object({
    $schema: z.string().optional().describe('Editor hint, ignored.'),
    rules: z.array(ruleSchema).describe('The case rules.'),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.rules.forEach((r, i) => {
      if (seen.has(r.id))
        ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${r.id}"` });
      seen.add(r.id);
      if (r.type === 'threshold') {
        for (const p of PROFILES) {
          const levels = r.levels[p];
          levels?.forEach((l, j) => {
            const prev = levels[j - 1];
            if (prev && (r.direction === 'above' ? l.at <= prev.at : l.at >= prev.at)) {
              ctx.addIssue({
                code: 'custom',
                path: ['rules', i, 'levels', p, j, 'at'],
                message: `levels must get more severe: ${l.at} after ${prev.at} (${r.direction})`,
              });
            }
          });
        }
      }
    });
  });

export type RulesConfig = z.output<typeof rulesConfigSchema>;
export type RuleConfig = RulesConfig['rules'][number];
export type ThresholdRule = Extract<RuleConfig, { type: 'threshold' }>;
