/** A JSON client for a hub's HTTP API in tests: status and parsed body, whatever the status. */
import { consoleFetch, TEST_SUPERVISOR, type TestConsoleUser } from './console-session.js';

export type JsonApi = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

/** Calls the API as `user` (default the supervisor writeHubConfig configures), logged in on first use. */
export function jsonApi(baseUrl: () => string, user: TestConsoleUser = TEST_SUPERVISOR): JsonApi {
  const call = consoleFetch(baseUrl, user);
  return async <T>(method: string, p: string, body?: unknown) => {
    const res = await call(p, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  };
}
