/** The route table of the API guard: every route has a rule, unknown routes are supervisor-only. */
import { describe, expect, it } from 'vitest';
import { findRule, ROUTES } from '../../../hub/src/http/guard.js';

describe('API route table', () => {
  it('matches patterns by segment, HEAD as GET, and lists no route twice', () => {
    expect(findRule('GET', '/api/cases/CG-1')?.path).toBe('/api/cases/:id');
    expect(findRule('HEAD', '/api/cases/CG-1')?.path).toBe('/api/cases/:id');
    expect(findRule('POST', '/api/cases/CG-1/transitions')?.path).toBe('/api/cases/:id/transitions');
    expect(findRule('GET', '/api/cases/CG-1/transitions')).toBeUndefined();
    expect(findRule('DELETE', '/api/cases/CG-1')).toBeUndefined();
    expect(findRule('GET', '/api/cases/CG-1/x/y')).toBeUndefined();
    const keys = ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives every route at least the city supervisor, and keeps supervisor-only what the brief says', () => {
    for (const r of ROUTES) expect(r.roles, `${r.method} ${r.path}`).toContain('city_supervisor');
    expect(findRule('GET', '/api/evaluation')?.roles).toEqual(['city_supervisor']);
    expect(findRule('PUT', '/api/profile')?.roles).toEqual(['city_supervisor']);
    expect(findRule('GET', '/api/me')?.roles).toHaveLength(3);
  });
});
